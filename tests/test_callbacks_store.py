"""The call-back store on SQLite: durable before `add()` returns, WAL, migrations, limits, ops commands."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.exc import IntegrityError

import callbot.calls.schema  # noqa: F401 - call_records shares the metadata and the migrations
from callbot.callbacks import (
    CallbackLimits,
    CallbackNotFound,
    CallbackRefused,
    CallbackStateError,
    CallbackStatus,
    CallbackStore,
    SlotLimit,
)
from callbot.callbacks import store as callbot_store
from callbot.callbacks.admin import callbacks_main
from callbot.callbacks.schema import metadata
from callbot.clock import ManualClock
from callbot.dialog.actions import CallContext

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday 10:00 in Paris


CONTEXT = CallContext(
    caller="+33612345678",
    intent="suivi_commande",
    slots={"numero_commande": "458129", "rappel": datetime(2026, 11, 24, 15, 0, tzinfo=PARIS)},
    transcript=("je voudrais savoir où en est ma commande", "rappelez-moi demain à 15 h"),
    summary="Suivi de commande 458129 : rappel programmé",
)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def store(tmp_path: Path, clock: ManualClock) -> Iterator[CallbackStore]:
    store = CallbackStore(tmp_path / "var", clock=clock, max_per_phone_per_day=2)
    store.migrate()
    yield store
    store.close()


def paris(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=PARIS)


# ------------------------------------------------------------------------------------------ durability


def test_sqlite_file_is_in_wal_mode_with_full_sync(store: CallbackStore, tmp_path: Path) -> None:
    path = tmp_path / "var" / "callbot.db"
    assert path.exists()
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL


def test_a_row_added_by_a_process_killed_right_after_survives(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    CallbackStore(data_dir).migrate()
    child = textwrap.dedent(
        f"""
        import sys, time
        from datetime import UTC, datetime, timedelta
        from callbot.callbacks import CallbackStore
        store = CallbackStore({str(data_dir)!r})
        request = store.add(due_at=datetime.now(UTC) + timedelta(hours=2), queue="service_client",
                            phone="06 12 34 56 78", context={{"summary": "rappel"}}, call_id="call-42")
        print(request.id, flush=True)
        time.sleep(60)
        """
    )
    process = subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        added = process.stdout.readline().strip()
        os.kill(process.pid, signal.SIGKILL)  # no clean-up, no checkpoint: only what was committed
    finally:
        process.wait(timeout=10)
    assert process.returncode == -signal.SIGKILL
    reopened = CallbackStore(data_dir)
    request = reopened.get(added)
    assert request.phone == "+33612345678"
    assert request.status == CallbackStatus.PENDING
    assert request.call_id == "call-42"
    reopened.close()


# ------------------------------------------------------------------------------------------ schema


def test_migrations_create_exactly_the_schema_the_code_reads(store: CallbackStore) -> None:
    with store.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
        version = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    assert differences == []
    assert version == "0004"


def test_upgrading_a_first_schema_database_keeps_its_rows_and_allows_expired(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config

    old = CallbackStore(tmp_path / "old", clock=ManualClock(NOW))
    config = Config()
    config.set_main_option("script_location", str(Path(callbot_store.__file__).parent / "migrations"))
    with old.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
    kept = old.add(due_at=NOW + timedelta(hours=1), queue="q", phone="0612345678")
    with pytest.raises(IntegrityError):  # the first schema does not know the status
        old.add(due_at=NOW - timedelta(hours=1), queue="q", phone="0612345678", as_of=NOW - timedelta(days=1))
    old.migrate()
    assert old.get(kept.id).status == CallbackStatus.PENDING
    late = old.add(
        due_at=NOW - timedelta(hours=1), queue="q", phone="0612345678", as_of=NOW - timedelta(days=1)
    )
    assert late.status == CallbackStatus.EXPIRED
    with old.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    with pytest.raises(IntegrityError), old.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE callback_requests SET status = 'lost'")
    old.close()


def test_migrate_twice_is_harmless(store: CallbackStore) -> None:
    store.add(due_at=NOW + timedelta(hours=1), queue="q", phone="0612345678")
    store.migrate()
    assert len(store.list()) == 1


# ------------------------------------------------------------------------------------------ add / read


def test_add_stores_everything_the_agent_needs(store: CallbackStore) -> None:
    due = paris("2026-11-24 15:00")
    added = store.add(
        due_at=due,
        queue="service_client",
        phone="06 12 34 56 78",
        context=CONTEXT,
        caller="+33612345678",
        call_id="call-1",
    )
    got = store.get(added.id)
    assert got == added
    assert got.due_at == due and got.due_at.tzinfo == UTC
    assert got.phone == "+33612345678"
    assert got.status == CallbackStatus.PENDING and got.attempts == 0
    assert got.next_attempt_at == due
    assert got.context["slots"]["rappel"] == "2026-11-24T15:00:00+01:00"
    assert got.call_context().transcript == CONTEXT.transcript
    assert got.call_context().summary == CONTEXT.summary


def test_naive_due_time_is_paris_time(store: CallbackStore) -> None:
    added = store.add(due_at=datetime(2026, 11, 24, 15, 0), queue="q", phone="0612345678")
    assert added.due_at == datetime(2026, 11, 24, 14, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("phone", "code"),
    [
        (None, "invalid_phone"),
        ("12", "invalid_phone"),
        ("pas de numéro", "invalid_phone"),
        ("08 99 23 45 67", "phone_not_allowed"),  # premium rate
        ("+44 20 7946 0958", "phone_not_allowed"),  # London
    ],
)
def test_numbers_that_must_not_be_called_are_refused(
    store: CallbackStore, phone: str | None, code: str
) -> None:
    with pytest.raises(CallbackRefused) as caught:
        store.add(due_at=NOW + timedelta(hours=1), queue="q", phone=phone)
    assert caught.value.code == code
    assert store.list() == []


def test_overseas_french_numbers_are_accepted(store: CallbackStore) -> None:
    assert (
        store.add(due_at=NOW + timedelta(hours=1), queue="q", phone="0692 12 34 56").phone == "+262692123456"
    )


def test_past_times_are_refused(store: CallbackStore) -> None:
    with pytest.raises(CallbackRefused) as caught:
        store.add(due_at=NOW - timedelta(hours=1), queue="q", phone="0612345678")
    assert caught.value.code == "past"


def test_a_call_judges_the_past_on_its_own_clock_not_the_stores(store: CallbackStore) -> None:
    """A call replayed "as of" a week ago decides as it did then: tomorrow at 15 h was not past then."""
    week_ago = NOW - timedelta(days=7)
    added = store.add(
        due_at=week_ago + timedelta(days=1), queue="q", phone="0612345678", as_of=week_ago, call_id="r-1"
    )
    assert added.due_at == week_ago + timedelta(days=1)
    with pytest.raises(CallbackRefused) as caught:  # before the call's own "now": past, as on the line
        store.add(due_at=week_ago - timedelta(hours=1), queue="q", phone="0612345678", as_of=week_ago)
    assert caught.value.code == "past"


def test_a_replayed_call_back_whose_time_has_passed_is_stored_expired_and_never_dialled(
    store: CallbackStore,
) -> None:
    week_ago = NOW - timedelta(days=7)
    expired = store.add(due_at=week_ago + timedelta(days=1), queue="q", phone="0612345678", as_of=week_ago)
    assert expired.status == CallbackStatus.EXPIRED
    assert expired.last_reason == "decided as of 2026-11-16T10:00+01:00; its time had passed when stored"
    assert store.get(expired.id).status == CallbackStatus.EXPIRED
    assert store.claim_due(NOW + timedelta(days=30), "gw1", lease_s=60, limit=10) == []
    # It holds no place: neither the number's daily limit nor a slot counts it.
    due = week_ago + timedelta(days=1, hours=1)
    for _ in range(3):
        store.add(due_at=due, queue="q", phone="0612345678", as_of=week_ago)
    slot = SlotLimit("q", due, due + timedelta(minutes=15), capacity=1)
    store.add(due_at=due, queue="q", phone="0698765432", as_of=week_ago, slot=slot)
    # Ops may turn it into a real call-back.
    moved = store.reschedule(expired.id, NOW + timedelta(hours=2))
    assert moved.status == CallbackStatus.PENDING


def test_a_replayed_call_back_still_to_come_is_pending(store: CallbackStore) -> None:
    added = store.add(
        due_at=NOW + timedelta(days=1), queue="q", phone="0612345678", as_of=NOW - timedelta(days=1)
    )
    assert added.status == CallbackStatus.PENDING and added.last_reason is None


def test_abuse_limit_per_phone_per_day(store: CallbackStore) -> None:
    for hour in (11, 14):
        store.add(due_at=paris(f"2026-11-24 {hour}:00"), queue="q", phone="06 12 34 56 78")
    with pytest.raises(CallbackRefused) as caught:
        store.add(due_at=paris("2026-11-24 16:00"), queue="other", phone="+33612345678")
    assert caught.value.code == "phone_limit"
    assert "+33612345678 already has 2 call-backs planned on 2026-11-24 (limit 2 a day)" in str(caught.value)
    # Another day, or another number, is fine; a cancelled one frees its place.
    store.add(due_at=paris("2026-11-25 10:00"), queue="q", phone="0612345678")
    store.add(due_at=paris("2026-11-24 16:00"), queue="q", phone="0698765432")
    store.cancel(store.list(day=date(2026, 11, 24), queue="q")[0].id)
    store.add(due_at=paris("2026-11-24 16:00"), queue="q", phone="0612345678")


@pytest.mark.parametrize(
    ("phone", "region"),
    [("+687 75 12 34", "NC"), ("+689 87 12 34 56", "PF"), ("+681 82 12 34", "WF"), ("+508 55 12 34", "PM")],
)
def test_numbers_billed_as_international_are_refused_by_default(
    store: CallbackStore, phone: str, region: str
) -> None:
    """New Caledonia, French Polynesia, Wallis and Futuna, Saint-Pierre: French, but international calls."""
    with pytest.raises(CallbackRefused) as caught:
        store.add(due_at=NOW + timedelta(hours=1), queue="q", phone=phone)
    assert caught.value.code == "phone_not_allowed" and f"a number in {region}" in str(caught.value)


@pytest.mark.parametrize("phone", ["0590 27 12 34", "0696 12 34 56", "0594 29 12 34", "0639 01 23 45"])
def test_overseas_departments_billed_as_national_are_accepted(store: CallbackStore, phone: str) -> None:
    assert store.add(due_at=NOW + timedelta(hours=1), queue="q", phone=phone).status == CallbackStatus.PENDING


def limited_store(tmp_path: Path, clock: ManualClock, **limits: int | bool) -> CallbackStore:
    store = CallbackStore(tmp_path / "limited", clock=clock, limits=CallbackLimits(**limits))  # type: ignore[arg-type]
    store.migrate()
    return store


def numbers(count: int) -> list[str]:
    return [f"+336120000{index:02d}" for index in range(count)]


def test_default_limits_apply_without_any_queues_file(tmp_path: Path, clock: ManualClock) -> None:
    """The defaults alone: nothing beyond 14 days, 20 due in one 15-minute window over all queues,
    5 pending for one number over several days."""
    store = limited_store(tmp_path, clock)
    with pytest.raises(CallbackRefused) as caught:
        store.add(due_at=NOW + timedelta(days=15), queue="q", phone="0612345678")
    assert caught.value.code == "too_far"
    due = paris("2026-11-24 10:05")
    for phone in numbers(20):
        store.add(due_at=due, queue="any", phone=phone)
    with pytest.raises(CallbackRefused) as caught:
        store.add(due_at=paris("2026-11-24 10:14"), queue="other", phone="0698765432")
    assert caught.value.code == "callbacks_full"
    store.add(due_at=paris("2026-11-24 10:15"), queue="other", phone="0698765432")  # next window
    for day in range(25, 30):
        store.add(due_at=paris(f"2026-11-{day} 11:00"), queue="q", phone="0611111111")
    with pytest.raises(CallbackRefused) as caught:
        store.add(due_at=paris("2026-11-30 11:00"), queue="q", phone="0611111111")
    assert caught.value.code == "phone_pending"
    store.close()


def test_a_day_cap_holds_over_every_queue_and_window(tmp_path: Path, clock: ManualClock) -> None:
    store = limited_store(tmp_path, clock, max_per_day=3)
    for hour, phone in zip((9, 12, 15), numbers(3), strict=True):
        store.add(due_at=paris(f"2026-11-24 {hour:02d}:00"), queue=f"q{hour}", phone=phone)
    with pytest.raises(CallbackRefused) as caught:
        store.add(due_at=paris("2026-11-24 18:00"), queue="q", phone="0698765432")
    assert caught.value.code == "day_full"
    store.add(due_at=paris("2026-11-25 09:00"), queue="q", phone="0698765432")
    store.close()


def test_a_call_without_a_valid_caller_id_books_nothing_when_so_configured(
    tmp_path: Path, clock: ManualClock
) -> None:
    store = limited_store(tmp_path, clock, refuse_hidden_caller=True)
    due = NOW + timedelta(hours=2)
    with pytest.raises(CallbackRefused) as caught:
        store.add(due_at=due, queue="q", phone="0612345678", caller=None, call_id="hidden-1")
    assert caught.value.code == "caller_id_required"
    store.add(due_at=due, queue="q", phone="0612345678", caller="+33698765432", call_id="shown-1")
    store.add(due_at=due, queue="q", phone="0611111111")  # an operator's own booking has no call
    store.close()


def test_slot_limit_is_checked_when_writing(store: CallbackStore) -> None:
    start = paris("2026-11-24 10:00")
    slot = SlotLimit("q", start, start + timedelta(minutes=15), capacity=2)
    store.add(due_at=start, queue="q", phone="0611111111", slot=slot)
    store.add(due_at=start + timedelta(minutes=10), queue="q", phone="0622222222", slot=slot)
    with pytest.raises(CallbackRefused) as caught:
        store.add(due_at=start + timedelta(minutes=5), queue="q", phone="0633333333", slot=slot)
    assert caught.value.code == "slot_full"
    # Another queue's slot is counted apart.
    store.add(due_at=start, queue="other", phone="0633333333", slot=SlotLimit("other", start, start, 0 + 1))


def test_the_same_call_storing_the_same_request_twice_gets_one_row(store: CallbackStore) -> None:
    due = paris("2026-11-24 15:00")
    first = store.add(due_at=due, queue="q", phone="0612345678", call_id="call-7")
    again = store.add(due_at=due, queue="q", phone="06 12 34 56 78", call_id="call-7")
    assert again.id == first.id
    assert len(store.list()) == 1


def test_list_filters_by_paris_day_status_and_queue(store: CallbackStore) -> None:
    late = store.add(due_at=paris("2026-11-24 23:30"), queue="q", phone="0611111111")  # 22:30 UTC
    early = store.add(
        due_at=paris("2026-11-24 00:30"), queue="q", phone="0622222222"
    )  # 23:30 UTC the day before
    other = store.add(due_at=paris("2026-11-25 09:00"), queue="sav", phone="0633333333")
    store.cancel(other.id)
    assert [r.id for r in store.list(day=date(2026, 11, 24))] == [early.id, late.id]
    assert [r.id for r in store.list(status="cancelled")] == [other.id]
    assert [r.id for r in store.list(queue="sav")] == [other.id]
    assert store.list(day=date(2026, 11, 25), status=CallbackStatus.PENDING) == []
    with pytest.raises(ValueError, match="unknown status 'waiting' — use one of pending"):
        store.list(status="waiting")


def test_get_and_resolve_by_prefix(store: CallbackStore) -> None:
    added = store.add(due_at=NOW + timedelta(hours=1), queue="q", phone="0612345678")
    assert store.resolve(added.id.hex[:8]).id == added.id
    assert store.resolve(str(added.id)).id == added.id
    with pytest.raises(CallbackNotFound, match="no call-back with id"):
        store.get(uuid.uuid4())
    with pytest.raises(CallbackNotFound):
        store.resolve("zz")


# ------------------------------------------------------------------------------------------ ops changes


def test_cancel_and_reschedule(store: CallbackStore, clock: ManualClock) -> None:
    added = store.add(due_at=paris("2026-11-24 15:00"), queue="q", phone="0612345678")
    cancelled = store.cancel(added.id, "le client a rappelé")
    assert cancelled.status == CallbackStatus.CANCELLED and cancelled.last_reason == "le client a rappelé"
    with pytest.raises(CallbackStateError, match="already cancelled"):
        store.cancel(added.id)
    moved = store.reschedule(added.id, paris("2026-11-25 10:00"))
    assert moved.status == CallbackStatus.PENDING
    assert moved.due_at == moved.next_attempt_at == paris("2026-11-25 10:00")
    assert moved.attempts == 0
    with pytest.raises(CallbackRefused, match="in the past"):
        store.reschedule(added.id, paris("2026-11-20 10:00"))


def test_exports_csv_and_json(store: CallbackStore) -> None:
    store.add(due_at=paris("2026-11-24 15:00"), queue="q", phone="0612345678", context=CONTEXT, call_id="c1")
    store.add(due_at=paris("2026-11-25 15:00"), queue="q", phone="0698765432")
    text = io.StringIO()
    assert store.export_csv(text, day=date(2026, 11, 24), delimiter=";") == 1
    rows = list(csv.DictReader(io.StringIO(text.getvalue()), delimiter=";"))
    assert rows[0]["due_at"] == "2026-11-24T15:00:00+01:00"
    assert rows[0]["phone"] == "+33612345678"
    assert rows[0]["summary"] == CONTEXT.summary
    assert json.loads(rows[0]["slots"])["numero_commande"] == "458129"
    out = io.StringIO()
    assert store.export_json(out) == 2
    exported = json.loads(out.getvalue())
    assert exported[0]["context"]["intent"] == "suivi_commande"
    assert exported[1]["phone"] == "+33698765432"


# ------------------------------------------------------------------------------------------ CLI helpers


def test_cli_list_show_cancel_reschedule_export(
    store: CallbackStore, tmp_path: Path, clock: ManualClock
) -> None:
    added = store.add(
        due_at=paris("2026-11-24 15:00"), queue="service_client", phone="0612345678", context=CONTEXT
    )
    out, err = io.StringIO(), io.StringIO()
    assert callbacks_main(["list", "--day", "tomorrow"], store, out=out, err=err, clock=clock) == 0
    table = out.getvalue()
    assert added.id.hex[:8] in table and "2026-11-24 15:00" in table and "+33612345678" in table
    assert "1 call-back(s)" in err.getvalue()

    out = io.StringIO()
    assert callbacks_main(["show", added.id.hex[:6]], store, out=out, err=err, clock=clock) == 0
    assert "je voudrais savoir où en est ma commande" in out.getvalue()
    assert "slot numero_commande: 458129" in out.getvalue()

    out = io.StringIO()
    assert callbacks_main(["reschedule", added.id.hex[:8], "2026-11-24 16:30"], store, out=out, err=err) == 0
    assert store.get(added.id).due_at == paris("2026-11-24 16:30")

    target = tmp_path / "export.csv"
    assert callbacks_main(["export", "--status", "pending", "-o", str(target)], store, out=out, err=err) == 0
    assert "+33612345678" in target.read_text(encoding="utf-8")

    assert callbacks_main(["cancel", added.id.hex[:8]], store, out=out, err=err) == 0
    assert store.get(added.id).status == CallbackStatus.CANCELLED


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["show", "abcdef12"], "error: no call-back with id 'abcdef12'"),
        (["list", "--day", "24/11"], "error: '24/11' is not a day — write 2026-11-24, today or tomorrow"),
        (["list", "--status", "ok"], "error: unknown status 'ok'"),
    ],
)
def test_cli_errors_are_one_line(store: CallbackStore, argv: list[str], message: str) -> None:
    err = io.StringIO()
    assert callbacks_main(argv, store, out=io.StringIO(), err=err) == 1
    assert err.getvalue().startswith(message)
    assert err.getvalue().count("\n") == 1


def test_cli_refuses_to_cancel_a_done_call_back(store: CallbackStore) -> None:
    added = store.add(due_at=NOW + timedelta(minutes=30), queue="q", phone="0612345678")
    store.cancel(added.id)
    err = io.StringIO()
    assert callbacks_main(["cancel", str(added.id)], store, out=io.StringIO(), err=err) == 1
    assert "is already cancelled; nothing to cancel" in err.getvalue()
