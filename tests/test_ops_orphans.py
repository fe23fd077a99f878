"""Calls whose conversation host died under them still get a record (`error`), from the last state the
host left on the live board; the calls of living hosts are left alone."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from callbot.callbacks import CallbackStore
from callbot.calls import CallRecordStore
from callbot.ops.live import LiveCallBoard
from callbot.ops.orphans import HOST_DIED, record_orphans

DEAD_PID = 2**22 + 11  # above Linux's pid_max: no such process


@pytest.fixture
def records(tmp_path: Path) -> Iterator[CallRecordStore]:
    store = CallbackStore(tmp_path / "data")
    store.migrate()
    yield CallRecordStore(store)
    store.close()


def test_a_dead_hosts_call_becomes_an_error_record_and_leaves_the_board(
    tmp_path: Path, records: CallRecordStore
) -> None:
    board = LiveCallBoard(tmp_path / "live")
    state = {
        "call_id": "orphan@127.0.0.1",
        "direction": "inbound",
        "caller": "+33612345678",
        "called": "3000",
        "started_at": "2026-11-23T10:30:00+01:00",
        "flow": "retail",
        "flow_hash": "0123456789ab",
        "turns": 1,
        "intents": ["horaires"],
        "transcript": ["Client : les horaires de Lyon", "Bot : Le magasin…"],
    }
    (tmp_path / "live").mkdir()
    orphan = tmp_path / "live" / f"{DEAD_PID}-orphan_127.0.0.1.json"
    orphan.write_text(json.dumps(state))
    os.utime(orphan, (datetime(2026, 11, 23, 9, 31, tzinfo=UTC).timestamp(),) * 2)
    board.update("alive@127.0.0.1", {"call_id": "alive@127.0.0.1", "started_at": state["started_at"]})

    assert record_orphans(board, records) == 1

    record = records.get("orphan@127.0.0.1")
    assert (record.outcome, record.end_reason, record.errors) == ("error", HOST_DIED, 1)
    assert record.duration_s == 60  # until the host's last sign of life
    assert record.intents == ("horaires",) and record.transcript[0] == "Client : les horaires de Lyon"
    assert not orphan.exists()
    assert [c["call_id"] for c in board.calls()] == ["alive@127.0.0.1"]
    assert record_orphans(board, records) == 0  # once only


def test_an_unreadable_orphan_is_dropped_without_a_record(tmp_path: Path, records: CallRecordStore) -> None:
    (tmp_path / "live").mkdir()
    (tmp_path / "live" / f"{DEAD_PID}-broken.json").write_text('{"call_id": "x"}')  # no start time
    assert record_orphans(LiveCallBoard(tmp_path / "live"), records) == 0
    assert list((tmp_path / "live").iterdir()) == [] and records.count() == 0


def test_housekeeping_purges_by_the_retention_at_start_then_every_hour(
    tmp_path: Path, records: CallRecordStore
) -> None:
    from callbot.calls import CallRecord
    from callbot.ops.housekeeping import Housekeeping

    now = [0.0]
    wall = records._clock()

    def old_call(name: str, days: int) -> CallRecord:
        start = wall - timedelta(days=days)
        return CallRecord(call_id=name, started_at=start, ended_at=start, direction="inbound", outcome="bot")

    records.add(old_call("ancient", 100))
    records.add(old_call("recent", 10))
    housekeeping = Housekeeping(LiveCallBoard(tmp_path / "live"), records, 90, monotonic=lambda: now[0])
    housekeeping.run_once()
    assert [r.call_id for r in records.list()] == ["recent"]
    records.add(old_call("ancient-2", 95))
    now[0] = 1800.0
    housekeeping.run_once()  # not yet an hour
    assert records.count() == 2
    now[0] = 3600.0
    housekeeping.run_once()
    assert [r.call_id for r in records.list()] == ["recent"]
