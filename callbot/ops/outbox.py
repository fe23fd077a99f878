"""The webhook outbox: deliveries kept in the gateway's database until their receiver accepts them.

`WebhookSender` writes a delivery here before it queues it in memory, deletes it once delivered or given
up, and moves its next attempt on each retry. A row is leased to one sender (`locked_by`, `locked_until`
= next attempt + `LEASE_S`): while its host lives nobody else touches it; when the host stops or
crashes, the lease runs out and the next sender to look (every `SWEEP_S`, and at start) takes it over
with the same delivery id. Delivery is therefore at least once: a host that dies between the
receiver's 2xx and the delete sends it again, and receivers drop it by `X-Callbot-Delivery`.
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

    def add(self, ident: uuid.UUID, event: str, target_url: str, body: bytes) -> None:
        """Keep a delivery before it is first tried (committed when this returns)."""
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
                    locked_by=self.owner,
                    locked_until=now + timedelta(seconds=LEASE_S),
                )
            )

    def retry_at(self, ident: uuid.UUID, attempts: int, delay_s: float) -> None:
        """A failed attempt: the next one is in `delay_s`, and the lease follows it."""
        due = self._clock() + timedelta(seconds=delay_s)
        with self.engine.begin() as conn:
            conn.execute(
                update(_t)
                .where(_t.c.id == ident)
                .values(
                    attempts=attempts,
                    next_attempt_at=due,
                    locked_by=self.owner,
                    locked_until=due + timedelta(seconds=LEASE_S),
                )
            )

    def remove(self, ident: uuid.UUID) -> None:
        """Delivered, or given up: the row goes."""
        with self.engine.begin() as conn:
            conn.execute(delete(_t).where(_t.c.id == ident))

    def take_over(self, limit: int = 100) -> list[StoredDelivery]:
        """Rows nobody holds any more (their sender's host stopped): leased to this sender, returned."""
        now = self._clock()
        free = or_(_t.c.locked_until.is_(None), _t.c.locked_until < now)
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

    def count(self) -> int:
        with self.engine.connect() as conn:
            return len(conn.execute(select(_t.c.id)).all())
