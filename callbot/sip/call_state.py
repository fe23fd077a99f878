"""A SIP call's life as one named state, changed in one place.

The worker used to keep nine flags per call (started, disconnected, bye_sent, transferred, hangup after
playback…) that combine; adding hold or an attended transfer meant reasoning over every combination.
Here a call is in exactly one state, every change goes through `CallLifecycle.move`, which logs
`state a -> b` and refuses a move the table does not allow (as aiortc's RTCPeerConnection does with its
signaling and connection states):

    offered ──┐                ┌──────────── transferring ──► transferred
    dialing ──┴──► media ◄─────┘ (REFER failed)     │               │
                     │                              ▼               ▼
                     └──────► hanging_up ──────► bye_sent ──────► ended
                              (the goodbye plays)

Any state may go to `ended` (the far end hung up, PJSIP gave up), and any live state straight to
`bye_sent` (a hang-up that does not wait for the audio).
"""

from __future__ import annotations

import logging
from enum import StrEnum

log = logging.getLogger("callbot.sip.call")


class CallState(StrEnum):
    OFFERED = "offered"  # inbound: INVITE answered, no media yet
    DIALING = "dialing"  # outbound: INVITE sent, not answered yet
    MEDIA = "media"  # answered: audio flows to the conversation
    TRANSFERRING = "transferring"  # REFER sent, its outcome awaited
    TRANSFERRED = "transferred"  # the REFER succeeded: the call is the agent's now
    HANGING_UP = "hanging_up"  # the worker decided to end the call once the bot's audio has played
    BYE_SENT = "bye_sent"  # BYE (or a final answer, or CANCEL) sent: PJSIP finishes the call
    ENDED = "ended"  # PJSIP is done with the call: release it


_LIVE = (
    CallState.OFFERED,
    CallState.DIALING,
    CallState.MEDIA,
    CallState.TRANSFERRING,
    CallState.TRANSFERRED,
    CallState.HANGING_UP,
)
_MOVES: dict[CallState, frozenset[CallState]] = {
    CallState.OFFERED: frozenset({CallState.MEDIA, CallState.HANGING_UP}),
    CallState.DIALING: frozenset({CallState.MEDIA, CallState.HANGING_UP}),
    CallState.MEDIA: frozenset({CallState.TRANSFERRING, CallState.HANGING_UP}),
    CallState.TRANSFERRING: frozenset({CallState.MEDIA, CallState.TRANSFERRED, CallState.HANGING_UP}),
    CallState.TRANSFERRED: frozenset({CallState.HANGING_UP}),
    CallState.HANGING_UP: frozenset({CallState.TRANSFERRED}),  # a REFER's success during the goodbye
    CallState.BYE_SENT: frozenset(),
    CallState.ENDED: frozenset(),
}
MOVES: dict[CallState, frozenset[CallState]] = {
    state: moves
    | ({CallState.BYE_SENT} if state in _LIVE else set())
    | ({CallState.ENDED} if state is not CallState.ENDED else set())
    for state, moves in _MOVES.items()
}
"""Every allowed move: the table above, plus `bye_sent` from any live state and `ended` from any."""


class IllegalCallMove(RuntimeError):
    """A state change the call's lifecycle does not allow: a bug in the worker, never a peer's doing."""


class CallLifecycle:
    """One call's state, the states it went through, and the only way to change it."""

    def __init__(self, call_id: str, state: CallState) -> None:
        self.call_id = call_id
        self.state = state
        self.visited: set[CallState] = {state}

    def move(self, to: CallState) -> None:
        if to not in MOVES[self.state]:
            raise IllegalCallMove(f"call {self.call_id}: {self.state} -> {to} is not allowed")
        log.debug("call %s: state %s -> %s", self.call_id, self.state, to)
        self.state = to
        self.visited.add(to)

    @property
    def answered(self) -> bool:
        """The call reached `media` at some point (it was answered and its audio started)."""
        return CallState.MEDIA in self.visited

    @property
    def live(self) -> bool:
        return self.state in _LIVE

    @property
    def ended(self) -> bool:
        return self.state is CallState.ENDED

    def is_(self, *states: CallState) -> bool:
        return self.state in states
