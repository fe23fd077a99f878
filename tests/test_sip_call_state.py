"""A SIP call's life as named states (callbot/sip/call_state.py): allowed moves, refused ones, the log."""

from __future__ import annotations

import logging

import pytest

from callbot.sip.call_state import MOVES, CallLifecycle, CallState, IllegalCallMove

S = CallState


@pytest.mark.parametrize(
    "path",
    [
        [S.MEDIA, S.HANGING_UP, S.BYE_SENT, S.ENDED],  # the bot says goodbye, then hangs up
        [S.MEDIA, S.TRANSFERRING, S.TRANSFERRED, S.BYE_SENT, S.ENDED],  # put through to an agent
        [S.MEDIA, S.TRANSFERRING, S.MEDIA, S.TRANSFERRING, S.TRANSFERRED],  # refused, then accepted
        [S.MEDIA, S.ENDED],  # the caller hangs up
        [S.BYE_SENT, S.ENDED],  # refused before the audio started (480)
        [S.MEDIA, S.HANGING_UP, S.TRANSFERRED, S.BYE_SENT],  # the REFER's success during the goodbye
    ],
)
def test_the_lives_of_an_inbound_call(path: list[CallState]) -> None:
    life = CallLifecycle("c1", S.OFFERED)
    for state in path:
        life.move(state)
    assert life.state is path[-1]
    assert life.visited == {S.OFFERED, *path}


@pytest.mark.parametrize(
    ("start", "to"),
    [
        (S.OFFERED, S.TRANSFERRING),  # no REFER before the call is answered
        (S.MEDIA, S.TRANSFERRED),  # no success without a REFER
        (S.BYE_SENT, S.MEDIA),  # no way back once the BYE is sent
        (S.ENDED, S.ENDED),
        (S.ENDED, S.BYE_SENT),
        (S.DIALING, S.TRANSFERRED),
    ],
)
def test_moves_the_table_does_not_allow_raise(start: CallState, to: CallState) -> None:
    life = CallLifecycle("c2", start)
    with pytest.raises(IllegalCallMove, match=f"call c2: {start} -> {to} is not allowed"):
        life.move(to)
    assert life.state is start


def test_every_state_can_end_and_every_live_one_can_send_a_bye() -> None:
    for state in CallState:
        assert (S.ENDED in MOVES[state]) is (state is not S.ENDED)
        assert (S.BYE_SENT in MOVES[state]) is (state not in (S.BYE_SENT, S.ENDED))


def test_answered_live_and_ended_read_the_history() -> None:
    life = CallLifecycle("c3", S.DIALING)
    assert life.live and not life.answered
    life.move(S.BYE_SENT)  # no answer: CANCEL
    assert not life.live and not life.answered
    life.move(S.ENDED)
    assert life.ended


def test_each_move_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="callbot.sip.call")
    life = CallLifecycle("c4", S.OFFERED)
    life.move(S.MEDIA)
    assert "call c4: state offered -> media" in caplog.text
