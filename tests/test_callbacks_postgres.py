"""The call-back store and dispatcher on a real PostgreSQL (a throwaway cluster started for this module):
migrations, exactly-once dialling with two dispatchers, a dispatcher killed mid-call, back-off, and
bookings racing for the last place of a slot."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import callbot.calls.schema  # noqa: F401 - call_records shares the metadata and the migrations
from callbot.callbacks import (
    CallbackLimits,
    CallbackRefused,
    CallbackStatus,
    CallbackStore,
    DialRequest,
    DialResult,
    Dispatcher,
    SlotLimit,
)
from callbot.callbacks.schema import metadata
from callbot.callbacks.scratch_postgres import ScratchPostgres
from callbot.clock import ManualClock
from callbot.queues import QueueDirectory

PARIS = ZoneInfo("Europe/Paris")


def paris(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=PARIS)


@pytest.fixture
def pg_url(postgres: ScratchPostgres) -> str:
    return postgres.create_database(f"t_{uuid.uuid4().hex[:10]}")


@pytest.fixture
def store(pg_url: str) -> Iterator[CallbackStore]:
    store = CallbackStore(pg_url, limits=CallbackLimits(max_per_slot=100))  # one test books 50 due at once
    store.migrate()
    yield store
    store.close()


class RecordingDialer:
    """Thread-safe; every dial takes `seconds` and is answered."""

    def __init__(self, seconds: float = 0.0) -> None:
        self.seconds = seconds
        self.calls: list[tuple[str, uuid.UUID]] = []
        self._lock = threading.Lock()

    def dial_as(self, who: str) -> _Named:
        return _Named(self, who)


class _Named:
    def __init__(self, dialer: RecordingDialer, who: str) -> None:
        self.dialer, self.who = dialer, who

    def dial(self, request: DialRequest) -> DialResult:
        with self.dialer._lock:
            self.dialer.calls.append((self.who, request.callback_id))
        time.sleep(self.dialer.seconds)
        return DialResult(True, 200, "answered")


def test_migrations_on_postgresql_match_the_code_and_can_race(pg_url: str) -> None:
    stores = [CallbackStore(pg_url) for _ in range(3)]
    with ThreadPoolExecutor(3) as pool:
        list(pool.map(lambda store: store.migrate(), stores))  # three gateways starting at once
    with stores[0].engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == "0004"
    for store in stores:
        store.close()


def test_rows_round_trip_with_time_zones_and_json(pg_url: str) -> None:
    store = CallbackStore(pg_url, clock=ManualClock(paris("2026-11-23 10:30")))
    store.migrate()
    due = paris("2026-11-24 15:00")
    added = store.add(
        due_at=due,
        queue="q",
        phone="0612345678",
        context={"intent": "suivi", "slots": {"commande": "458129"}, "summary": "Suivi"},
    )
    got = store.get(added.id)
    assert got.due_at == due and got.due_at.tzinfo == UTC
    assert got.context["slots"] == {"commande": "458129"}
    assert store.resolve(added.id.hex[:8]).id == added.id
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT pg_typeof(due_at)::text FROM callback_requests").scalar() == (
            "timestamp with time zone"
        )
    store.close()


def test_two_dispatchers_dial_each_of_50_due_call_backs_exactly_once(
    pg_url: str, store: CallbackStore
) -> None:
    now = datetime.now(UTC)
    ids = {store.add(due_at=now, queue="q", phone=f"061234{i:04d}").id for i in range(50)}
    dialer = RecordingDialer(seconds=0.01)
    stop = threading.Event()
    workers = []
    for name in ("gw1", "gw2"):
        own_store = CallbackStore(pg_url)  # a gateway has its own engine and connections
        worker = Dispatcher(own_store, dialer.dial_as(name), None, dispatcher_id=name, concurrency=2)
        thread = threading.Thread(target=worker.run_forever, args=(stop, 0.05))
        workers.append((thread, own_store))
        thread.start()
    deadline = time.monotonic() + 30
    while store.counts().get("done", 0) < 50 and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    for thread, own_store in workers:
        thread.join(timeout=10)
        own_store.close()
    dialled = Counter(callback_id for _, callback_id in dialer.calls)
    assert set(dialled) == ids
    assert set(dialled.values()) == {1}
    by_gateway = Counter(who for who, _ in dialer.calls)
    assert by_gateway["gw1"] > 0 and by_gateway["gw2"] > 0
    assert store.counts() == {"done": 50}


CHILD_DISPATCHER = """
import sys, time
from callbot.callbacks import CallbackStore, DialResult, Dispatcher

class HangingDialer:
    def dial(self, request):
        print("dialing", request.callback_id, flush=True)
        time.sleep(120)  # killed before this ends
        return DialResult(True, 200, "answered")

store = CallbackStore(sys.argv[1])
Dispatcher(store, HangingDialer(), None, dispatcher_id="doomed", lease_s=2.0, heartbeat_s=0.2).run_once()
"""


@pytest.mark.timed_waits
def test_a_dispatcher_killed_mid_call_is_not_redialled_before_its_lease_ends(
    pg_url: str, store: CallbackStore
) -> None:
    ident = store.add(due_at=datetime.now(UTC), queue="q", phone="0612345678").id
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(CHILD_DISPATCHER), pg_url], stdout=subprocess.PIPE, text=True
    )
    dialer = RecordingDialer()
    survivor = Dispatcher(
        CallbackStore(pg_url), dialer.dial_as("gw2"), None, dispatcher_id="gw2", lease_s=2.0
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().split() == ["dialing", str(ident)]
        # The call lasts longer than one lease: the heartbeat keeps it, nobody else dials.
        until = time.monotonic() + 2.5
        while time.monotonic() < until:
            assert survivor.run_once() == []
            time.sleep(0.1)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=10)
    held = store.get(ident)
    assert held.status == CallbackStatus.DIALING and held.locked_by == "doomed"
    assert held.locked_until is not None
    # Until the lease runs out, the request stays with the dead dispatcher.
    while datetime.now(UTC) < held.locked_until - timedelta(seconds=0.15):
        assert survivor.run_once() == []
        time.sleep(0.05)
    assert dialer.calls == []
    while datetime.now(UTC) <= held.locked_until:
        time.sleep(0.02)
    [outcome] = survivor.run_once()
    assert outcome.status == CallbackStatus.DONE
    assert dialer.calls == [("gw2", ident)]
    assert survivor.run_once() == []
    final = store.get(ident)
    assert final.status == CallbackStatus.DONE and final.attempts == 2
    survivor.store.close()


def test_busy_is_retried_with_back_off_on_postgresql(store: CallbackStore) -> None:
    queues = QueueDirectory.from_mapping(
        {"queues": {"q": {"sip_uri": "sip:q@pbx", "hours": {"lundi-vendredi": ["09:00-18:00"]}}}}
    )
    now = [paris("2026-11-23 09:55")]
    store_clock = CallbackStore(store.url, clock=lambda: now[0])
    ident = store_clock.add(due_at=paris("2026-11-23 10:00"), queue="q", phone="0612345678").id
    results = [DialResult(False, 486, "busy"), DialResult(True, 200, "answered")]
    calls: list[datetime] = []

    class Dialer:
        def dial(self, request: DialRequest) -> DialResult:
            calls.append(now[0])
            return results.pop(0)

    worker = Dispatcher(store_clock, Dialer(), queues, lambda: now[0], "gw1")
    now[0] = paris("2026-11-23 10:00")
    [first] = worker.run_once()
    assert first.status == CallbackStatus.PENDING
    assert store.get(ident).next_attempt_at == paris("2026-11-23 10:05")
    assert store.get(ident).last_sip_status == 486
    now[0] = paris("2026-11-23 10:04")
    assert worker.run_once() == []
    now[0] = paris("2026-11-23 10:05")
    [second] = worker.run_once()
    assert second.status == CallbackStatus.DONE
    assert calls == [paris("2026-11-23 10:00"), paris("2026-11-23 10:05")]
    store_clock.close()


def test_bookings_racing_for_a_slot_never_overfill_it(pg_url: str, store: CallbackStore) -> None:
    start = datetime.now(UTC) + timedelta(days=1)
    slot = SlotLimit("q", start, start + timedelta(minutes=15), capacity=2)
    gateways = [CallbackStore(pg_url) for _ in range(6)]
    barrier = threading.Barrier(len(gateways))

    def book(index: int) -> str:
        barrier.wait()
        try:
            gateways[index].add(
                due_at=start + timedelta(minutes=index), queue="q", phone=f"06111111{index:02d}", slot=slot
            )
            return "booked"
        except CallbackRefused as refused:
            return refused.code

    with ThreadPoolExecutor(len(gateways)) as pool:
        outcomes = Counter(pool.map(book, range(len(gateways))))
    assert outcomes == {"booked": 2, "slot_full": 4}
    assert len(store.list(queue="q")) == 2
    for gateway in gateways:
        gateway.close()
