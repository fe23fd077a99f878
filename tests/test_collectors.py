"""The date-and-time collector both dialogs book call-backs with (callbot/dialog/collectors.py)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from callbot.clock import ManualClock
from callbot.dialog.collectors import Problem, SlotValue, WhenCollector, keypad_moment

PARIS = ZoneInfo("Europe/Paris")
MONDAY_3PM = datetime(2026, 11, 23, 15, 0, tzinfo=PARIS)


def collector(**options: object) -> WhenCollector:
    return WhenCollector(ManualClock(MONDAY_3PM), PARIS, **options)  # type: ignore[arg-type]


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


def test_forget_drops_the_remembered_day() -> None:
    when = collector()
    when.hear("demain")
    when.forget()
    assert when.hear("à 16 h") == SlotValue(
        datetime(2026, 11, 23, 16, 0, tzinfo=PARIS),
        "aujourd'hui à 16 h",
        for_agents="lundi 23 novembre à 16 h",
    )


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
