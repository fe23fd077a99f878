"""Dispatcher logic on a SQLite store with a scripted dialer and a hand-moved clock: outcomes, back-off
within opening hours, leases, deferral while the queue is closed."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from callbot.callbacks import (
    CallbackStatus,
    CallbackStore,
    DialRequest,
    DialResult,
    Dispatcher,
    RetryPolicy,
)
from callbot.clock import ManualClock
from callbot.dialog.actions import CallContext
from callbot.queues import QueueDirectory

PARIS = ZoneInfo("Europe/Paris")


def paris(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=PARIS)


class ScriptedDialer:
    """Answers each dial with the next scripted result and remembers every request."""

    def __init__(self, *results: DialResult) -> None:
        self.results = list(results)
        self.calls: list[DialRequest] = []

    def dial(self, request: DialRequest) -> DialResult:
        self.calls.append(request)
        return self.results.pop(0) if self.results else DialResult(True, 200, "answered")


BUSY = DialResult(False, 486, "busy")
NO_ANSWER = DialResult(False, 480, "no answer")
ANSWERED = DialResult(True, 200, "answered")

QUEUES = {
    "queues": {
        "service_client": {
            "sip_uri": "sip:service-client@pbx",
            "hours": {"lundi-vendredi": ["09:00-12:30", "14:00-18:00"]},
            "holidays": "FR",
        }
    }
}
CONTEXT = CallContext(
    "+33611111111",
    "suivi_commande",
    {"numero_commande": "458129"},
    ("où est ma commande",),
    "Suivi de commande 458129",
)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(paris("2026-11-23 09:50"))  # Monday


@pytest.fixture
def store(tmp_path: Path, clock: ManualClock) -> Iterator[CallbackStore]:
    store = CallbackStore(tmp_path, clock=clock)
    store.migrate()
    yield store
    store.close()


@pytest.fixture
def queues() -> QueueDirectory:
    return QueueDirectory.from_mapping(QUEUES)


def dispatcher(
    store: CallbackStore,
    dialer: ScriptedDialer,
    queues: QueueDirectory,
    clock: ManualClock,
    name: str = "gw1",
    **options: object,
) -> Dispatcher:
    return Dispatcher(store, dialer, queues, clock, name, **options)  # type: ignore[arg-type]


def add(store: CallbackStore, at: str, phone: str = "0611111111") -> str:
    return str(
        store.add(due_at=paris(at), queue="service_client", phone=phone, context=CONTEXT, call_id="call-1").id
    )


def test_nothing_is_dialled_before_its_time(
    store: CallbackStore, queues: QueueDirectory, clock: ManualClock
) -> None:
    add(store, "2026-11-23 10:00")
    dialer = ScriptedDialer()
    assert dispatcher(store, dialer, queues, clock).run_once() == []
    assert dialer.calls == []


def test_an_answered_call_back_is_done_and_the_dialer_gets_the_context(
    store: CallbackStore, queues: QueueDirectory, clock: ManualClock
) -> None:
    ident = add(store, "2026-11-23 10:00")
    clock.now = paris("2026-11-23 10:00")
    dialer = ScriptedDialer(ANSWERED)
    [outcome] = dispatcher(store, dialer, queues, clock).run_once()
    assert outcome.status == CallbackStatus.DONE and outcome.recorded
    [request] = dialer.calls
    assert request.phone == "+33611111111"
    assert request.queue_uri == "sip:service-client@pbx"
    assert request.attempt == 1
    assert request.context.summary == "Suivi de commande 458129"
    assert request.call_id == "call-1"
    stored = store.get(ident)
    assert stored.status == CallbackStatus.DONE and stored.attempts == 1
    assert stored.locked_by is None and stored.last_sip_status == 200


def test_busy_is_retried_after_5_15_and_30_minutes_then_failed(
    store: CallbackStore, queues: QueueDirectory, clock: ManualClock
) -> None:
    ident = add(store, "2026-11-23 10:00")
    dialer = ScriptedDialer(BUSY, NO_ANSWER, DialResult(False, 603, "declined"), BUSY)
    worker = dispatcher(store, dialer, queues, clock)
    expected_waits = [5, 15, 30]
    clock.now = paris("2026-11-23 10:00")
    for attempt, wait in enumerate(expected_waits, start=1):
        [outcome] = worker.run_once()
        assert outcome.status == CallbackStatus.PENDING
        assert outcome.next_attempt_at == clock.now + timedelta(minutes=wait)
        stored = store.get(ident)
        assert stored.attempts == attempt and stored.status == CallbackStatus.PENDING
        # Not a minute before the back-off has elapsed.
        clock.now += timedelta(minutes=wait) - timedelta(seconds=1)
        assert worker.run_once() == []
        clock.now += timedelta(seconds=1)
    [last] = worker.run_once()
    assert last.status == CallbackStatus.FAILED
    stored = store.get(ident)
    assert stored.status == CallbackStatus.FAILED and stored.attempts == 4 and stored.last_sip_status == 486
    assert [call.attempt for call in dialer.calls] == [1, 2, 3, 4]


def test_a_retry_that_would_fall_at_lunch_waits_for_the_afternoon(
    store: CallbackStore, queues: QueueDirectory, clock: ManualClock
) -> None:
    ident = add(store, "2026-11-23 12:28")
    clock.now = paris("2026-11-23 12:28")
    [outcome] = dispatcher(store, ScriptedDialer(BUSY), queues, clock).run_once()
    # 12:33 would be during the 12:30-14:00 lunch closure.
    assert outcome.next_attempt_at == paris("2026-11-23 14:00")
    assert store.get(ident).next_attempt_at == paris("2026-11-23 14:00")


def test_a_number_that_does_not_exist_fails_at_once(
    store: CallbackStore, queues: QueueDirectory, clock: ManualClock
) -> None:
    ident = add(store, "2026-11-23 10:00")
    clock.now = paris("2026-11-23 10:00")
    [outcome] = dispatcher(
        store, ScriptedDialer(DialResult(False, 404, "not found")), queues, clock
    ).run_once()
    assert outcome.status == CallbackStatus.FAILED
    assert store.get(ident).attempts == 1


def test_a_dialer_exception_counts_as_a_failed_attempt(
    store: CallbackStore, queues: QueueDirectory, clock: ManualClock
) -> None:
    class Exploding:
        def dial(self, request: DialRequest) -> DialResult:
            raise ConnectionError("SIP trunk down")

    ident = add(store, "2026-11-23 10:00")
    clock.now = paris("2026-11-23 10:00")
    [outcome] = Dispatcher(store, Exploding(), queues, clock, "gw1").run_once()
    assert outcome.status == CallbackStatus.PENDING
    assert outcome.result.reason == "dialer error: SIP trunk down"
    assert store.get(ident).last_reason == "dialer error: SIP trunk down"


def test_a_call_back_due_while_the_queue_is_closed_waits_without_using_an_attempt(
    store: CallbackStore, queues: QueueDirectory, clock: ManualClock
) -> None:
    ident = add(store, "2026-11-23 12:25")
    clock.now = paris("2026-11-23 12:45")  # the dispatcher was down; now it is lunch time
    dialer = ScriptedDialer()
    worker = dispatcher(store, dialer, queues, clock)
    assert worker.run_once() == []
    stored = store.get(ident)
    assert stored.status == CallbackStatus.PENDING and stored.attempts == 0
    assert stored.next_attempt_at == paris("2026-11-23 14:00")
    assert "closed" in (stored.last_reason or "")
    clock.now = paris("2026-11-23 14:00")
    assert [o.status for o in worker.run_once()] == [CallbackStatus.DONE]


def test_a_dispatcher_that_died_mid_call_holds_the_request_until_its_lease_ends(
    store: CallbackStore, queues: QueueDirectory, clock: ManualClock
) -> None:
    ident = add(store, "2026-11-23 10:00")
    clock.now = paris("2026-11-23 10:00")
    # gw1 claims and then "dies": it never records an outcome.
    [claimed] = store.claim_due(clock(), "gw1", lease_s=300, limit=5)
    assert claimed.status == CallbackStatus.DIALING and claimed.locked_by == "gw1"
    dialer = ScriptedDialer()
    survivor = dispatcher(store, dialer, queues, clock, "gw2", lease_s=300)
    clock.now += timedelta(seconds=299)
    assert survivor.run_once() == []
    clock.now += timedelta(seconds=2)
    [outcome] = survivor.run_once()
    assert outcome.status == CallbackStatus.DONE
    assert [call.attempt for call in dialer.calls] == [2]  # the interrupted call counted as attempt 1
    assert store.get(ident).attempts == 2


def test_an_interrupted_last_attempt_is_not_dialled_again(
    store: CallbackStore, queues: QueueDirectory, clock: ManualClock
) -> None:
    ident = add(store, "2026-11-23 10:00")
    clock.now = paris("2026-11-23 10:00")
    store.claim_due(clock(), "gw1", lease_s=60, limit=1)
    clock.now += timedelta(minutes=2)
    dialer = ScriptedDialer()
    worker = dispatcher(store, dialer, queues, clock, retry=RetryPolicy(max_attempts=1))
    assert worker.run_once() == []
    assert dialer.calls == []
    assert store.get(ident).status == CallbackStatus.FAILED


def test_a_call_back_cancelled_during_the_call_is_not_retried(
    store: CallbackStore, queues: QueueDirectory, clock: ManualClock
) -> None:
    ident = add(store, "2026-11-23 10:00")
    clock.now = paris("2026-11-23 10:00")

    class CancelledMeanwhile:
        def dial(self, request: DialRequest) -> DialResult:
            store.cancel(request.callback_id, "caller phoned in")
            return BUSY

    [outcome] = Dispatcher(store, CancelledMeanwhile(), queues, clock, "gw1").run_once()
    assert not outcome.recorded
    assert store.get(ident).status == CallbackStatus.CANCELLED


@pytest.mark.timed_waits
def test_the_lease_is_kept_alive_during_a_long_call(tmp_path: Path, queues: QueueDirectory) -> None:
    store = CallbackStore(tmp_path)
    store.migrate()
    ident = store.add(due_at=datetime.now(UTC), queue="other", phone="0611111111").id
    leases: list[datetime] = []

    class LongCall:
        def dial(self, request: DialRequest) -> DialResult:
            for _ in range(4):
                time.sleep(0.1)
                until = store.get(request.callback_id).locked_until
                assert until is not None
                leases.append(until)
            return ANSWERED

    Dispatcher(store, LongCall(), queues, dispatcher_id="gw1", lease_s=0.2, heartbeat_s=0.05).run_once()
    assert leases == sorted(leases) and leases[-1] > leases[0]
    assert all(until > datetime.now(UTC) - timedelta(seconds=0.3) for until in leases)
    assert store.get(ident).status == CallbackStatus.DONE
    store.close()


def test_run_forever_dials_until_stopped(tmp_path: Path, queues: QueueDirectory) -> None:
    store = CallbackStore(tmp_path)
    store.migrate()
    now = datetime.now(UTC)
    ids = {store.add(due_at=now, queue="other", phone=f"06111111{i:02d}").id for i in range(6)}
    dialer = ScriptedDialer()
    stop = threading.Event()
    worker = Dispatcher(store, dialer, queues, dispatcher_id="gw1", concurrency=3)
    thread = threading.Thread(target=worker.run_forever, args=(stop, 0.05))
    thread.start()
    deadline = time.monotonic() + 10
    while store.counts().get("done", 0) < 6 and time.monotonic() < deadline:
        time.sleep(0.02)
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert sorted(call.callback_id for call in dialer.calls) == sorted(ids)
    store.close()


def test_the_wrong_person_is_never_dialled_again(
    store: CallbackStore, queues: QueueDirectory, clock: ManualClock
) -> None:
    ident = add(store, "2026-11-23 10:00")
    clock.now = paris("2026-11-23 10:00")
    wrong = DialResult(False, 200, "the wrong person answered", retry=False)
    (outcome,) = dispatcher(store, ScriptedDialer(wrong), queues, clock).run_once()
    assert (outcome.status, outcome.next_attempt_at) == (CallbackStatus.FAILED, None)
    assert store.get(ident).last_reason == "the wrong person answered"


@pytest.mark.timed_waits
def test_nothing_is_claimed_while_the_gateway_has_no_free_line(
    tmp_path: Path, queues: QueueDirectory
) -> None:
    """A request claimed by a full gateway would use up an attempt for nothing: it waits for a line."""
    store = CallbackStore(tmp_path)
    store.migrate()
    ident = store.add(due_at=datetime.now(UTC), queue="other", phone="0611111111").id
    free_lines = [0]
    dialer = ScriptedDialer()
    stop = threading.Event()
    worker = Dispatcher(store, dialer, queues, dispatcher_id="gw1", capacity=lambda: free_lines[0])
    thread = threading.Thread(target=worker.run_forever, args=(stop, 0.02))
    thread.start()
    try:
        time.sleep(0.3)
        assert dialer.calls == [] and store.get(ident).status == CallbackStatus.PENDING
        free_lines[0] = 1
        deadline = time.monotonic() + 10
        while store.get(ident).status != CallbackStatus.DONE and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert [call.callback_id for call in dialer.calls] == [ident]
    assert store.get(ident).attempts == 1
    store.close()
