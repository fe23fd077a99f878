"""The call-back call, turn by turn: the bot calls a caller back, checks they are free, puts them through
with the first call's context — or books another time, or notices a voicemail or the wrong person.

The prompts are the default flow's; the clock is Monday 23 November 2026, 15:00 in Paris.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from callbot.callbacks.dispatcher import DialResult
from callbot.callbacks.outbound import dial_result_of
from callbot.dialog import default_flow_path, load_flow
from callbot.dialog.actions import CallContext, Hangup, Say, ScheduleCallback, Transfer, TurnResult
from callbot.dialog.callback_call import CallbackCallDialog, CallbackCallRequest
from callbot.dialog.flow import CallbackCallPrompts
from callbot.session.call_session import Outcome

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=PARIS)
PHONE = "+33612345678"
FIRST_CALL = CallContext(
    caller=PHONE,
    intent="suivi_commande",
    slots={"numero_commande": "458129"},
    transcript=("Bot : Bonjour.", "Client : où en est ma commande 458129", "Client : rappelez-moi"),
    summary="Suivi de commande 458129 : expédiée ; rappel programmé",
)
REQUEST = CallbackCallRequest(
    callback_id="3f2a9c1b", phone=PHONE, queue="service_client", context=FIRST_CALL, due_at=NOW
)


@pytest.fixture(scope="module")
def prompts() -> CallbackCallPrompts:
    return load_flow(default_flow_path()).callback_call


def dialog(prompts: CallbackCallPrompts, check: object = None) -> CallbackCallDialog:
    call = CallbackCallDialog(REQUEST, prompts, now=lambda: NOW, check_callback_time=check)  # type: ignore[arg-type]
    call.start()
    return call


def said(result: TurnResult) -> str:
    return " ".join(action.text for action in result.actions if isinstance(action, Say))


def kinds(result: TurnResult) -> list[str]:
    return [type(action).__name__ for action in result.actions]


def only(result: TurnResult, kind: type) -> object:
    (found,) = [action for action in result.actions if isinstance(action, kind)]
    return found


def test_the_bot_says_who_calls_and_why_then_asks_whether_the_person_is_free(
    prompts: CallbackCallPrompts,
) -> None:
    call = CallbackCallDialog(REQUEST, prompts, now=lambda: NOW)
    result = call.start()
    assert kinds(result) == ["Say", "Say", "Listen"]
    text = said(result)
    assert "service client" in text and "rappeler" in text and "disponible" in text


def test_who_calls_is_heard_in_full_and_an_allo_is_greeted_not_counted_as_an_answer(
    prompts: CallbackCallPrompts,
) -> None:
    call = CallbackCallDialog(REQUEST, prompts, now=lambda: NOW)
    greeting, question = (a for a in call.start().actions if isinstance(a, Say))
    assert (greeting.barge_in, question.barge_in) == (False, True)
    for hello in ("allô", "allô bonjour", "bonjour"):
        result = call.hear(hello)
        assert said(result).startswith("Bonjour. Êtes-vous disponible") and not call.ended
    assert "Transfer" in kinds(call.hear("oui"))  # three hellos did not use up the retries


def test_the_keypad_is_offered_when_the_answer_is_not_understood(prompts: CallbackCallPrompts) -> None:
    result = dialog(prompts).hear("euh quoi")
    assert "tapez 1 pour oui" in said(result)


@pytest.mark.parametrize(
    "answer", ["oui", "oui oui je suis là", "oui c'est moi allez-y", "passez-moi un conseiller"]
)
def test_a_person_who_is_free_is_put_through_with_the_first_calls_context(
    prompts: CallbackCallPrompts, answer: str
) -> None:
    call = dialog(prompts)
    result = call.hear(answer)
    assert kinds(result) == ["Say", "Transfer"] and call.ended
    transfer = only(result, Transfer)
    assert isinstance(transfer, Transfer)
    assert (transfer.queue, transfer.reason) == ("service_client", "callback_answered")
    context = transfer.context
    assert context.intent == "suivi_commande" and context.caller == PHONE
    assert context.slots == {"numero_commande": "458129", "callback_id": "3f2a9c1b"}
    # The agent reads the first call, then this one: nobody has to repeat.
    assert context.transcript[:3] == FIRST_CALL.transcript
    assert any(line.startswith("— Rappel du 23/11 à 15:00") for line in context.transcript)
    assert f"Client : {answer}" in context.transcript
    assert context.summary == "rappel : client joint et disponible ; " + FIRST_CALL.summary


@pytest.mark.parametrize(("key", "expected"), [("1", "Transfer"), ("0", "Transfer")])
def test_the_keypad_answers_too(prompts: CallbackCallPrompts, key: str, expected: str) -> None:
    result = dialog(prompts).dtmf(key)
    assert expected in kinds(result)


def test_a_person_who_is_busy_books_another_time_which_is_stored_as_a_new_call_back(
    prompts: CallbackCallPrompts,
) -> None:
    call = dialog(prompts)
    result = call.hear("non pas maintenant")
    assert "Quand pouvons-nous vous rappeler" in said(result) and not call.ended
    result = call.hear("demain à dix heures")
    assert said(result) == "Je vous rappelle demain, mardi 24 novembre, à 10 h. C'est bien ça ?"
    result = call.hear("oui")
    assert kinds(result) == ["ScheduleCallback", "Say", "Hangup"]
    booked = only(result, ScheduleCallback)
    assert isinstance(booked, ScheduleCallback)
    assert booked.at == datetime(2026, 11, 24, 10, 0, tzinfo=PARIS)
    assert (booked.phone, booked.queue) == (PHONE, "service_client")
    assert booked.decided_at == NOW
    assert "reporté au mardi 24 novembre à 10 h" in booked.context.summary
    assert "C'est noté" in said(result)


def test_the_new_time_is_checked_against_the_queue_and_the_reason_said(prompts: CallbackCallPrompts) -> None:
    def closed_on_sunday(at: datetime) -> str | None:
        return "Nos conseillers ne sont pas disponibles à ce moment-là." if at.weekday() == 6 else None

    call = dialog(prompts, closed_on_sunday)
    call.hear("non")
    result = call.hear("dimanche à dix heures")
    assert "pas disponibles" in said(result) and not call.ended
    result = call.hear("lundi prochain à onze heures")
    assert "C'est bien ça" in said(result)


def test_a_day_without_an_hour_asks_the_hour_and_a_no_asks_the_time_again(
    prompts: CallbackCallPrompts,
) -> None:
    call = dialog(prompts)
    call.hear("non")
    assert said(call.hear("jeudi")) == "Jeudi 26 novembre, d'accord. À quelle heure ?"
    call.hear("jeudi à quatorze heures")
    result = call.hear("non")
    assert "Quand pouvons-nous vous rappeler" in said(result) and not call.ended


def test_once_the_day_is_said_its_hours_are_the_closed_set_and_a_picked_one_is_read_back(
    prompts: CallbackCallPrompts,
) -> None:
    call = dialog(prompts)
    assert call.choices == {}  # "Êtes-vous disponible ?": a yes/no, never scored
    call.hear("non")
    call.hear("jeudi")
    reading = call.choices["À quatorze heures."]
    assert call.understands(reading) and not call.choice_asked_back
    assert said(call.hear(reading)).startswith("Je vous rappelle jeudi 26 novembre à 14 h.")


def test_a_person_who_no_longer_needs_it_closes_the_request(prompts: CallbackCallPrompts) -> None:
    call = dialog(prompts)
    result = call.hear("non merci c'est réglé, plus besoin")
    assert kinds(result) == ["Say", "Hangup"]
    hangup = only(result, Hangup)
    assert isinstance(hangup, Hangup) and hangup.reason == "cancelled_by_person"


def test_the_wrong_person_gets_an_apology_and_is_never_called_again(prompts: CallbackCallPrompts) -> None:
    call = dialog(prompts)
    result = call.hear("vous vous trompez de numéro")
    assert "excuser" in said(result)
    hangup = only(result, Hangup)
    assert isinstance(hangup, Hangup) and hangup.reason == "wrong_person"


def test_a_voicemail_greeting_is_left_without_a_message(prompts: CallbackCallPrompts) -> None:
    call = dialog(prompts)
    result = call.hear("Bonjour, vous êtes bien sur la messagerie de Paul, laissez un message après le bip")
    assert kinds(result) == ["Hangup"]  # nothing about the request is left on a voicemail
    assert not call.heard_someone


def test_silence_is_asked_again_once_then_the_call_ends_as_unanswered(prompts: CallbackCallPrompts) -> None:
    call = dialog(prompts)
    result = call.no_input()
    assert "Je ne vous entends pas" in said(result) and not call.ended
    result = call.no_input()
    hangup = only(result, Hangup)
    assert isinstance(hangup, Hangup) and hangup.reason == "no_response"
    assert not call.heard_someone


def test_a_person_the_bot_cannot_understand_is_put_through_rather_than_lost(
    prompts: CallbackCallPrompts,
) -> None:
    call = dialog(prompts)
    assert "Pardon" in said(call.hear("euh le chat est sur la table"))
    assert "Pardon" in said(call.hear("bleu vert jaune"))
    assert "Transfer" in kinds(call.hear("la météo est belle"))


def test_a_refused_transfer_ends_politely_and_is_tried_again(prompts: CallbackCallPrompts) -> None:
    call = dialog(prompts)
    call.hear("oui")
    result = call.transfer_failed("service_client", 486)
    hangup = only(result, Hangup)
    assert isinstance(hangup, Hangup) and hangup.reason == "transfer_failed"
    assert "rappellerons" in said(result)
    assert "transfert vers service_client impossible (SIP 486)" in call.context().summary


# -------------------------------------------------------------------------- what the dispatcher learns


@pytest.mark.parametrize(
    ("outcome", "heard", "answered", "retry"),
    [
        (Outcome("transfer", queue="service_client", reason="callback_answered"), True, True, True),
        (Outcome("callback", queue="service_client", callback_at=NOW), True, True, True),
        (Outcome("hangup", reason="cancelled_by_person"), True, True, True),
        (Outcome("hangup", reason="voicemail"), False, False, True),
        (Outcome("hangup", reason="no_response"), False, False, True),
        (Outcome("hangup", reason="transfer_failed"), True, False, True),
        (Outcome("hangup", reason="wrong_person"), True, False, False),
        (Outcome("caller_hangup"), True, True, True),
        (Outcome("caller_hangup"), False, False, True),
        (Outcome("worker_lost"), True, False, True),  # the line died with its SIP worker: call again
        (None, False, False, True),
    ],
)
def test_how_the_call_ended_decides_done_retry_or_give_up(
    outcome: Outcome | None, heard: bool, answered: bool, retry: bool
) -> None:
    result = dial_result_of(outcome, heard, "bot hangup")
    assert isinstance(result, DialResult)
    assert (result.answered, result.retry) == (answered, retry)
    assert result.sip_status == 200 and result.reason


def test_a_day_then_an_hour_books_that_day_as_on_an_inbound_call(prompts: CallbackCallPrompts) -> None:
    """ "non", "demain", "à 15 h", "oui": tomorrow at 15 h (the day is remembered between turns)."""
    call = dialog(prompts)
    call.hear("non")
    result = call.hear("demain")
    assert said(result) == "Demain, mardi 24 novembre, d'accord. À quelle heure ?" and not call.ended
    result = call.hear("à 15 h")
    assert said(result) == "Je vous rappelle demain, mardi 24 novembre, à 15 h. C'est bien ça ?"
    booked = only(call.hear("oui"), ScheduleCallback)
    assert isinstance(booked, ScheduleCallback)
    assert booked.at == datetime(2026, 11, 24, 15, 0, tzinfo=PARIS)


def test_a_time_already_past_is_said_and_asked_again(prompts: CallbackCallPrompts) -> None:
    call = dialog(prompts)
    call.hear("non")
    result = call.hear("ce matin à 10 h")
    assert said(result) == "Ce moment est déjà passé." and not call.ended


def test_a_past_time_and_a_week_without_a_day_get_the_flows_words(prompts: CallbackCallPrompts) -> None:
    reworded = prompts.model_copy(update={"past_time": "C'est déjà passé.", "missing_day": "Quel jour ?"})
    call = dialog(reworded)
    call.hear("non")
    assert said(call.hear("ce matin à neuf heures")) == "C'est déjà passé."
    assert said(call.hear("la semaine prochaine")) == "Quel jour ?"
