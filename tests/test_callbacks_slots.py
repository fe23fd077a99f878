"""Call-back slots (hours, holidays, lead time, capacity, nearest free slots) and booking from the dialog."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from callbot.callbacks import CallbackBooking, CallbackRefused, CallbackSlots, CallbackStore, SlotRules
from callbot.clock import ManualClock
from callbot.dialog.actions import CallContext, ScheduleCallback
from callbot.dialog.flow import CallbackRefusalPrompts
from callbot.queues import QueueDirectory

PARIS = ZoneInfo("Europe/Paris")


def paris(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=PARIS)


QUEUES = {
    "queues": {
        "service_client": {
            "sip_uri": "sip:service-client@pbx",
            "hours": {"lundi-vendredi": ["09:00-12:30", "14:00-18:00"], "samedi": ["09:00-12:00"]},
            "holidays": "FR",
        }
    }
}
#: The tests' "now": a Monday morning; call-backs are decided at this moment.
DECIDED = paris("2026-11-23 10:00")
CONTEXT = CallContext("+33611111111", "suivi_commande", {}, ("rappelez-moi",), "Suivi de commande")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(DECIDED)


@pytest.fixture
def store(tmp_path: Path, clock: ManualClock) -> Iterator[CallbackStore]:
    store = CallbackStore(tmp_path, clock=clock, max_per_phone_per_day=10)
    store.migrate()
    yield store
    store.close()


@pytest.fixture
def queues() -> QueueDirectory:
    return QueueDirectory.from_mapping(QUEUES)


@pytest.fixture
def slots(store: CallbackStore, queues: QueueDirectory, clock: ManualClock) -> CallbackSlots:
    return CallbackSlots(
        queues["service_client"], store, SlotRules(slot_minutes=15, per_slot=2, min_lead_s=900), clock
    )


def book(store: CallbackStore, at: datetime, phone: str) -> None:
    store.add(due_at=at, queue="service_client", phone=phone)


def test_a_free_slot_within_hours_is_accepted(slots: CallbackSlots) -> None:
    check = slots.check(paris("2026-11-24 15:10"))
    assert check.ok and check.code == "ok"
    assert check.slot_start == paris("2026-11-24 15:00")


@pytest.mark.parametrize(
    ("at", "code"),
    [
        ("2026-11-23 09:00", "past"),
        ("2026-11-23 10:10", "too_soon"),  # less than the 15 min lead time
        ("2026-11-23 13:00", "closed"),  # lunch
        ("2026-11-29 10:00", "closed"),  # Sunday
        ("2026-12-30 10:00", "too_far"),  # beyond 14 days
    ],
)
def test_times_the_queue_cannot_promise_are_refused(slots: CallbackSlots, at: str, code: str) -> None:
    check = slots.check(paris(at))
    assert not check.ok
    assert check.code == code


def test_christmas_day_is_refused_as_a_holiday(slots: CallbackSlots, clock: ManualClock) -> None:
    clock.now = paris("2026-12-21 10:00")
    check = slots.check(paris("2026-12-25 10:00"))
    assert not check.ok and check.code == "holiday"
    assert "Noël" in check.reason


def test_a_full_slot_proposes_the_nearest_free_slots_on_both_sides(
    slots: CallbackSlots, store: CallbackStore
) -> None:
    at = paris("2026-11-24 15:00")
    book(store, at, "0611111111")
    book(store, at + timedelta(minutes=7), "0622222222")
    check = slots.check(at + timedelta(minutes=3))
    assert not check.ok and check.code == "full"
    assert check.slot_start == at
    assert slots.nearest_free(at, 2) == [paris("2026-11-24 14:45"), paris("2026-11-24 15:15")]


def test_nearest_free_slots_stay_within_opening_hours(slots: CallbackSlots, store: CallbackStore) -> None:
    # The caller asks for 12:15, the last slot of the morning, and the last two are full: 11:45 before,
    # and the afternoon's first slot (14:00) after — nothing during lunch.
    for slot in ("12:00", "12:15"):
        for phone in ("0611111111", "0622222222"):
            book(store, paris(f"2026-11-24 {slot}"), phone)
    assert slots.nearest_free(paris("2026-11-24 12:15"), 2) == [
        paris("2026-11-24 11:45"),
        paris("2026-11-24 14:00"),
    ]
    assert slots.nearest_free(paris("2026-11-24 12:15"), 3) == [
        paris("2026-11-24 11:30"),
        paris("2026-11-24 11:45"),
        paris("2026-11-24 14:00"),
    ]


def test_nearest_free_from_a_holiday_lands_on_open_days(slots: CallbackSlots, clock: ManualClock) -> None:
    clock.now = paris("2026-12-22 10:00")
    # Noël (Friday 25): the nearest slots are Thursday's last and Saturday's first.
    assert slots.nearest_free(paris("2026-12-25 10:00"), 2) == [
        paris("2026-12-24 17:45"),
        paris("2026-12-26 09:00"),
    ]


def test_nearest_free_respects_the_lead_time(slots: CallbackSlots) -> None:
    # Now is 10:00 with a 15-minute lead time: 10:15 is the first slot that can be promised.
    assert slots.nearest_free(paris("2026-11-23 09:00"), 2) == [
        paris("2026-11-23 10:15"),
        paris("2026-11-23 10:30"),
    ]


def test_slot_rules_are_validated() -> None:
    with pytest.raises(ValueError, match="use a divisor of 60"):
        SlotRules(slot_minutes=25)
    with pytest.raises(ValueError, match="at least one call-back"):
        SlotRules(per_slot=0)


# ------------------------------------------------------------------------------------------ booking


@pytest.fixture
def booking(store: CallbackStore, queues: QueueDirectory, clock: ManualClock) -> CallbackBooking:
    return CallbackBooking(store, queues, SlotRules(per_slot=1, min_lead_s=900), clock)


def test_schedule_stores_the_confirmed_call_back(booking: CallbackBooking, store: CallbackStore) -> None:
    action = ScheduleCallback(
        at=paris("2026-11-24 15:00"), phone=None, queue="service_client", context=CONTEXT, decided_at=DECIDED
    )
    request = booking.schedule(action, caller="0611111111", call_id="call-9")
    assert store.get(request.id).phone == "+33611111111"  # the caller id when no number was given
    assert request.due_at == paris("2026-11-24 15:00")
    assert request.call_id == "call-9"


def test_schedule_refuses_a_full_slot_with_alternatives(booking: CallbackBooking) -> None:
    at = paris("2026-11-24 15:00")
    booking.schedule(ScheduleCallback(at, "0622222222", "service_client", CONTEXT, DECIDED))
    with pytest.raises(CallbackRefused) as caught:
        booking.schedule(ScheduleCallback(at, "0633333333", "service_client", CONTEXT, DECIDED))
    assert caught.value.code == "full"
    assert caught.value.alternatives == (paris("2026-11-24 14:45"), paris("2026-11-24 15:15"))
    assert booking.refusal_fr(caught.value) == (
        "Ce créneau est déjà complet. "
        "Je peux vous proposer demain, mardi 24 novembre, à 14 h 45 ou à 15 h 15."
    )


def test_a_refusal_is_said_in_the_flow_s_words(
    store: CallbackStore, queues: QueueDirectory, clock: ManualClock
) -> None:
    refusals = CallbackRefusalPrompts(
        too_far="C'est trop loin pour nous.",
        offer="Que diriez-vous de {slots} ?",
        no_free_slot="Tout est pris.",
    )
    booking = CallbackBooking(store, queues, SlotRules(min_lead_s=900), clock, refusals=refusals)
    check = booking.time_check("service_client")
    assert check(paris("2026-12-25 10:00")) == (
        "C'est trop loin pour nous. Que diriez-vous de lundi 7 décembre à 9 h 30 ou à 9 h 45 ?"
    )
    no_slot_left = CallbackRefused("too_far", "beyond the horizon", alternatives=())
    assert booking.refusal_fr(no_slot_left) == "C'est trop loin pour nous. Tout est pris."


def test_time_check_for_the_conversation_speaks_french(booking: CallbackBooking) -> None:
    check = booking.time_check("service_client")
    assert check(paris("2026-11-24 15:00")) is None
    assert check(paris("2026-12-25 10:00")) == (
        "Nous ne programmons pas de rappel aussi loin. "
        "Je peux vous proposer lundi 7 décembre à 9 h 30 ou à 9 h 45."
    )
    closed = check(paris("2026-11-23 13:00"))
    assert closed == (
        "Nos conseillers ne sont pas disponibles à ce moment-là. "
        "Je peux vous proposer aujourd'hui à 12 h 15 ou à 14 h."
    )


def test_time_check_on_a_holiday_offers_the_days_around_it(
    booking: CallbackBooking, clock: ManualClock
) -> None:
    clock.now = paris("2026-12-21 10:00")
    assert booking.time_check("service_client")(paris("2026-12-25 10:00")) == (
        "Ce jour-là est férié, nos conseillers ne sont pas disponibles. "
        "Je peux vous proposer jeudi 24 décembre à 17 h 45 ou samedi 26 décembre à 9 h."
    )


def test_schedule_refuses_an_unknown_queue(booking: CallbackBooking) -> None:
    with pytest.raises(CallbackRefused) as caught:
        booking.schedule(ScheduleCallback(paris("2026-11-24 15:00"), None, "sav", CONTEXT, DECIDED))
    assert caught.value.code == "unknown_queue"
    assert "unknown queue 'sav'" in str(caught.value)
