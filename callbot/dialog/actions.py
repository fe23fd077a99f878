"""What the dialog engine asks the call to do. Pure data: the session and the channel carry them out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Say:
    """Speak `text` (French, written form: the TTS layer normalises times, prices, numbers)."""

    text: str
    barge_in: bool = True


@dataclass(frozen=True, slots=True)
class Listen:
    """Wait for the caller: speech or DTMF. `hints` are phrases likely here (for the recogniser)."""

    hints: tuple[str, ...] = ()
    timeout_ms: int = 6000
    max_digits: int = 1
    #: Trailing silence that ends the caller's turn here; None = the gateway's setting. Longer while a
    #: number is being read out, since callers pause between digit groups.
    end_silence_ms: int | None = None
    #: An answer of the kind the question expects, written as the recogniser writes it ("Demain à 14
    #: heures."), for a recogniser that takes a prompt (Whisper) to prime its vocabulary with; "" = none.
    primer: str = ""
    #: Keys that alone answer the question while a longer keyed value is taken too: 1/2 to a guess asked
    #: again with "tapez 1 pour oui, 2 pour non" ("S'agit-il toujours de la commande 458129 ?") where an
    #: order number may be typed instead. Pressed first, such a key is the answer once a short wait
    #: shows no more keys follow.
    answer_keys: str = ""


@dataclass(frozen=True, slots=True)
class CallContext:
    """Everything a human agent needs so that the caller never has to repeat."""

    caller: str | None
    intent: str | None
    slots: dict[str, Any]
    transcript: tuple[str, ...]
    summary: str

    def as_dict(self) -> dict[str, Any]:
        """The context as a mapping (event logs, the call-back store); slot values are left as they are."""
        return {
            "caller": self.caller,
            "intent": self.intent,
            "slots": dict(self.slots),
            "transcript": list(self.transcript),
            "summary": self.summary,
        }


@dataclass(frozen=True, slots=True)
class Transfer:
    """Hand the call to the named human queue, with the context."""

    queue: str
    reason: str
    context: CallContext


@dataclass(frozen=True, slots=True)
class ScheduleCallback:
    """The caller confirmed a call-back at `at` (Europe/Paris) on `phone` (E.164, None = caller id).

    `decided_at` is the call's "now" when the caller confirmed (its audio clock, or `replay --now`): the
    store judges "in the past" against it, not against the wall clock, so a replay decides as the call did.
    """

    at: datetime
    phone: str | None
    queue: str | None
    context: CallContext
    decided_at: datetime


@dataclass(frozen=True, slots=True)
class Hangup:
    """End the call after what was said has been played."""

    reason: str


Action = Say | Listen | Transfer | ScheduleCallback | Hangup


@dataclass(frozen=True)
class TurnResult:
    """The dialog's reading of one caller turn and what it decided."""

    intent: str | None
    confidence: float
    slots: dict[str, Any] = field(default_factory=dict)
    actions: tuple[Action, ...] = ()
