"""The webhook outbox: deliveries kept in the gateway's database until their receiver accepts them.

`WebhookSender` writes a delivery here before it queues it in memory and deletes it once delivered or
given up. A row is leased to one sender (`locked_by`, `locked_until`): the sender renews the lease just
before each attempt (`hold`) and gives the delivery up from memory if it lost it, so at most one host
sends a delivery at a time. When a host stops cleanly it releases its rows (`release`); when it crashes
its leases run out. Either way the next sender to look (at its start, then every `SWEEP_S`) takes the
rows over with the same delivery id. A row written without a lease (`add(..., leased=False)`: the
sender's queue was full) waits for the next look. Delivery is at least once: a host that dies between
the receiver's 2xx and the delete sends it again, and receivers drop it by `X-Callbot-Delivery`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, insert, or_, select, update

from callbot.callbacks.store import CallbackStore
from callbot.calls.schema import webhook_outbox as _t
from callbot.clock import Clock, wall_clock

#: How long past its next attempt a row stays with its sender (more than the longest POST, 60 s).
LEASE_S = 120.0


@dataclass(frozen=True)
class StoredDelivery:
    id: uuid.UUID
    event: str
    target_url: str
    body: bytes
    attempts: int
    next_attempt_at: datetime


class WebhookOutbox:
    """Rows of `webhook_outbox`, for one sender (`owner`). Thread-safe (the store's engine is)."""

    def __init__(self, store: CallbackStore, owner: str | None = None, clock: Clock = wall_clock) -> None:
        self.engine = store.engine
        self.owner = owner or f"webhooks-{uuid.uuid4().hex[:12]}"
        self._clock = clock

    def add(self, ident: uuid.UUID, event: str, target_url: str, body: bytes, leased: bool = True) -> None:
        """Keep a delivery before it is first tried (committed when this returns); `leased=False` leaves
        it to the next sweep of any sender."""
        now = self._clock()
        with self.engine.begin() as conn:
            conn.execute(
                insert(_t).values(
                    id=ident,
                    event=event,
                    target_url=target_url,
                    body=body.decode("utf-8"),
                    attempts=0,
                    created_at=now,
                    next_attempt_at=now,
                    locked_by=self.owner if leased else None,
                    locked_until=now + timedelta(seconds=LEASE_S) if leased else None,
                )
            )

    def hold(self, ident: uuid.UUID, seconds: float) -> bool:
        """Renew this sender's lease for an attempt of up to `seconds`; False when another sender took
        the row over (its lease had run out) or it is gone: this sender must not send it."""
        until = self._clock() + timedelta(seconds=seconds + LEASE_S)
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(_t).where(_t.c.id == ident, _t.c.locked_by == self.owner).values(locked_until=until)
            ).rowcount
        return bool(changed == 1)

    def release(self) -> int:
        """A clean stop: this sender's rows are free for the next sender at once."""
        with self.engine.begin() as conn:
            return int(
                conn.execute(
                    update(_t).where(_t.c.locked_by == self.owner).values(locked_by=None, locked_until=None)
                ).rowcount
            )

    def retry_at(self, ident: uuid.UUID, attempts: int, delay_s: float) -> None:
        """A failed attempt: the next one is in `delay_s`, and the lease follows it."""
        due = self._clock() + timedelta(seconds=delay_s)
        with self.engine.begin() as conn:
            conn.execute(
                update(_t)
                .where(_t.c.id == ident, _t.c.locked_by == self.owner)
                .values(
                    attempts=attempts,
                    next_attempt_at=due,
                    locked_until=due + timedelta(seconds=LEASE_S),
                )
            )

    def remove(self, ident: uuid.UUID) -> None:
        """Delivered, or given up: the row goes (unless another sender holds it now)."""
        with self.engine.begin() as conn:
            conn.execute(
                delete(_t).where(
                    _t.c.id == ident, or_(_t.c.locked_by == self.owner, _t.c.locked_by.is_(None))
                )
            )

    def forget(self, ident: uuid.UUID) -> None:
        """A row whose target is no longer configured: it goes, whoever held it."""
        with self.engine.begin() as conn:
            conn.execute(delete(_t).where(_t.c.id == ident))

    def take_over(self, limit: int = 100) -> list[StoredDelivery]:
        """Rows nobody holds (released, never leased, or leased by a host whose lease ran out): leased
        to this sender and returned. This sender's own rows are in its memory already: never taken."""
        now = self._clock()
        free = and_(
            or_(_t.c.locked_until.is_(None), _t.c.locked_until < now),
            or_(_t.c.locked_by.is_(None), _t.c.locked_by != self.owner),
        )
        taken: list[StoredDelivery] = []
        with self.engine.begin() as conn:
            rows = conn.execute(select(_t).where(free).order_by(_t.c.created_at).limit(limit)).all()
            for row in rows:
                due = max(row.next_attempt_at, now)
                changed = conn.execute(
                    update(_t)
                    .where(and_(_t.c.id == row.id, free))
                    .values(locked_by=self.owner, locked_until=due + timedelta(seconds=LEASE_S))
                ).rowcount
                if changed == 1:
                    taken.append(
                        StoredDelivery(
                            row.id, row.event, row.target_url, row.body.encode("utf-8"), row.attempts, due
                        )
                    )
        return taken
