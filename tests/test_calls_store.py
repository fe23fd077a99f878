"""Call records: the migration, storing and reading calls, statistics, CSV export, purge and the
`callbot calls` commands, on SQLite (PostgreSQL: tests/test_calls_postgres.py)."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

import callbot.calls.schema  # noqa: F401 - registers call_records on the shared metadata
from callbot import cli
from callbot.callbacks import CallbackStore
from callbot.callbacks import store as callbot_store
from callbot.callbacks.schema import metadata
from callbot.calls import CallRecord, CallRecordStore, outcome_of, percentile
from callbot.calls.schema import webhook_outbox
from callbot.clock import ManualClock, wall_clock

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # Monday 16:00 in Paris


def call(
    minutes_ago: float, outcome: str, *, queue: str | None = None, p95: int | None = 900, **more: object
) -> CallRecord:
    start = NOW - timedelta(minutes=minutes_ago)
    values: dict[str, object] = {
        "call_id": f"call-{minutes_ago}-{outcome}",
        "started_at": start,
        "ended_at": start + timedelta(seconds=40),
        "direction": "inbound",
        "outcome": outcome,
        "queue": queue,
        "caller": "+33612345678",
        "called": "3000",
        "flow": "retail",
        "flow_hash": "0123456789ab",
        "intents": ("horaires",),
        "turns": 2,
        "response_p50_ms": 700 if p95 else None,
        "response_p95_ms": p95,
        "transcript": ("Bot : Bonjour.", "Client : quels sont vos horaires"),
        **more,
    }
    return CallRecord(**values)  # type: ignore[arg-type]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def callbacks(tmp_path: Path, clock: ManualClock) -> Iterator[CallbackStore]:
    store = CallbackStore(tmp_path / "data", clock=clock)
    store.migrate()
    yield store
    store.close()


@pytest.fixture
def records(callbacks: CallbackStore, clock: ManualClock) -> CallRecordStore:
    return CallRecordStore(callbacks, clock=clock)


# ------------------------------------------------------------------------------------------ schema


def test_the_migration_adds_call_records_to_a_call_back_database_and_keeps_its_rows(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config

    old = CallbackStore(tmp_path / "old", clock=ManualClock(NOW))
    config = Config()
    config.set_main_option("script_location", str(Path(callbot_store.__file__).parent / "migrations"))
    with old.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")
    kept = old.add(due_at=NOW + timedelta(hours=1), queue="q", phone="0612345678")
    old.migrate()
    assert old.get(kept.id).queue == "q"
    with old.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == "0004"
    CallRecordStore(old).add(call(5, "bot"))
    with pytest.raises(IntegrityError):  # the database itself refuses an outcome nobody reads
        CallRecordStore(old).add(call(5, "lost"))
    with old.engine.begin() as connection:  # and the migration goes back down cleanly
        config.attributes["connection"] = connection
        command.downgrade(config, "0002")
    assert old.get(kept.id).queue == "q"
    old.close()


# ------------------------------------------------------------------------------------------ records


def test_a_stored_call_reads_back_whole_by_call_id_and_by_id_prefix(records: CallRecordStore) -> None:
    stored = records.add(call(3, "transferred", queue="service_client", errors=1, error_text="boom"))
    got = records.get(stored.call_id)
    assert got == stored
    assert got.started_at.tzinfo == UTC
    assert records.get(stored.id.hex[:8]) == stored
    with pytest.raises(KeyError):
        records.get("no-such-call")


def test_list_is_most_recent_first_and_filters_by_period_and_outcome(records: CallRecordStore) -> None:
    for minutes, outcome in [(50, "bot"), (10, "abandoned"), (30, "transferred"), (60 * 30, "bot")]:
        records.add(call(minutes, outcome, queue="service_client" if outcome == "transferred" else None))
    today = records.list(NOW - timedelta(hours=5), NOW)
    assert [r.outcome for r in today] == ["abandoned", "transferred", "bot"]
    assert [r.outcome for r in records.list(outcome="bot")] == ["bot", "bot"]
    assert len(records.list(limit=2)) == 2


def test_stats_give_containment_transfers_per_queue_call_backs_abandons_and_errors(
    records: CallRecordStore,
) -> None:
    batch = [
        call(1, "bot", p95=800),
        call(2, "bot", p95=1200),
        call(3, "transferred", queue="service_client", p95=900),
        call(4, "transferred", queue="service_client"),
        call(5, "transferred", queue="commandes", errors=1, error_text="synthesis failed"),
        call(6, "callback", queue="commandes"),
        call(7, "abandoned", p95=None),
        call(8, "error", errors=2, p95=3000),
    ]
    for record in batch:
        records.add(record)
    records.add(call(60 * 26, "transferred", queue="service_client"))  # yesterday: not counted
    stats = records.day_stats(NOW.date()).as_dict()
    assert stats["calls"] == 8
    assert stats["containment"] == 0.25  # 2 of 8 resolved by the bot alone
    assert stats["transfers_by_queue"] == {"commandes": 1, "service_client": 2}
    assert stats["callbacks_booked"] == 1
    assert stats["abandoned"] == 1
    assert stats["errors"] == 2  # calls with at least one error
    assert stats["response_p95_ms"] == 3000


def test_stats_of_an_empty_day_have_no_containment(records: CallRecordStore) -> None:
    assert records.day_stats(NOW.date()).as_dict()["containment"] is None


def test_purge_deletes_old_calls_with_their_recording_and_event_log(
    records: CallRecordStore, tmp_path: Path
) -> None:
    old_wav = tmp_path / "old.wav"
    new_wav = tmp_path / "new.wav"
    for path in (old_wav, old_wav.with_suffix(".jsonl"), new_wav, new_wav.with_suffix(".jsonl")):
        path.write_bytes(b"x")
    records.add(call(60 * 24 * 31, "bot", recording_path=str(old_wav)))
    records.add(call(60 * 24 * 29, "bot", recording_path=str(new_wav)))
    assert records.purge(30) == 1
    assert records.count() == 1
    assert not old_wav.exists() and not old_wav.with_suffix(".jsonl").exists()
    assert new_wav.exists() and new_wav.with_suffix(".jsonl").exists()


def test_purge_also_deletes_webhook_deliveries_waiting_since_before_the_retention(
    callbacks: CallbackStore, records: CallRecordStore
) -> None:
    """They carry the caller's number (and the transcript, for a target that asks for it)."""
    from callbot.ops.outbox import WebhookOutbox

    def waiting_since(days: int) -> None:
        then = ManualClock(NOW - timedelta(days=days))
        WebhookOutbox(callbacks, clock=then).add(uuid.uuid4(), "call_ended", "http://crm/hook", b"{}")

    waiting_since(31)
    waiting_since(29)
    records.purge(30)
    with callbacks.engine.connect() as conn:
        ages = [row.created_at for row in conn.execute(select(webhook_outbox)).all()]
    assert ages == [NOW - timedelta(days=29)]


def test_csv_export_has_one_line_per_call_in_paris_time_without_transcripts(records: CallRecordStore) -> None:
    records.add(call(3, "transferred", queue="service_client"))
    out = io.StringIO()
    assert records.export_csv(out, records.list(), delimiter=";") == 1
    rows = list(csv.DictReader(io.StringIO(out.getvalue()), delimiter=";"))
    assert rows[0]["started_at"] == "2026-11-23T15:57:00+01:00"
    assert rows[0]["queue"] == "service_client"
    assert "transcript" not in rows[0]


# ------------------------------------------------------------------------------------------ outcome


@pytest.mark.parametrize(
    ("session_outcome", "understood", "errors", "expected"),
    [
        ({"type": "transfer", "queue": "service_client"}, 0, 0, ("transferred", "service_client")),
        (
            {"type": "transfer", "queue": "service_client", "reason": "error"},
            0,
            1,
            ("transferred", "service_client"),
        ),
        ({"type": "callback", "queue": "commandes"}, 2, 0, ("callback", "commandes")),
        ({"type": "hangup", "reason": "goodbye"}, 1, 0, ("bot", None)),
        ({"type": "caller_hangup"}, 1, 0, ("bot", None)),
        ({"type": "caller_hangup"}, 0, 0, ("abandoned", None)),
        ({"type": "caller_hangup"}, 1, 1, ("error", None)),
        (None, 0, 0, ("error", None)),
    ],
)
def test_outcome_of_a_session(
    session_outcome: dict[str, str] | None, understood: int, errors: int, expected: tuple[str, str | None]
) -> None:
    assert outcome_of(session_outcome, understood, errors) == expected


def test_percentile_is_nearest_rank() -> None:
    assert percentile([], 0.95) is None
    assert percentile([100, 300, 200], 0.5) == 200
    assert percentile(list(range(1, 21)), 0.95) == 19


# ------------------------------------------------------------------------------------------ CLI


def run_cli(config: Path, *argv: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(["--config", str(config), "calls", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_list_show_stats_export_and_purge(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "callbot.yaml"
    config.write_text(yaml.safe_dump({"data_dir": str(tmp_path / "data"), "calls": {"retention_days": 30}}))
    store = CallbackStore(tmp_path / "data")
    store.migrate()
    records = CallRecordStore(store)
    day = NOW.astimezone(ZoneInfo("Europe/Paris")).date().isoformat()
    records.add(call(3, "transferred", queue="service_client"))
    records.add(call(4, "bot"))
    records.add(call(60 * 24 * 400, "bot"))  # over a year ago

    code, out, _ = run_cli(config, "list", "--day", day, capsys=capsys)
    assert code == 0 and "transferred" in out and "service_client" in out and len(out.splitlines()) == 3
    code, out, _ = run_cli(config, "stats", "--day", day, "--json", capsys=capsys)
    figures = json.loads(out)
    assert (figures["calls"], figures["containment"], figures["transfers_by_queue"]) == (
        2,
        0.5,
        {"service_client": 1},
    )
    code, out, _ = run_cli(config, "stats", "--from", f"{day} 00:00", "--to", f"{day} 23:59", capsys=capsys)
    assert "containment:       50.0%" in out and "to service_client: 1" in out
    code, out, _ = run_cli(config, "show", "call-3-transferred", capsys=capsys)
    assert "Client : quels sont vos horaires" in out and "service_client" in out
    target = tmp_path / "calls.csv"
    code, _, err = run_cli(config, "export", "--day", day, "-o", str(target), capsys=capsys)
    assert code == 0 and "2 call(s)" in err and len(target.read_text().splitlines()) == 3
    # The purge counts from today's date, the records from NOW: a retention that starts 30 days after NOW
    # keeps the two calls of that day and drops the one a year older, whatever today is.
    days = (wall_clock() - NOW).days + 30
    code, out, _ = run_cli(config, "purge", "--older-than", str(days), capsys=capsys)
    assert out.startswith(f"1 call record(s) older than {days} days")
    assert records.count() == 2
    store.close()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["show", "nothing-like-it"], "no call 'nothing-like-it'"),
        (["stats", "--day", "someday"], "is not a day"),
        (["list", "--day", "today", "--from", "2026-11-23 08:00"], "not both"),
        (["stats", "--from", "2026-11-23 18:00", "--to", "2026-11-23 08:00"], "--to must come after --from"),
    ],
)
def test_cli_errors_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    config = tmp_path / "callbot.yaml"
    config.write_text(yaml.safe_dump({"data_dir": str(tmp_path / "data")}))
    code, _, err = run_cli(config, *argv, capsys=capsys)
    assert code == 1
    assert message in err and len(err.strip().splitlines()) == 1


def test_an_unreachable_database_is_one_line_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "callbot.yaml"
    config.write_text(yaml.safe_dump({"database_url": "postgresql://nobody@127.0.0.1:1/none"}))
    assert cli.main(["--config", str(config), "calls", "stats"]) == 2
    err = capsys.readouterr().err
    assert "cannot migrate the call-back database" in err and len(err.strip().splitlines()) == 1
