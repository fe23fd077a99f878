"""Call records in the call-back store's database (SQLite under `data_dir`, or PostgreSQL).

Written once per call when it ends (`add`), read by `callbot calls …`, the HTTP API and the ops page;
`purge` deletes records (and optionally their recordings and event logs) older than the retention.
"""

from __future__ import annotations

import builtins
import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from sqlalchemy import String, cast, delete, func, insert, select
from sqlalchemy.engine import RowMapping

from callbot.callbacks.store import CallbackStore
from callbot.calls.records import CallRecord, percentile
from callbot.calls.schema import call_records as _t
from callbot.calls.schema import webhook_outbox
from callbot.clock import Clock, wall_clock
from callbot.queues.hours import PARIS

CSV_COLUMNS = (
    "id",
    "call_id",
    "started_at",
    "ended_at",
    "duration_s",
    "direction",
    "caller",
    "called",
    "flow",
    "flow_hash",
    "outcome",
    "queue",
    "end_reason",
    "intents",
    "turns",
    "response_p50_ms",
    "response_p95_ms",
    "errors",
    "error_text",
    "recording_path",
)


@dataclass(frozen=True)
class CallStats:
    """Figures over a period, as `callbot calls stats` and `/api/stats` give them."""

    start: datetime
    end: datetime
    calls: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    transfers: dict[str, int] = field(default_factory=dict)  # per queue
    response_p95_ms: int | None = None
    errors: int = 0  # calls with at least one error

    @property
    def containment(self) -> float | None:
        """Share of the calls the bot resolved without a person (outcome `bot`); None without calls."""
        return self.outcomes.get("bot", 0) / self.calls if self.calls else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "calls": self.calls,
            "containment": None if self.containment is None else round(self.containment, 4),
            "resolved_by_bot": self.outcomes.get("bot", 0),
            "transferred": self.outcomes.get("transferred", 0),
            "transfers_by_queue": dict(sorted(self.transfers.items())),
            "callbacks_booked": self.outcomes.get("callback", 0),
            "abandoned": self.outcomes.get("abandoned", 0),
            "errors": self.errors,
            "response_p95_ms": self.response_p95_ms,
        }


def day_bounds(day: date, tz: ZoneInfo = PARIS) -> tuple[datetime, datetime]:
    """[midnight, next midnight) of a local day."""
    start = datetime.combine(day, time(0), tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)


class CallRecordStore:
    """Reads and writes `call_records`. Thread-safe; shares the engine of a `CallbackStore`."""

    def __init__(self, callbacks: CallbackStore, *, tz: ZoneInfo = PARIS, clock: Clock = wall_clock) -> None:
        self.callbacks = callbacks
        self.engine = callbacks.engine
        self.tz = tz
        self._clock = clock

    # ------------------------------------------------------------------------------------ writing

    def add(self, record: CallRecord) -> CallRecord:
        """Store a finished call (committed when this returns)."""
        with self.engine.begin() as conn:
            conn.execute(insert(_t).values(**_row(record)))
        return record

    def purge(self, older_than_days: int, *, delete_files: bool = True) -> int:
        """Delete the records of calls started more than `older_than_days` ago, with their recording and
        event log when `delete_files`, and webhook deliveries still waiting from before then (they hold
        the same personal data); returns how many records went."""
        if older_than_days < 0:
            raise ValueError("retention must be 0 days or more")
        cutoff = self._clock() - timedelta(days=older_than_days)
        with self.engine.begin() as conn:
            old = conn.execute(select(_t.c.id, _t.c.recording_path).where(_t.c.started_at < cutoff)).all()
            conn.execute(delete(_t).where(_t.c.started_at < cutoff))
            conn.execute(delete(webhook_outbox).where(webhook_outbox.c.created_at < cutoff))
        if delete_files:
            for _id, recording in old:
                if recording:
                    for path in (Path(recording), Path(recording).with_suffix(".jsonl")):
                        path.unlink(missing_ok=True)
        return len(old)

    # ------------------------------------------------------------------------------------ reading

    def get(self, ident: str) -> CallRecord:
        """By record id (or a unique prefix of it) or by SIP Call-ID; KeyError when none or ambiguous."""
        digits = ident.strip().lower().replace("-", "")
        hexadecimal = func.replace(cast(_t.c.id, String), "-", "")
        with self.engine.connect() as conn:
            rows = conn.execute(select(_t).where(_t.c.call_id == ident).limit(2)).all()
            if not rows and re.fullmatch(r"[0-9a-f]{4,32}", digits):
                rows = conn.execute(select(_t).where(hexadecimal.like(f"{digits}%")).limit(2)).all()
        if len(rows) != 1:
            raise KeyError(f"no call {ident!r}" if not rows else f"{ident!r} names several calls")
        return _record(rows[0]._mapping)

    def list(
        self,
        start: datetime | None = None,
        end: datetime | None = None,
        *,
        outcome: str | None = None,
        limit: int | None = None,
    ) -> builtins.list[CallRecord]:
        """Most recent first."""
        query = select(_t).order_by(_t.c.started_at.desc())
        if start is not None:
            query = query.where(_t.c.started_at >= start)
        if end is not None:
            query = query.where(_t.c.started_at < end)
        if outcome is not None:
            query = query.where(_t.c.outcome == outcome)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [_record(row._mapping) for row in conn.execute(query)]

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(_t)).scalar_one())

    def stats(self, start: datetime, end: datetime) -> CallStats:
        """Figures over [start, end): calls, outcomes, transfers per queue, response p95, errors —
        counted by the database; only the calls' p95s are read back, for the period's percentile."""
        period = (_t.c.started_at >= start, _t.c.started_at < end)
        with self.engine.connect() as conn:
            by_outcome = conn.execute(
                select(_t.c.outcome, _t.c.queue, func.count())
                .where(*period)
                .group_by(_t.c.outcome, _t.c.queue)
            ).all()
            with_errors = conn.execute(select(func.count()).where(*period, _t.c.errors > 0)).scalar_one()
            p95s = conn.execute(
                select(_t.c.response_p95_ms).where(*period, _t.c.response_p95_ms.is_not(None))
            ).scalars()
            p95 = percentile(list(p95s), 0.95)
        outcomes: dict[str, int] = {}
        transfers: dict[str, int] = {}
        for outcome, queue, count in by_outcome:
            outcomes[outcome] = outcomes.get(outcome, 0) + count
            if outcome == "transferred":
                transfers[queue or "?"] = transfers.get(queue or "?", 0) + count
        return CallStats(
            start=start,
            end=end,
            calls=sum(outcomes.values()),
            outcomes=outcomes,
            transfers=transfers,
            # The calls' own p95s, pooled: the worst turns of the period (per-turn figures are not kept).
            response_p95_ms=p95,
            errors=int(with_errors),
        )

    def day_stats(self, day: date) -> CallStats:
        return self.stats(*day_bounds(day, self.tz))

    def export_csv(self, fp: IO[str], records: Iterable[CallRecord], delimiter: str = ",") -> int:
        """One line per call, times on the store's clock zone; the transcript stays out (it is personal
        data: `calls show` gives it for one call)."""
        writer = csv.writer(fp, delimiter=delimiter)
        writer.writerow(CSV_COLUMNS)
        count = 0
        for record in records:
            row = record.as_dict()
            row["started_at"] = record.started_at.astimezone(self.tz).isoformat(timespec="seconds")
            row["ended_at"] = record.ended_at.astimezone(self.tz).isoformat(timespec="seconds")
            row["intents"] = " ".join(record.intents)
            writer.writerow(["" if row[name] is None else row[name] for name in CSV_COLUMNS])
            count += 1
        return count


def _row(record: CallRecord) -> dict[str, Any]:
    values = {name: getattr(record, name) for name in _t.c.keys()}  # noqa: SIM118 - a Table's columns
    values["intents"] = list(record.intents)
    values["transcript"] = list(record.transcript)
    return values


def _record(row: RowMapping) -> CallRecord:
    values = dict(row)
    values["intents"] = tuple(values["intents"] or ())
    values["transcript"] = tuple(values["transcript"] or ())
    return CallRecord(**values)
