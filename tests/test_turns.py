"""The turn frame both dialogs share (callbot/dialog/turns.py): the same answers to the same calls,
for a caller's call (`Conversation`) and a call-back call (`CallbackCallDialog`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from callbot.dialog import Conversation, default_flow_path, load_flow
from callbot.dialog.actions import CallContext, Hangup, Listen, Say, Transfer
from callbot.dialog.callback_call import CallbackCallDialog, CallbackCallRequest
from callbot.dialog.turns import TurnDialog

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=PARIS)
FLOW = load_flow(default_flow_path())
REQUEST = CallbackCallRequest(
    callback_id="3f2a9c1b",
    phone="+33612345678",
    queue="service_client",
    context=CallContext(caller="+33612345678", intent="rappel", slots={}, transcript=(), summary=""),
    due_at=NOW,
)

DIALOGS: dict[str, Callable[[], TurnDialog]] = {
    "caller's call": lambda: Conversation(FLOW, now=lambda: NOW, caller="+33612345678"),
    "call-back call": lambda: CallbackCallDialog(REQUEST, FLOW.callback_call, now=lambda: NOW),
}


@pytest.fixture(params=list(DIALOGS))
def dialog(request: pytest.FixtureRequest) -> TurnDialog:
    made = DIALOGS[request.param]()
    made.start()
    return made


def test_start_twice_is_a_programming_error() -> None:
    for make in DIALOGS.values():
        started = make()
        started.start()
        with pytest.raises(RuntimeError, match="already called"):
            started.start()


def test_every_turn_that_does_not_end_the_call_listens_again(dialog: TurnDialog) -> None:
    result = dialog.hear("euh")
    assert isinstance(result.actions[-1], Listen)
    assert any(isinstance(action, Say) for action in result.actions)


def test_empty_words_count_as_silence(dialog: TurnDialog) -> None:
    result = dialog.hear("   ")
    assert isinstance(result.actions[-1], Listen)
    assert "Client : [silence]" in dialog.context().transcript


def test_keys_are_written_to_the_transcript_without_the_end_key(dialog: TurnDialog) -> None:
    dialog.dtmf("45#")
    assert "Client : [touches 45]" in dialog.context().transcript


def test_a_person_asked_for_ends_the_call_with_a_transfer_and_nothing_follows(dialog: TurnDialog) -> None:
    result = dialog.hear("je veux parler à un conseiller")
    assert dialog.ended and isinstance(result.actions[-1], Transfer)
    after = dialog.hear("allô ?")
    assert after.actions == () and dialog.dtmf("1").actions == () and dialog.no_input().actions == ()


def test_a_refused_transfer_is_said_and_summarised_and_the_dialog_decides_what_follows(
    dialog: TurnDialog,
) -> None:
    dialog.hear("je veux parler à un conseiller")
    result = dialog.transfer_failed("service_client", 486)
    assert any(isinstance(action, Say) for action in result.actions)
    assert "transfert vers service_client impossible (SIP 486)" in dialog.context().summary
    if isinstance(dialog, Conversation):  # a caller's call goes on: a call-back is offered
        assert isinstance(result.actions[-1], Listen) and not dialog.ended
    else:  # the call-back call apologises and hangs up: the dispatcher calls again later
        assert isinstance(result.actions[-1], Hangup) and dialog.ended


def test_a_cut_prompt_is_marked_in_the_transcript(dialog: TurnDialog) -> None:
    prompt = next(line for line in dialog.context().transcript if line.startswith("Bot : "))
    text = prompt.removeprefix("Bot : ")
    dialog.prompt_cut(text, 0, 2000)
    assert f"Bot (non entendu) : {text}" in dialog.context().transcript
