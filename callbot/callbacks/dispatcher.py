"""Places the call-backs when they are due, through a `Dialer` (the SIP gateway), exactly once each.

Exactly once, with several gateways and crashes:
- a request is *claimed* before it is dialled: status 'dialing', `locked_by` = this dispatcher and a lease
  (`locked_until`), committed in the database first. Another dispatcher only takes it over once the lease
  has run out, so a dispatcher killed mid-call causes no second call within the lease (= the first retry
  delay, 5 min by default);
- while a call is in progress a heartbeat pushes the lease forward, so a long call is never re-dialled;
- the outcome is written only if this dispatcher still holds the request.

Busy (486), no answer (408/480), rejected (603) and other failures are retried after 5, 15 then 30 min,
moved into the queue's opening hours; numbers that do not exist (404/410/484/604) fail at once.
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from callbot.callbacks.models import CallbackRequest, CallbackStatus, Defer, GiveUp
from callbot.callbacks.store import CallbackStore
from callbot.clock import Clock, wall_clock
from callbot.dialog.actions import CallContext
from callbot.queues.directory import Queue, QueueDirectory

log = logging.getLogger("callbot.callbacks.dispatcher")

SIP_BUSY = 486
SIP_NO_ANSWER = (408, 480)


@dataclass(frozen=True, slots=True)
class DialRequest:
    """What the gateway needs to place the call-back and hand it to an agent with the context."""

    callback_id: uuid.UUID
    phone: str  # E.164
    queue: str
    queue_uri: str | None  # where to transfer once the caller has answered
    attempt: int  # 1 for the first call
    due_at: datetime
    caller: str | None
    call_id: str | None  # the original inbound call
    context: CallContext


@dataclass(frozen=True, slots=True)
class DialResult:
    """`answered`: the person was reached (put through to an agent, or gave their answer). `sip_status` is
    the final SIP response of a failed attempt (486, 408, …), None when no SIP answer was had. `retry`
    False: calling again cannot help (the wrong person answered)."""

    answered: bool
    sip_status: int | None
    reason: str
    retry: bool = True


class Dialer(Protocol):
    def dial(self, request: DialRequest) -> DialResult:
        """Place the call and return when it is answered (and handed over) or has failed. Blocking."""
        ...


@dataclass(frozen=True)
class RetryPolicy:
    delays_s: tuple[float, ...] = (300.0, 900.0, 1800.0)
    max_attempts: int | None = None  # None: one first call + one retry per delay
    permanent_statuses: frozenset[int] = frozenset({404, 410, 484, 604})

    @property
    def attempts(self) -> int:
        return self.max_attempts if self.max_attempts is not None else len(self.delays_s) + 1

    def delay_after(self, attempt: int) -> timedelta:
        """Wait after the `attempt`-th failed call (the last delay repeats when attempts outnumber them)."""
        return timedelta(seconds=self.delays_s[min(attempt, len(self.delays_s)) - 1])


@dataclass(frozen=True, slots=True)
class DispatchOutcome:
    request: CallbackRequest
    result: DialResult
    status: CallbackStatus
    next_attempt_at: datetime | None
    recorded: bool  # False: the request was taken over or cancelled while being dialled


def default_dispatcher_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Dispatcher:
    """Claims due call-backs and dials them. Run one per gateway; several may share a PostgreSQL store.

    `lease_s` should be at least the first retry delay (the promise: no second call before it);
    `concurrency` is how many calls this dispatcher places at once; `capacity`, when given, says how many
    more calls the gateway can place right now (free SIP call slots): nothing is claimed beyond it, so a
    request is not used up on a gateway that is full.
    """

    def __init__(
        self,
        store: CallbackStore,
        dialer: Dialer,
        queues: QueueDirectory | None = None,
        clock: Clock = wall_clock,
        dispatcher_id: str | None = None,
        *,
        lease_s: float = 300.0,
        retry: RetryPolicy | None = None,
        concurrency: int = 1,
        heartbeat_s: float | None = None,
        capacity: Callable[[], int] | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.store = store
        self.dialer = dialer
        self.queues = queues
        self._clock = clock
        self.dispatcher_id = dispatcher_id or default_dispatcher_id()
        self.lease_s = lease_s
        self.retry = retry or RetryPolicy()
        self.concurrency = concurrency
        self.heartbeat_s = heartbeat_s if heartbeat_s is not None else lease_s / 3
        self.capacity = capacity
        self._in_flight: set[uuid.UUID] = set()
        self._lock = threading.Lock()

    # ------------------------------------------------------------------------------------ loops

    def run_once(self) -> list[DispatchOutcome]:
        """Claim what is due now (up to `concurrency` requests), dial them, record the outcomes."""
        claimed = self.claim(self.concurrency)
        if not claimed:
            return []
        with _LeaseKeeper(self):
            if len(claimed) == 1:
                return [self._attempt(claimed[0])]
            with concurrent.futures.ThreadPoolExecutor(
                len(claimed), thread_name_prefix="callback-dial"
            ) as pool:
                return list(pool.map(self._attempt, claimed))

    def run_forever(self, stop_event: threading.Event, poll_s: float = 1.0) -> None:
        """Dial due call-backs until `stop_event` is set; calls in progress are finished, not dropped."""
        log.info(
            "dispatcher %s started (concurrency %d, lease %.0f s)",
            self.dispatcher_id,
            self.concurrency,
            self.lease_s,
        )
        running: set[concurrent.futures.Future[DispatchOutcome]] = set()
        with (
            _LeaseKeeper(self),
            concurrent.futures.ThreadPoolExecutor(
                self.concurrency, thread_name_prefix="callback-dial"
            ) as pool,
        ):
            while not stop_event.is_set():
                free = self.concurrency - len(running)
                if free and self.capacity is not None:
                    free = min(free, max(self._capacity_safely(), 0))
                claimed = self._claim_safely(free) if free else []
                running |= {pool.submit(self._attempt, request) for request in claimed}
                if claimed and len(running) < self.concurrency:
                    continue  # more may be due right now
                if running:
                    done, _ = concurrent.futures.wait(
                        running, timeout=poll_s, return_when=concurrent.futures.FIRST_COMPLETED
                    )
                    running -= done
                else:
                    stop_event.wait(poll_s)
            concurrent.futures.wait(running)
        log.info("dispatcher %s stopped", self.dispatcher_id)

    def _capacity_safely(self) -> int:
        assert self.capacity is not None
        try:
            return self.capacity()
        except Exception:
            log.exception("dispatcher %s: reading the gateway's free capacity failed", self.dispatcher_id)
            return 0

    def _claim_safely(self, limit: int) -> list[CallbackRequest]:
        try:
            return self.claim(limit)
        except Exception:  # the database restarts or the network blips: keep the loop alive
            log.exception("dispatcher %s: claiming due call-backs failed; retrying", self.dispatcher_id)
            return []

    # ------------------------------------------------------------------------------------ steps

    def claim(self, limit: int) -> list[CallbackRequest]:
        claimed = self.store.claim_due(self._clock(), self.dispatcher_id, self.lease_s, limit, self._triage)
        with self._lock:
            self._in_flight.update(request.id for request in claimed)
        return claimed

    def _triage(self, request: CallbackRequest) -> Defer | GiveUp | None:
        now = self._clock()
        if request.status == CallbackStatus.DIALING:
            log.warning(
                "call-back %s: lease of %s ran out mid-call; taking it over", request.id, request.locked_by
            )
            if request.attempts >= self.retry.attempts:
                return GiveUp(f"{request.attempts} attempts, the last one interrupted")
        queue = self._queue(request.queue)
        if queue is None or queue.is_open_at(now):
            return None
        opening = queue.next_opening(now)
        if opening is None:
            return GiveUp(f"queue {queue.name} does not reopen within a year")
        return Defer(opening, f"queue {queue.name} closed: {queue.hours.closed_reason(now)}")

    def _attempt(self, request: CallbackRequest) -> DispatchOutcome:
        queue = self._queue(request.queue)
        dial = DialRequest(
            callback_id=request.id,
            phone=request.phone,
            queue=request.queue,
            queue_uri=queue.sip_uri if queue is not None else None,
            attempt=request.attempts,
            due_at=request.due_at,
            caller=request.caller,
            call_id=request.call_id,
            context=request.call_context(),
        )
        try:
            result = self.dialer.dial(dial)
        except Exception as exc:
            log.exception("call-back %s: the dialer failed", request.id)
            result = DialResult(False, None, f"dialer error: {exc}")
        status, next_attempt_at = self._next_step(request, result, queue)
        try:
            recorded = self.store.finish(
                request.id,
                self.dispatcher_id,
                status=status,
                sip_status=result.sip_status,
                reason=result.reason,
                next_attempt_at=next_attempt_at,
            )
        except Exception:
            # The lease runs out and another attempt follows: better than losing the call-back.
            log.exception("call-back %s: could not record '%s'", request.id, result.reason)
            recorded = False
        finally:
            with self._lock:
                self._in_flight.discard(request.id)
        if not recorded:
            log.error(
                "call-back %s: outcome '%s' not recorded — taken over or cancelled during the call",
                request.id,
                result.reason,
            )
        else:
            when = f", next attempt {next_attempt_at.isoformat()}" if next_attempt_at else ""
            log.info(
                "call-back %s attempt %d: %s (%s)%s",
                request.id,
                request.attempts,
                status.value,
                result.reason,
                when,
            )
        return DispatchOutcome(request, result, status, next_attempt_at, recorded)

    def _next_step(
        self, request: CallbackRequest, result: DialResult, queue: Queue | None
    ) -> tuple[CallbackStatus, datetime | None]:
        if result.answered:
            return CallbackStatus.DONE, None
        if result.sip_status in self.retry.permanent_statuses or not result.retry:
            return CallbackStatus.FAILED, None
        if request.attempts >= self.retry.attempts:
            return CallbackStatus.FAILED, None
        retry_at = self._clock() + self.retry.delay_after(request.attempts)
        if queue is not None:
            opening = queue.hours.open_or_next(retry_at)
            if opening is None:
                return CallbackStatus.FAILED, None
            retry_at = opening
        return CallbackStatus.PENDING, retry_at

    def _queue(self, name: str) -> Queue | None:
        if self.queues is None:
            return None
        if name not in self.queues:
            log.warning("call-back for unknown queue '%s': dialled without opening hours", name)
            return None
        return self.queues[name]

    def now(self) -> datetime:
        return self._clock()

    def in_flight(self) -> list[uuid.UUID]:
        with self._lock:
            return list(self._in_flight)


@dataclass
class _LeaseKeeper:
    """Pushes the leases of the calls in progress forward every `heartbeat_s` while the block runs."""

    dispatcher: Dispatcher
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> _LeaseKeeper:
        self._thread = threading.Thread(target=self._run, name="callback-lease", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        dispatcher = self.dispatcher
        while not self._stop.wait(dispatcher.heartbeat_s):
            ids: Iterable[uuid.UUID] = dispatcher.in_flight()
            if not ids:
                continue
            until = dispatcher.now() + timedelta(seconds=dispatcher.lease_s)
            try:
                dispatcher.store.extend_leases(list(ids), dispatcher.dispatcher_id, until)
            except Exception:
                log.exception("dispatcher %s: lease heartbeat failed", dispatcher.dispatcher_id)
