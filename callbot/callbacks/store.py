"""Durable storage of call-back requests: SQLite (WAL, synchronous=FULL) on one box, PostgreSQL for several
gateways.

The bot says "c'est noté" only after `add()` has returned, and `add()` returns only after the row is
committed — on SQLite with synchronous=FULL that means the WAL is fsynced — so a call-back the caller
heard confirmed survives a crash of the process or of the machine.
"""

from __future__ import annotations

import builtins
import csv
import json
import logging
import re
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Connection,
    Engine,
    String,
    and_,
    cast,
    create_engine,
    event,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import OperationalError
from sqlalchemy.sql.elements import ColumnElement

from callbot.callbacks.models import (
    ACTIVE_STATUSES,
    CallbackNotFound,
    CallbackRefused,
    CallbackRequest,
    CallbackStateError,
    CallbackStatus,
    Defer,
    GiveUp,
    Triage,
    context_to_json,
)
from callbot.callbacks.phones import PhonePolicy
from callbot.callbacks.schema import callback_requests as _t
from callbot.clock import Clock, wall_clock
from callbot.dialog.actions import CallContext
from callbot.queues.hours import PARIS

log = logging.getLogger("callbot.callbacks")

DEFAULT_DB_NAME = "callbot.db"
_BOOKING_LOCK = 0x63_61_6C_6C  # "call": serialises bookings on PostgreSQL (limits are checked, then inserted)
_PAST_GRACE = timedelta(minutes=1)
_TABLE_COLUMNS = (
    "id",
    "created_at",
    "due_at",
    "queue",
    "phone",
    "caller",
    "status",
    "attempts",
    "next_attempt_at",
    "last_sip_status",
    "last_reason",
    "call_id",
)


@dataclass(frozen=True, slots=True)
class SlotLimit:
    """At most `capacity` active call-backs of `queue` due in [start, end): checked under the booking lock."""

    queue: str
    start: datetime
    end: datetime
    capacity: int


class StoreError(RuntimeError):
    """The database cannot be used (unreachable, locked, not migrated); one line with the fix."""


def database_url(target: str | Path) -> str:
    """A SQLAlchemy URL from a URL or a data directory (→ SQLite file `callbot.db` in it).

    `postgresql://…` is mapped onto the psycopg 3 driver, the one callbot installs.
    """
    text = str(target)
    if "://" not in text:
        folder = Path(text)
        folder.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{(folder / DEFAULT_DB_NAME).resolve()}"
    for prefix in ("postgresql://", "postgres://"):
        if text.startswith(prefix):
            return "postgresql+psycopg://" + text[len(prefix) :]
    return text


@dataclass(frozen=True)
class CallbackLimits:
    """What any booking meets, with or without a queues file: a call-back is a call the contact centre
    pays for, and any SIP peer can ask for one (its caller id is its own to write).

    Counted over active call-backs (pending or being dialled): `max_per_phone_per_day` for one number on
    one day (Europe/Paris), `max_pending_per_phone` for one number all days together, `max_per_slot` for
    all queues in one `slot_minutes` window and `max_per_day` for all queues on one day; nothing is due
    further than `horizon_days` ahead. `refuse_hidden_caller`: a call whose caller id is hidden or not a
    valid number may not book a call-back at all (it could otherwise name any number to call).
    """

    max_per_phone_per_day: int = 3
    max_pending_per_phone: int = 5
    max_per_slot: int = 20
    max_per_day: int = 200
    slot_minutes: int = 15
    horizon_days: int = 14
    refuse_hidden_caller: bool = False

    def __post_init__(self) -> None:
        counts = (self.max_per_phone_per_day, self.max_pending_per_phone, self.max_per_slot, self.max_per_day)
        if min(counts) < 1 or self.horizon_days < 1:
            raise ValueError("call-back limits and horizon_days must be at least 1")
        if self.slot_minutes <= 0 or 60 % self.slot_minutes:
            raise ValueError(f"slot_minutes={self.slot_minutes}: use a divisor of 60")


class CallbackStore:
    """Call-back requests in a SQL database. Thread-safe; one instance per process is enough.

    `limits` are the abuse limits every booking meets (`max_per_phone_per_day` overrides theirs, for
    callers that only set that one); `phones` decides which numbers may be called at all.
    """

    def __init__(
        self,
        url: str | Path,
        *,
        max_per_phone_per_day: int | None = None,
        limits: CallbackLimits | None = None,
        phones: PhonePolicy | None = None,
        tz: ZoneInfo = PARIS,
        clock: Clock = wall_clock,
    ) -> None:
        self.url = database_url(url)
        limits = limits or CallbackLimits()
        if max_per_phone_per_day is not None:
            limits = replace(limits, max_per_phone_per_day=max_per_phone_per_day)
        self.limits = limits
        self.phones = phones or PhonePolicy()
        self.tz = tz
        self._clock = clock
        self.engine = _engine(self.url)
        self.dialect = self.engine.dialect.name

    # ------------------------------------------------------------------------------------ lifecycle

    def migrate(self) -> None:
        """Create or upgrade the schema to the newest migration (run at start-up; safe to run twice,
        and from several gateways at once on PostgreSQL)."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
        try:
            with self.engine.begin() as connection:
                if self.dialect == "postgresql":
                    connection.execute(select(func.pg_advisory_xact_lock(_BOOKING_LOCK + 1)))
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        except OperationalError as exc:
            raise StoreError(
                f"{self.safe_url}: cannot migrate the call-back database: {_first_line(exc)}"
            ) from None

    def close(self) -> None:
        self.engine.dispose()

    @property
    def safe_url(self) -> str:
        """The URL without its password, for messages."""
        return self.engine.url.render_as_string(hide_password=True)

    # ------------------------------------------------------------------------------------ booking

    def add(
        self,
        *,
        due_at: datetime,
        queue: str,
        phone: str | None,
        context: CallContext | dict[str, Any] | None = None,
        caller: str | None = None,
        call_id: str | None = None,
        slot: SlotLimit | None = None,
        as_of: datetime | None = None,
    ) -> CallbackRequest:
        """Store a call-back; when this returns, the row is committed (durable).

        `as_of` is the call's "now" when the caller confirmed (`ScheduleCallback.decided_at`; default:
        the store's clock): "in the past" is judged against it, so a replayed call (`replay --now`)
        decides as the call did. A request whose time has already passed on the store's own clock is
        then stored `expired`: kept for QA to read, never dialled, holding no slot and no limit.

        Raises CallbackRefused: `caller_id_required` (a call without a valid caller id, when the limits
        say so), `invalid_phone`, `phone_not_allowed`, `past`, `too_far` (beyond the horizon),
        `phone_limit` (too many active call-backs for this number that day), `phone_pending` (…all days
        together), `callbacks_full` / `day_full` (all queues' cap for that window / day), `slot_full`
        (when `slot` is given). Storing the same call's same request again (a retry after a timeout)
        returns the stored one.
        """
        if self.limits.refuse_hidden_caller and call_id is not None and not caller:
            raise CallbackRefused("caller_id_required", "the call has no valid caller id: no call-back")
        number = self.phones.normalise(phone)
        now = self._clock()
        decided = _as_utc(as_of, self.tz) if as_of is not None else now
        due = _as_utc(due_at, self.tz)
        if due < decided - _PAST_GRACE:
            raise CallbackRefused("past", f"{due.isoformat()} is in the past")
        if due > decided + timedelta(days=self.limits.horizon_days):
            raise CallbackRefused(
                "too_far", f"{due.isoformat()} is more than {self.limits.horizon_days} days ahead"
            )
        expired = due < now - _PAST_GRACE
        values = {
            "id": uuid.uuid4(),
            "created_at": now,
            "updated_at": now,
            "due_at": due,
            "queue": queue,
            "phone": number,
            "caller": caller,
            "status": (CallbackStatus.EXPIRED if expired else CallbackStatus.PENDING).value,
            "attempts": 0,
            "next_attempt_at": due,
            "last_reason": (
                f"decided as of {decided.astimezone(self.tz).isoformat(timespec='minutes')}; "
                "its time had passed when stored"
                if expired
                else None
            ),
            "context": context_to_json(context),
            "call_id": call_id,
        }
        with self._booking() as conn:
            if call_id is not None:
                same = conn.execute(
                    select(_t).where(
                        _t.c.call_id == call_id,
                        _t.c.queue == queue,
                        _t.c.due_at == due,
                        _t.c.phone == number,
                        _t.c.status.in_(ACTIVE_STATUSES),
                    )
                ).first()
                if same is not None:
                    return _request(same._mapping)
            if not expired:
                self._check_phone_limit(conn, number, due)
                self._check_overall_limits(conn, due)
                if slot is not None:
                    self._check_slot(conn, slot)
            conn.execute(insert(_t).values(**values))
        log.info(
            "call-back %s stored %s: %s at %s for queue %s",
            values["id"],
            values["status"],
            number,
            due.isoformat(),
            queue,
        )
        return _request({**values, "last_sip_status": None, "locked_by": None, "locked_until": None})

    def _check_phone_limit(self, conn: Connection, phone: str, due: datetime) -> None:
        start, end = _local_day_bounds(due.astimezone(self.tz).date(), self.tz)
        held = conn.execute(
            select(func.count()).where(
                _t.c.phone == phone, _t.c.status.in_(ACTIVE_STATUSES), _t.c.due_at >= start, _t.c.due_at < end
            )
        ).scalar_one()
        if held >= self.limits.max_per_phone_per_day:
            raise CallbackRefused(
                "phone_limit",
                f"{phone} already has {held} call-backs planned on {start.astimezone(self.tz).date()} "
                f"(limit {self.limits.max_per_phone_per_day} a day)",
            )
        pending = conn.execute(
            select(func.count()).where(_t.c.phone == phone, _t.c.status.in_(ACTIVE_STATUSES))
        ).scalar_one()
        if pending >= self.limits.max_pending_per_phone:
            raise CallbackRefused(
                "phone_pending",
                f"{phone} already has {pending} call-backs planned "
                f"(limit {self.limits.max_pending_per_phone})",
            )

    def _check_overall_limits(self, conn: Connection, due: datetime) -> None:
        """All queues together: a cap per slot window and per day, whatever the queues file says."""
        local = due.astimezone(self.tz)
        minutes = self.limits.slot_minutes
        window_start = local.replace(minute=local.minute - local.minute % minutes, second=0, microsecond=0)
        day_start, day_end = _local_day_bounds(local.date(), self.tz)
        for code, start, end, cap in (
            (
                "callbacks_full",
                window_start,
                window_start + timedelta(minutes=minutes),
                self.limits.max_per_slot,
            ),
            ("day_full", day_start, day_end, self.limits.max_per_day),
        ):
            booked = conn.execute(
                select(func.count()).where(
                    _t.c.status.in_(ACTIVE_STATUSES),
                    _t.c.due_at >= _as_utc(start, self.tz),
                    _t.c.due_at < _as_utc(end, self.tz),
                )
            ).scalar_one()
            if booked >= cap:
                raise CallbackRefused(
                    code, f"{booked} call-backs already due between {start.isoformat()} and {end.isoformat()}"
                )

    def _check_slot(self, conn: Connection, slot: SlotLimit) -> None:
        booked = conn.execute(
            select(func.count()).where(
                _t.c.queue == slot.queue,
                _t.c.status.in_((*ACTIVE_STATUSES, CallbackStatus.DONE)),
                _t.c.due_at >= _as_utc(slot.start, self.tz),
                _t.c.due_at < _as_utc(slot.end, self.tz),
            )
        ).scalar_one()
        if booked >= slot.capacity:
            raise CallbackRefused(
                "slot_full", f"the slot at {slot.start.isoformat()} is full ({booked} booked)"
            )

    def due_times(self, queue: str, start: datetime, end: datetime) -> builtins.list[datetime]:
        """Due times of the call-backs that hold a place in [start, end) for `queue` (slot counting)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(_t.c.due_at).where(
                    _t.c.queue == queue,
                    _t.c.status.in_((*ACTIVE_STATUSES, CallbackStatus.DONE)),
                    _t.c.due_at >= _as_utc(start, self.tz),
                    _t.c.due_at < _as_utc(end, self.tz),
                )
            ).scalars()
            return builtins.list(rows)

    # ------------------------------------------------------------------------------------ reading

    def get(self, ident: uuid.UUID | str) -> CallbackRequest:
        key = _uuid(ident)
        with self.engine.connect() as conn:
            row = conn.execute(select(_t).where(_t.c.id == key)).first()
        if row is None:
            raise CallbackNotFound(ident)
        return _request(row._mapping)

    def resolve(self, ident: str) -> CallbackRequest:
        """A request by its id or a unique prefix of it (at least 4 hex digits, as `list` shows 8)."""
        text = ident.strip().lower()
        try:
            return self.get(uuid.UUID(text))
        except ValueError:
            pass
        digits = text.replace("-", "")
        if not re.fullmatch(r"[0-9a-f]{4,32}", digits):
            raise CallbackNotFound(ident)
        hexadecimal = func.replace(cast(_t.c.id, String), "-", "")
        with self.engine.connect() as conn:
            rows = conn.execute(select(_t).where(hexadecimal.like(f"{digits}%")).limit(2)).all()
        if not rows:
            raise CallbackNotFound(ident)
        if len(rows) > 1:
            raise CallbackNotFound(
                ident, f"'{ident}' matches several call-backs — give more digits of the id"
            )
        return _request(rows[0]._mapping)

    def list(
        self,
        *,
        day: date | None = None,
        status: str | CallbackStatus | None = None,
        queue: str | None = None,
        limit: int | None = None,
    ) -> builtins.list[CallbackRequest]:
        """Requests by due time; `day` is a local (Europe/Paris) day of `due_at`."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(_t)
                .where(*self._filters(day, status, queue))
                .order_by(_t.c.due_at, _t.c.id)
                .limit(limit)
            ).all()
        return [_request(row._mapping) for row in rows]

    def _filters(
        self, day: date | None, status: str | CallbackStatus | None, queue: str | None
    ) -> builtins.list[ColumnElement[bool]]:
        conditions: builtins.list[ColumnElement[bool]] = []
        if day is not None:
            start, end = _local_day_bounds(day, self.tz)
            conditions += [_t.c.due_at >= start, _t.c.due_at < end]
        if status is not None:
            conditions.append(_t.c.status == parse_status(str(status)).value)
        if queue is not None:
            conditions.append(_t.c.queue == queue)
        return conditions

    def counts(self) -> dict[str, int]:
        """Number of requests per status (for health checks and the bench)."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(_t.c.status, func.count()).group_by(_t.c.status)).all()
        return {str(status): int(count) for status, count in rows}

    # ------------------------------------------------------------------------------------ ops changes

    def cancel(self, ident: uuid.UUID | str, reason: str = "cancelled") -> CallbackRequest:
        """Cancel a pending request (or one being dialled: the call in progress goes on, but no retry)."""
        key = _uuid(ident)
        now = self._clock()
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(_t)
                .where(_t.c.id == key, _t.c.status.in_(ACTIVE_STATUSES))
                .values(
                    status=CallbackStatus.CANCELLED.value,
                    last_reason=reason,
                    updated_at=now,
                    locked_by=None,
                    locked_until=None,
                )
            ).rowcount
        if not changed:
            current = self.get(key)
            raise CallbackStateError(f"call-back {key} is already {current.status}; nothing to cancel")
        return self.get(key)

    def reschedule(self, ident: uuid.UUID | str, at: datetime) -> CallbackRequest:
        """Move a pending, failed, cancelled or expired request to `at`; attempts start again from zero."""
        key = _uuid(ident)
        now = self._clock()
        due = _as_utc(at, self.tz)
        if due < now - _PAST_GRACE:
            raise CallbackRefused(
                "past", f"{due.astimezone(self.tz).isoformat()} is in the past; give a later time"
            )
        movable = (
            CallbackStatus.PENDING,
            CallbackStatus.FAILED,
            CallbackStatus.CANCELLED,
            CallbackStatus.EXPIRED,
        )
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(_t)
                .where(_t.c.id == key, _t.c.status.in_(movable))
                .values(
                    status=CallbackStatus.PENDING.value,
                    due_at=due,
                    next_attempt_at=due,
                    attempts=0,
                    updated_at=now,
                    last_reason="rescheduled",
                    locked_by=None,
                    locked_until=None,
                )
            ).rowcount
        if not changed:
            current = self.get(key)
            raise CallbackStateError(f"call-back {key} is {current.status}; it cannot be rescheduled now")
        return self.get(key)

    # ------------------------------------------------------------------------------------ export

    def export_csv(
        self,
        fp: IO[str],
        *,
        day: date | None = None,
        status: str | CallbackStatus | None = None,
        queue: str | None = None,
        delimiter: str = ",",
    ) -> int:
        """Write the selected requests as CSV (times in Europe/Paris); returns the number of rows."""
        requests = self.list(day=day, status=status, queue=queue)
        writer = csv.writer(fp, delimiter=delimiter)
        writer.writerow([*_TABLE_COLUMNS, "intent", "summary", "slots", "transcript"])
        for request in requests:
            row = request.as_dict()
            for name in ("created_at", "due_at", "next_attempt_at"):
                row[name] = getattr(request, name).astimezone(self.tz).isoformat(timespec="seconds")
            context = request.context
            writer.writerow(
                [
                    *(row[name] if row[name] is not None else "" for name in _TABLE_COLUMNS),
                    context.get("intent") or "",
                    context.get("summary") or "",
                    json.dumps(context.get("slots") or {}, ensure_ascii=False),
                    " | ".join(context.get("transcript") or ()),
                ]
            )
        return len(requests)

    def export_json(
        self,
        fp: IO[str],
        *,
        day: date | None = None,
        status: str | CallbackStatus | None = None,
        queue: str | None = None,
    ) -> int:
        """Write the selected requests as a JSON array (every column, context included)."""
        requests = self.list(day=day, status=status, queue=queue)
        json.dump([request.as_dict() for request in requests], fp, ensure_ascii=False, indent=2)
        fp.write("\n")
        return len(requests)

    # ------------------------------------------------------------------------------------ dispatching

    def claim_due(
        self, now: datetime, dispatcher_id: str, lease_s: float, limit: int, triage: Triage | None = None
    ) -> builtins.list[CallbackRequest]:
        """Take up to `limit` due requests for dialling: each gets status 'dialing', `locked_by` and a
        lease, committed before this returns — so the caller may dial, and nobody else will until the
        lease runs out. Requests whose lease ran out (a dispatcher died mid-call) are due again.

        `triage` is asked about each due request first: Defer (queue closed: move it, no attempt used),
        GiveUp (mark failed), or None (claim it). PostgreSQL picks rows with FOR UPDATE SKIP LOCKED so
        that dispatchers never wait for each other; SQLite serialises writers, and the claim is an UPDATE
        guarded by the same due condition.
        """
        due = or_(
            and_(_t.c.status == CallbackStatus.PENDING.value, _t.c.next_attempt_at <= now),
            and_(_t.c.status == CallbackStatus.DIALING.value, _t.c.locked_until < now),
        )
        query = select(_t).where(due).order_by(_t.c.next_attempt_at).limit(limit)
        if self.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        claimed: builtins.list[CallbackRequest] = []
        lease_until = now + timedelta(seconds=lease_s)
        with self.engine.begin() as conn:
            for row in conn.execute(query).all():
                request = _request(row._mapping)
                verdict = triage(request) if triage is not None else None
                guard = and_(_t.c.id == request.id, due)
                if isinstance(verdict, Defer):
                    conn.execute(
                        update(_t)
                        .where(guard)
                        .values(
                            status=CallbackStatus.PENDING.value,
                            next_attempt_at=verdict.until,
                            last_reason=verdict.reason,
                            locked_by=None,
                            locked_until=None,
                            updated_at=now,
                        )
                    )
                    continue
                if isinstance(verdict, GiveUp):
                    conn.execute(
                        update(_t)
                        .where(guard)
                        .values(
                            status=CallbackStatus.FAILED.value,
                            last_reason=verdict.reason,
                            locked_by=None,
                            locked_until=None,
                            updated_at=now,
                        )
                    )
                    continue
                changed = conn.execute(
                    update(_t)
                    .where(guard)
                    .values(
                        status=CallbackStatus.DIALING.value,
                        locked_by=dispatcher_id,
                        locked_until=lease_until,
                        attempts=_t.c.attempts + 1,
                        updated_at=now,
                    )
                ).rowcount
                if changed == 1:
                    claimed.append(
                        replace(
                            request,
                            status=CallbackStatus.DIALING,
                            locked_by=dispatcher_id,
                            locked_until=lease_until,
                            attempts=request.attempts + 1,
                            updated_at=now,
                        )
                    )
        return claimed

    def extend_leases(self, ids: Sequence[uuid.UUID], dispatcher_id: str, until: datetime) -> int:
        """Push the lease of requests this dispatcher is still dialling; returns how many it still holds."""
        if not ids:
            return 0
        with self.engine.begin() as conn:
            return conn.execute(
                update(_t)
                .where(
                    _t.c.id.in_(ids),
                    _t.c.locked_by == dispatcher_id,
                    _t.c.status == CallbackStatus.DIALING.value,
                )
                .values(locked_until=until)
            ).rowcount

    def finish(
        self,
        ident: uuid.UUID,
        dispatcher_id: str,
        *,
        status: CallbackStatus,
        sip_status: int | None,
        reason: str,
        next_attempt_at: datetime | None = None,
    ) -> bool:
        """Record an attempt's outcome and release the lease. False when this dispatcher no longer held
        the request (its lease ran out and another took it over, or ops cancelled it meanwhile)."""
        now = self._clock()
        values: dict[str, Any] = {
            "status": status.value,
            "last_sip_status": sip_status,
            "last_reason": reason,
            "locked_by": None,
            "locked_until": None,
            "updated_at": now,
        }
        if next_attempt_at is not None:
            values["next_attempt_at"] = next_attempt_at
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(_t)
                .where(
                    _t.c.id == ident,
                    _t.c.locked_by == dispatcher_id,
                    _t.c.status == CallbackStatus.DIALING.value,
                )
                .values(**values)
            ).rowcount
        return changed == 1

    # ------------------------------------------------------------------------------------ internals

    @contextmanager
    def _booking(self) -> Iterator[Connection]:
        """A write transaction in which limits are counted and the row inserted with no booking in
        between (SQLite: BEGIN IMMEDIATE; PostgreSQL: a transaction-scoped advisory lock)."""
        with self.engine.begin() as conn:
            if self.dialect == "postgresql":
                conn.execute(select(func.pg_advisory_xact_lock(_BOOKING_LOCK)))
            yield conn


def parse_status(text: str) -> CallbackStatus:
    try:
        return CallbackStatus(text.strip().lower())
    except ValueError:
        known = ", ".join(status.value for status in CallbackStatus)
        raise ValueError(f"unknown status '{text}' — use one of {known}") from None


def _engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"isolation_level": None, "check_same_thread": False, "timeout": 30}
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")  # fsync the WAL at every commit
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(connection: Connection) -> None:
            # Take the write lock up front: a read-then-write transaction cannot be overtaken.
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True)


def _as_utc(moment: datetime, tz: ZoneInfo) -> datetime:
    """Aware UTC; a naive datetime is local time in `tz` (ScheduleCallback.at is Europe/Paris)."""
    return (moment.replace(tzinfo=tz) if moment.tzinfo is None else moment).astimezone(UTC)


def _local_day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def _uuid(ident: uuid.UUID | str) -> uuid.UUID:
    if isinstance(ident, uuid.UUID):
        return ident
    try:
        return uuid.UUID(ident.strip())
    except ValueError:
        raise CallbackNotFound(ident) from None


def _request(row: Any) -> CallbackRequest:
    return CallbackRequest(
        id=row["id"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        due_at=row["due_at"],
        queue=row["queue"],
        phone=row["phone"],
        caller=row["caller"],
        status=CallbackStatus(row["status"]),
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        last_sip_status=row["last_sip_status"],
        last_reason=row["last_reason"],
        locked_by=row["locked_by"],
        locked_until=row["locked_until"],
        context=dict(row["context"] or {}),
        call_id=row["call_id"],
    )


def _first_line(exc: BaseException) -> str:
    return str(getattr(exc, "orig", exc)).strip().splitlines()[0]
