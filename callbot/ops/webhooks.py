"""Webhooks: the gateway tells other systems (a CRM, a ticketing tool) what its calls did.

Events: `call_ended` (the call record), `transferred` (when the REFER succeeded: queue, intents and the
transcript so far, for a screen-pop) and `callback_booked`. Each is POSTed as JSON to every target that
takes it, signed `X-Callbot-Signature: sha256=HMAC(secret, body)`, with `X-Callbot-Event` and a
`X-Callbot-Delivery` id that stays the same across retries (receivers drop duplicates by it).

Never blocking a call: `send` only queues; one background thread per process delivers, retrying a
failure (no answer, or a status other than 2xx) after 1, 2, 4, 8… s up to `max_attempts`.

Nothing lost when a host stops: with an outbox (`callbot/ops/outbox.py`, the gateway's database) each
delivery is written before it is queued and deleted once delivered or given up; deliveries left by a
host that stopped are taken over by a running sender (at its start, then every `SWEEP_S`). Without an
outbox a full queue drops the oldest delivery with a log line; with one, a delivery that finds the queue
full waits, unleased, in the database for the next sweep.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import itertools
import json
import logging
import operator
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:  # the settings import this module: SQLAlchemy only once an outbox is used
    from callbot.ops.outbox import WebhookOutbox

log = logging.getLogger("callbot.ops.webhooks")

Event = Literal["call_ended", "transferred", "callback_booked"]
EVENTS: tuple[Event, ...] = ("call_ended", "transferred", "callback_booked")
MAX_QUEUED = 1000
#: How often a sender with an outbox looks for deliveries a stopped host left behind.
SWEEP_S = 30.0


class WebhookTarget(BaseModel):
    """One receiver (`webhooks:` in the settings)."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(pattern=r"^https?://")
    secret: str = Field(min_length=16)
    events: list[Event] = list(EVENTS)
    include_transcript: bool = False  # transcripts are personal data: sent only when asked for
    timeout_s: float = Field(default=5.0, gt=0, le=60)
    max_attempts: int = Field(default=5, ge=1, le=20)


def signature(secret: str, body: bytes) -> str:
    """The `X-Callbot-Signature` of a body: how a receiver checks it came from this gateway."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(order=True)
class _Delivery:
    due: float
    order: int
    target: WebhookTarget = field(compare=False)
    event: str = field(compare=False)
    body: bytes = field(compare=False)
    delivery_id: uuid.UUID = field(compare=False)  # X-Callbot-Delivery (hex) and the outbox row's id
    attempts: int = field(default=0, compare=False)


class WebhookSender:
    """Queues events and delivers them from one daemon thread (started on the first `send`)."""

    def __init__(
        self,
        targets: Sequence[WebhookTarget],
        *,
        first_retry_s: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
        outbox: WebhookOutbox | None = None,
        sweep_s: float = SWEEP_S,
    ) -> None:
        self.targets = list(targets)
        self.first_retry_s = first_retry_s
        self._monotonic = monotonic
        self.outbox = outbox
        self.sweep_s = sweep_s
        self._next_sweep = 0.0
        self._heap: list[_Delivery] = []
        self._order = itertools.count()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self.delivered = 0
        self.given_up = 0
        if outbox is not None:
            self._start()  # deliveries a stopped host left behind go out without waiting for a call

    def send(self, event: Event, payload: dict[str, Any]) -> None:
        """Queue `event` for every target that takes it (written to the outbox first, if any)."""
        for target in self.targets:
            if event not in target.events:
                continue
            data = (
                payload
                if target.include_transcript
                else {k: v for k, v in payload.items() if k != "transcript"}
            )
            body = json.dumps({"event": event, **data}, ensure_ascii=False, default=str).encode()
            delivery = _Delivery(self._monotonic(), next(self._order), target, event, body, uuid.uuid4())
            with self._lock:
                full = len(self._heap) >= MAX_QUEUED
            if self._keep(delivery, leased=not full) and full:
                log.warning("webhook queue full: %s to %s waits in the outbox", event, target.url)
                continue
            with self._lock:
                if len(self._heap) >= MAX_QUEUED:
                    dropped = heapq.heappop(self._heap)
                    log.error("webhook queue full: %s to %s dropped", dropped.event, dropped.target.url)
                heapq.heappush(self._heap, delivery)
        self._start()

    def _start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="webhooks", daemon=True)
                self._thread.start()

    def _keep(self, delivery: _Delivery, leased: bool) -> bool:
        """Write a new delivery to the outbox; False without one, or when the database fails (the
        delivery is then only queued in memory: the call's side never fails for a webhook)."""
        if self.outbox is None:
            return False
        try:
            self.outbox.add(delivery.delivery_id, delivery.event, delivery.target.url, delivery.body, leased)
        except Exception as exc:  # SQLAlchemy, driver or disk: logged, never raised
            log.error(
                "webhook outbox: %s to %s kept in memory only: %s", delivery.event, delivery.target.url, exc
            )
            return False
        return True

    def pending(self) -> int:
        with self._lock:
            return len(self._heap)

    def close(self) -> None:
        """Stop delivering; with an outbox, this sender's rows are released for the next sender at
        once (a delivery in flight may then be sent twice: receivers drop it by its delivery id)."""
        self._stopping = True
        if self.outbox is not None:
            try:
                self.outbox.release()
            except Exception as exc:
                log.error("webhook outbox: cannot release this host's deliveries: %s", exc)

    def _run(self) -> None:
        while not self._stopping:
            try:
                self._step()
            except Exception:  # the one delivery thread must outlive any bug
                log.exception("webhooks: unexpected error")
                time.sleep(1.0)

    def _step(self) -> None:
        if self.outbox is not None and self._monotonic() >= self._next_sweep:
            self._next_sweep = self._monotonic() + self.sweep_s
            self._take_over()
        delivery = self._next_due()
        if delivery is None:
            time.sleep(0.05)  # not Event.wait(timeout): libfaketime cannot time those out (conftest)
            return
        ident = delivery.delivery_id
        if not self._stored(lambda box: box.hold(ident, delivery.target.timeout_s)):
            log.info("webhook %s to %s: taken over by another host", delivery.event, delivery.target.url)
            return
        if self._post(delivery):
            self.delivered += 1
            self._stored(lambda box: box.remove(ident))
            return
        delivery.attempts += 1
        if delivery.attempts >= delivery.target.max_attempts:
            self.given_up += 1
            log.error(
                "webhook %s to %s given up after %d attempts",
                delivery.event,
                delivery.target.url,
                delivery.attempts,
            )
            self._stored(lambda box: box.remove(ident))
            return
        delay = self.first_retry_s * 2 ** (delivery.attempts - 1)
        delivery.due = self._monotonic() + delay
        self._stored(lambda box: box.retry_at(ident, delivery.attempts, delay))
        with self._lock:
            heapq.heappush(self._heap, delivery)

    def _stored(self, change: Callable[[WebhookOutbox], object]) -> bool:
        """Apply a change to the outbox, if there is one. A database error is logged, never fatal to the
        thread: the delivery goes on from memory. False only when `hold` finds the row held by another
        sender."""
        if self.outbox is None:
            return True
        try:
            return change(self.outbox) is not False
        except Exception as exc:
            log.error("webhook outbox: %s", exc)
            return True

    def _take_over(self) -> None:
        """Queue the deliveries nobody holds in the outbox (same delivery id, attempts so far)."""
        assert self.outbox is not None
        with self._lock:
            room = MAX_QUEUED - len(self._heap)
        if room <= 0:
            return
        try:
            rows = self.outbox.take_over(limit=min(room, 100))
        except Exception as exc:
            log.error("webhook outbox: cannot look for deliveries left behind: %s", exc)
            return
        targets = {target.url: target for target in self.targets}
        for row in rows:
            target = targets.get(row.target_url)
            if target is None:
                log.error("webhook %s to %s given up: no such target any more", row.event, row.target_url)
                self._stored(operator.methodcaller("forget", row.id))  # called at once, in the loop
                continue
            log.info("webhook %s to %s taken over from the outbox", row.event, row.target_url)
            delivery = _Delivery(
                self._monotonic(), next(self._order), target, row.event, row.body, row.id, row.attempts
            )
            with self._lock:
                heapq.heappush(self._heap, delivery)

    def _next_due(self) -> _Delivery | None:
        with self._lock:
            if self._heap and self._heap[0].due <= self._monotonic():
                return heapq.heappop(self._heap)
        return None

    def _post(self, delivery: _Delivery) -> bool:
        request = urllib.request.Request(
            delivery.target.url,
            data=delivery.body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": "callbot-webhooks",
                "X-Callbot-Event": delivery.event,
                "X-Callbot-Delivery": delivery.delivery_id.hex,
                "X-Callbot-Signature": signature(delivery.target.secret, delivery.body),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=delivery.target.timeout_s) as response:
                return 200 <= response.status < 300
        except Exception as exc:  # URLError, OSError, http.client BadStatusLine, InvalidURL…
            log.warning("webhook %s to %s failed: %s", delivery.event, delivery.target.url, exc)
            return False
