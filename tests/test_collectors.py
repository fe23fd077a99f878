"""The slot collectors both dialogs use (callbot/dialog/collectors.py): one per kind of value."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from callbot.clock import ManualClock
from callbot.dialog.collectors import (
    NUMBER_END_SILENCE_MS,
    DayCollector,
    EntityCollector,
    OrderNumberCollector,
    PhoneCollector,
    Problem,
    SlotValue,
    WhenCollector,
    YesNoCollector,
    keypad_moment,
)

PARIS = ZoneInfo("Europe/Paris")
MONDAY_3PM = datetime(2026, 11, 23, 15, 0, tzinfo=PARIS)


def collector(**options: object) -> WhenCollector:
    return WhenCollector(ManualClock(MONDAY_3PM), PARIS, **options)  # type: ignore[arg-type]


def test_the_day_echo_is_said_in_the_flow_s_words() -> None:
    when = collector(day_heard="Pour {day}, c'est entendu.", missing_time="Vers quelle heure ?")
    assert when.hear("demain") == Problem(
        "Pour demain, mardi 24 novembre, c'est entendu. Vers quelle heure ?", is_failure=False
    )
    assert collector(day_heard="{day} : très bien.").hear("jeudi") == Problem(
        "Jeudi 26 novembre : très bien. À quelle heure ?", is_failure=False
    )


def test_a_day_said_without_an_hour_is_remembered_for_the_next_answer() -> None:
    when = collector()
    first = when.hear("demain")
    assert first == Problem("Demain, mardi 24 novembre, d'accord. À quelle heure ?", is_failure=False)
    second = when.hear("à 15 h")
    assert isinstance(second, SlotValue)
    assert second.value == datetime(2026, 11, 24, 15, 0, tzinfo=PARIS)
    assert second.spoken == "demain, mardi 24 novembre, à 15 h"
    assert second.for_agents == "mardi 24 novembre à 15 h"


def test_another_day_with_its_hour_replaces_the_remembered_one() -> None:
    when = collector()
    when.hear("demain")
    thursday = when.hear("jeudi à 10 h")
    assert isinstance(thursday, SlotValue) and thursday.value.day == 26


@pytest.mark.parametrize(
    "heard", ["Je demande à 16 heures.", "Dommage à 16 heures.", "Après de nous à 16 heures."]
)
def test_once_the_day_is_given_what_only_sounds_like_tomorrow_is_the_hour_for_that_day(heard: str) -> None:
    """Whisper writes "Je demande à 16 heures." for "Demain à seize heures", so such a sentence is read
    as tomorrow; but after "Jeudi" and "À quelle heure ?" it answers the hour, for the day said."""
    when = collector()
    when.hear("jeudi")
    thursday = when.hear(heard)
    assert isinstance(thursday, SlotValue) and thursday.value == datetime(2026, 11, 26, 16, 0, tzinfo=PARIS)


def test_a_day_already_given_does_not_stop_tomorrow_said_in_so_many_words() -> None:
    when = collector()
    when.hear("jeudi")
    tomorrow = when.hear("Finalement demain à 16 heures.")
    assert isinstance(tomorrow, SlotValue) and tomorrow.value.day == 24


def test_forget_drops_the_remembered_day() -> None:
    when = collector()
    when.hear("demain")
    when.forget()
    assert when.hear("à 16 h") == SlotValue(
        datetime(2026, 11, 23, 16, 0, tzinfo=PARIS),
        "aujourd'hui à 16 h",
        for_agents="lundi 23 novembre à 16 h",
    )


def test_once_a_day_waits_for_its_hour_its_bookable_times_are_the_closed_set_of_answers() -> None:
    when = collector(check=lambda at: "Fermé le soir." if at.hour >= 18 else None)
    assert when.hour_answers() == {}  # no day said yet
    when.hear("demain")
    answers = when.hour_answers()
    assert answers["À 14h30."] == answers["À quatorze heures trente."] == "le 24 novembre à 14 h 30"
    assert answers["À midi."] == "le 24 novembre à 12 h" and "À une heures." not in answers
    assert "À 18h." not in answers and "À 17h30." in answers  # what the check refuses is not offered
    assert isinstance(when.hear(answers["À 9h."]), SlotValue)


def test_the_hours_offered_for_today_are_those_still_ahead() -> None:
    when = collector()
    when.hear("aujourd'hui")
    assert min(when.hour_answers().values()) == "le 23 novembre à 15 h 30"
    when.hear("la semaine prochaine")  # several days: the day is asked first, not the hour
    assert when.hour_answers() == {}


def test_a_moment_already_past_is_a_problem_with_the_flows_words() -> None:
    assert collector(past="C'est passé.").hear("ce matin à 10 h") == Problem("C'est passé.")


def test_the_queue_check_refuses_with_its_own_sentence() -> None:
    when = collector(check=lambda at: "Nos conseillers sont fermés le soir." if at.hour >= 18 else None)
    assert when.hear("demain à 19 h") == Problem("Nos conseillers sont fermés le soir.")
    assert isinstance(when.hear("demain à 11 h"), SlotValue)


def test_words_without_a_moment_are_not_for_this_collector() -> None:
    assert collector().hear("je voudrais parler à quelqu'un") is None


@pytest.mark.parametrize(
    ("keys", "said"), [("114", "demain à 14 h"), ("009", "aujourd'hui à 9 h"), ("217", "après-demain à 17 h")]
)
def test_keyed_times(keys: str, said: str) -> None:
    assert keypad_moment(keys) == said


@pytest.mark.parametrize("keys", ["14", "1145", "314", "125", "1a4"])
def test_keys_that_are_not_a_time(keys: str) -> None:
    assert keypad_moment(keys) is None


def test_a_keyed_time_is_collected_as_keyed() -> None:
    keyed = collector().keys("114")
    assert isinstance(keyed, SlotValue) and keyed.source == "dtmf"
    assert keyed.value == datetime(2026, 11, 24, 14, 0, tzinfo=PARIS)


def test_a_keyed_day_is_counted_from_today_whatever_week_was_said_before() -> None:
    when = collector()
    assert isinstance(when.hear("la semaine prochaine"), Problem)
    keyed = when.keys("114")
    assert isinstance(keyed, SlotValue) and keyed.value == datetime(2026, 11, 24, 14, 0, tzinfo=PARIS)


# ---------------------------------------------------------------------------------------- order numbers


def test_an_order_number_is_read_from_words_or_digits() -> None:
    order = OrderNumberCollector(6, 8)
    assert order.hear("ma commande quatre cinq huit un deux neuf") == SlotValue("458129", "458129")
    assert order.hear("c'est la CMD-458129") == SlotValue("458129", "458129")
    assert order.hear("je ne sais plus") is None


def test_an_order_number_too_short_for_the_flow_is_not_one() -> None:
    assert OrderNumberCollector(6, 8).hear("quatre cinq huit") is None


def test_a_keyed_order_number_is_collected_as_keyed_and_a_single_key_is_not_one() -> None:
    order = OrderNumberCollector(6, 8)
    assert order.keys("458129") == SlotValue("458129", "458129", "dtmf")
    assert order.keys("1") is None
    assert (order.max_keys, order.end_silence_ms) == (8, NUMBER_END_SILENCE_MS)


# ---------------------------------------------------------------------------------------- phone numbers


def test_a_phone_number_is_kept_in_e164_and_read_back_in_pairs() -> None:
    heard = PhoneCollector().hear("zéro six douze trente-quatre cinquante-six soixante-dix-huit")
    assert isinstance(heard, SlotValue)
    assert heard.value == "+33612345678"
    assert heard.spoken.replace("\u00a0", " ") == "06 12 34 56 78"


def test_a_keyed_phone_number_and_words_without_one() -> None:
    phone = PhoneCollector()
    keyed = phone.keys("0612345678")
    assert isinstance(keyed, SlotValue) and keyed.value == "+33612345678" and keyed.source == "dtmf"
    assert phone.hear("je préfère être rappelé demain") is None
    assert phone.max_keys == 10


def test_the_caller_id_is_a_value_marked_as_coming_from_the_line() -> None:
    caller = PhoneCollector.caller_id("+33612345678")
    assert caller is not None and caller.value == "+33612345678" and caller.source == "caller"
    assert PhoneCollector.caller_id(None) is None
    assert PhoneCollector.caller_id("anonymous") is None


# ---------------------------------------------------------------------------------------------- yes / no


@pytest.mark.parametrize(("said", "answer"), [("oui", True), ("c'est bien ça", True), ("non merci", False)])
def test_yes_and_no(said: str, answer: bool) -> None:
    heard = YesNoCollector().hear(said)
    assert heard is not None and heard.value is answer


def test_keys_one_and_two_answer_yes_and_no() -> None:
    yes_no = YesNoCollector()
    assert yes_no.keys("1") == SlotValue(True, "oui", "dtmf")
    assert yes_no.keys("2") == SlotValue(False, "non", "dtmf")
    assert yes_no.keys("5") is None


def test_a_weak_yes_counts_only_when_it_comes_back_the_same() -> None:
    yes_no = YesNoCollector(weak_yes=True)
    assert yes_no.hear("Bonne.") is None
    heard = yes_no.hear("Bah bon.")
    assert heard is not None and heard.value is True


def test_a_clear_answer_between_two_weak_yeses_resets_them() -> None:
    yes_no = YesNoCollector(weak_yes=True)
    yes_no.hear("Bonne.")
    yes_no.hear("je ne sais pas")
    assert yes_no.hear("Bonne.") is None


def test_without_weak_yes_a_bonne_is_never_a_yes() -> None:
    yes_no = YesNoCollector()
    assert yes_no.hear("Bonne.") is None
    assert yes_no.hear("Bonne.") is None


# --------------------------------------------------------------------------------------- entities, days


def test_an_entity_is_named_by_any_of_its_names() -> None:
    stores = EntityCollector(
        {"Lyon Part-Dieu": "lyon", "Part-Dieu": "lyon", "Lille": "lille"},
        {"lyon": "Lyon Part-Dieu", "lille": "Lille Centre"}.__getitem__,
    )
    assert stores.hear("celui de la Part-Dieu") == SlotValue("lyon", "Lyon Part-Dieu")
    assert stores.hear("à Lille") == SlotValue("lille", "Lille Centre")
    assert stores.hear("je ne sais pas") is None


def test_a_day_asked_about_stays_today_with_a_bare_hour() -> None:
    day = DayCollector(ManualClock(MONDAY_3PM), PARIS)
    assert day.hear("vous êtes ouverts à 9 h ?") == SlotValue(MONDAY_3PM.date(), "aujourd'hui")
    sunday = day.hear("et dimanche ?")
    assert isinstance(sunday, SlotValue) and sunday.value.isoformat() == "2026-11-29"


def test_everyday_words_of_a_name_name_no_entry() -> None:
    """Counted per entry, "part" and "dieu" (Part-Dieu) or "bureau" (lampe de bureau) would be an entry's
    own word; only a long one ("filament") that all an entry's aliases share counts as such."""
    from callbot.dialog import default_flow_path, load_flow
    from callbot.dialog.collectors import named_entry

    data = load_flow(default_flow_path()).data
    assert data is not None
    stores, products = data.names("stores"), data.names("products")
    for said in ("je vous appelle de la part de mon mari", "je pars en vacances", "mon dieu"):
        assert named_entry(said, stores) is None, said
    assert named_entry("je suis au bureau", products) is None
    assert named_entry("c'est l'enthous la filament", products) == "ampoule_filament"
    assert named_entry("le magasin du vie report", stores) == "marseille_vieux_port"
    assert named_entry("le magasin du vie report", stores, by_sound=False) is None
