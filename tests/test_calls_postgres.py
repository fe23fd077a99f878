"""Call records on PostgreSQL (the store several gateways share): the migration, times and JSON round
trips, statistics counted by the database, purge. Skipped where no PostgreSQL server binaries exist."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from callbot.callbacks import CallbackStore
from callbot.callbacks.scratch_postgres import ScratchPostgres
from callbot.calls import CallRecord, CallRecordStore
from callbot.clock import ManualClock

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


@pytest.fixture
def records(postgres: ScratchPostgres) -> Iterator[CallRecordStore]:
    store = CallbackStore(postgres.create_database(f"t_{uuid.uuid4().hex[:10]}"))
    store.migrate()
    yield CallRecordStore(store, clock=ManualClock(NOW))
    store.close()


def call(minutes_ago: float, outcome: str, queue: str | None = None, p95: int | None = 900) -> CallRecord:
    start = NOW - timedelta(minutes=minutes_ago)
    return CallRecord(
        call_id=f"pg-{minutes_ago}",
        started_at=start,
        ended_at=start + timedelta(seconds=20),
        direction="inbound",
        outcome=outcome,
        queue=queue,
        intents=("suivi_commande", "au_revoir"),
        response_p95_ms=p95,
        transcript=("Client : où en est ma commande", "Bot : Votre commande 458129 est partie."),
    )


def test_a_record_round_trips_with_its_time_zone_and_json(records: CallRecordStore) -> None:
    stored = records.add(call(1, "bot"))
    got = records.get(stored.id.hex[:8])
    assert got == stored and got.started_at.tzinfo == UTC
    with records.engine.connect() as conn:
        kind = conn.exec_driver_sql("SELECT pg_typeof(transcript)::text FROM call_records").scalar()
    assert kind == "jsonb"


def test_statistics_and_purge_on_postgresql(records: CallRecordStore) -> None:
    for minutes, outcome, queue, p95 in [
        (1, "bot", None, 700),
        (2, "transferred", "service_client", 1200),
        (3, "transferred", "reclamations", None),
        (4, "abandoned", None, None),
        (60 * 24 * 40, "bot", None, 5000),
    ]:
        records.add(call(minutes, outcome, queue, p95))
    stats = records.stats(NOW - timedelta(hours=1), NOW).as_dict()
    assert (stats["calls"], stats["containment"], stats["abandoned"]) == (4, 0.25, 1)
    assert stats["transfers_by_queue"] == {"reclamations": 1, "service_client": 1}
    assert stats["response_p95_ms"] == 1200
    assert records.purge(30) == 1 and records.count() == 4
