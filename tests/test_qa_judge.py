"""Judging a call: each expectation of the suite format, met and not met, and how a miss is worded."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from callbot.qa.judge import Observed, is_subsequence, judge
from callbot.qa.suite import Expect

PARIS = ZoneInfo("Europe/Paris")

CALLBACK = Observed(
    outcome="callback",
    queue="service_client",
    callback_at="2026-11-24T15:00:00+01:00",
    intents=["rappel", "rappel", "oui"],
    slots={"creneau_rappel": "2026-11-24T15:00:00+01:00", "numero_commande": "458129"},
    bot_said=["Je vous rappelle demain, mardi 24 novembre, à 15\u00a0h. C'est bien ça ?", "C'est noté."],
    transcript=["Rappelez-moi demain à 15 h", "Oui"],
    response_ms=[720, 1480],
)


def messages(expect: Expect, got: Observed = CALLBACK) -> list[str]:
    return [str(f) for f in judge(expect, got)]


def test_a_call_that_does_what_the_suite_says_passes() -> None:
    expect = Expect(
        outcome="callback",
        callback_at=datetime(2026, 11, 24, 15, 0, tzinfo=PARIS),
        queue="service_client",
        intents=["rappel", "oui"],
        slots={"numero_commande": "458129"},
        bot_says=["à 15 h", "c'est noté"],
        max_response_ms=1500,
    )
    assert judge(expect, CALLBACK) == []


def test_nothing_expected_nothing_checked() -> None:
    assert judge(Expect(), CALLBACK) == []


def test_each_miss_says_expected_and_got() -> None:
    expect = Expect(outcome="transfer", queue="commandes", intents=["conseiller"], max_response_ms=1000)
    assert messages(expect) == [
        "outcome: expected transfer, got callback",
        "queue: expected commandes, got service_client",
        "intents: expected [conseiller], got [rappel, rappel, oui]",
        "max_response_ms: expected <= 1000, got 1480",
    ]


def test_the_callback_time_is_compared_as_an_instant() -> None:
    same_instant = datetime(2026, 11, 24, 14, 0, tzinfo=ZoneInfo("UTC"))
    assert judge(Expect(callback_at=same_instant), CALLBACK) == []
    assert messages(Expect(callback_at=datetime(2026, 11, 24, 16, 0, tzinfo=PARIS))) == [
        "callback_at: expected 2026-11-24T16:00:00+01:00, got 2026-11-24T15:00:00+01:00"
    ]
    hung_up = Observed(outcome="hangup")
    assert messages(Expect(callback_at=datetime(2026, 11, 24, 16, 0, tzinfo=PARIS)), hung_up) == [
        "callback_at: expected 2026-11-24T16:00:00+01:00, got nothing"
    ]


def test_intents_must_come_in_order_but_others_may_come_between() -> None:
    assert is_subsequence(["rappel", "oui"], ["bonjour", "rappel", "non", "oui"])
    assert not is_subsequence(["oui", "rappel"], ["rappel", "oui"])
    assert not is_subsequence(["rappel", "rappel", "rappel"], ["rappel", "rappel"])
    assert is_subsequence([], ["rappel"])


def test_slots_are_compared_as_text_and_a_missing_slot_is_a_miss() -> None:
    assert messages(Expect(slots={"numero_commande": "458128", "magasin": "lyon_part_dieu"})) == [
        "slots.numero_commande: expected 458128, got 458129",
        "slots.magasin: expected lyon_part_dieu, got nothing",
    ]


def test_bot_says_ignores_case_and_spacing_and_shows_the_nearest_sentence() -> None:
    assert judge(Expect(bot_says=["MARDI 24   novembre"]), CALLBACK) == []
    assert messages(Expect(bot_says=["mercredi 25 novembre"])) == [
        "bot_says: expected mercredi 25 novembre, "
        "got Je vous rappelle demain, mardi 24 novembre, à 15\u00a0h. C'est bien ça ?"
    ]


def test_no_answer_at_all_does_not_fail_a_latency_bound() -> None:
    assert judge(Expect(max_response_ms=100), Observed(outcome="caller_hangup")) == []
