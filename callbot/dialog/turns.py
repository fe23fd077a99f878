"""The turn frame every dialog shares: what a turn is, whatever the dialog decides in it.

A call session drives a dialog with the same five calls (`start`, `hear`, `dtmf`, `no_input`,
`transfer_failed`) and gets back a `TurnResult` (the actions to carry out). Around what each dialog
decides, the frame is the same for an inbound call (`Conversation`) and a call-back call
(`CallbackCallDialog`): nothing after the end, an empty transcript counts as silence, the transcript
records what the caller said or keyed and what the bot said (and what of it was cut), every turn that does
not end the call listens again. Written once here, the two dialogs cannot drift apart on it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from callbot.dialog.actions import Action, CallContext, Listen, Say, TurnResult
from callbot.dialog.transcript import Transcript


@dataclass(frozen=True, slots=True)
class RequestEndings:
    """A request that may hold a name it was heard without: a store at its end or after "magasin de"
    (`Conversation.store_in_the_request`), a product in its middle (`Conversation.product_in_the_request`),
    a known order near the number heard (`Conversation.order_in_the_turn`), the day at the end of an
    opening-hours question (`Conversation.day_in_the_request`). The session scores each ending against
    the turn's audio, the prefix forced before it. (A call-back time is scored in two stages:
    `TimeInTheRequest`.)"""

    #: Where the names come from: "stores", "products", "orders" or "days".
    source: str
    #: The request's words before the name ("Je voudrais l'adresse du magasin").
    prefix: str
    #: How it went on as heard ("de lui").
    heard: str
    #: Each way of going on with a name ("de Lille") → the request with that name said in full.
    endings: dict[str, str]


@dataclass(frozen=True, slots=True)
class TimeInTheRequest:
    """A call-back request heard without its time ("… me rappeler très bien chez eux." for "… me rappeler
    mercredi à seize heures ?", `Conversation.time_in_the_request`). The session scores the days after the
    request's words, then, for a day found (or heard: `day_said`) and no hour heard, the hours after it."""

    #: The request's words up to its verb ("… me rappeler"), or up to the day heard ("… me rappeler
    #: mercredi").
    prefix: str
    #: What was heard after them ("très bien chez eux", "je divers 10 heures", "à ses œufs").
    heard: str
    #: How a caller names each bookable day ("demain", "mercredi") → the day as the dialog reads it
    #: ("le 25 novembre"); empty when the day was heard.
    days: dict[str, str]
    #: For each day's reading, a time said after the day ("à 16 heures") → as the dialog reads it.
    hours: dict[str, dict[str, str]]
    #: Whether what was heard holds a time of day ("10 heures"): kept with the day found.
    hour_heard: bool
    #: The text's further sentences, kept in the reading.
    rest: str = ""
    #: The day heard before `heard`, as the dialog reads it ("le 25 novembre"): only its hours are scored.
    day_said: str | None = None

    def reading(self, day: str, hour: str | None = None) -> str:
        """The request with `day` said after its verb ("" when the prefix ends on the day heard), then
        `hour` ("" for none), or else what was heard there (the hour it holds: "le 26 novembre je divers
        10 heures")."""
        said = " ".join(part for part in (day, self.heard if hour is None else hour) if part)
        return f"{self.prefix} {said}{self.rest}" if self.rest else f"{self.prefix} {said}."


class TurnDialog(ABC):
    """Base of a dialog: the public turn calls, the transcript and the actions of the turn in progress.

    A subclass says what the call's first words are (`_greet`), what a spoken turn, keys and a silence
    mean (`_understand`, `_keys`, `_silence`), how to listen next (`_listen`) and what to do when the
    agents' queue refused the transfer (`_after_transfer_failed`). Not thread-safe: one turn at a time.
    """

    def __init__(self, now: Callable[[], datetime], tz: ZoneInfo) -> None:
        self._clock = now
        self._tz = tz
        self._ended = False
        self._started = False
        self._transcript = Transcript()
        #: What happened that the agents' summary must say ("transfert vers X impossible").
        self._events: list[str] = []
        # The turn in progress: its actions, and the intent and confidence it reports.
        self._actions: list[Action] = []
        self._turn_intent: tuple[str | None, float] = (None, 0.0)

    # ------------------------------------------------------------------------------------ public API

    @property
    def ended(self) -> bool:
        return self._ended

    def start(self) -> TurnResult:
        """The call's first words."""
        if self._started:
            raise RuntimeError(f"{type(self).__name__}.start() was already called")
        self._started = True
        return self._turn(self._greet, 1.0)

    def hear(self, text: str) -> TurnResult:
        """A final transcript from the recogniser. Empty text counts as silence."""
        if self._ended:
            return TurnResult(intent=None, confidence=0.0)
        text = text.strip()
        if not text:
            return self.no_input()
        self._transcript.caller(text)
        return self._turn(lambda: self._understand(text), 0.0)

    def hear_unsure(self, heard: str, reading: str) -> TurnResult:
        """`heard` was not understood and the closed set of `choices` only leans to `reading`: the same
        turn as `hear(heard)`, read by `_understand_unsure`."""
        if self._ended or not heard.strip():
            return self.hear(heard)
        heard = heard.strip()
        self._transcript.caller(heard)
        return self._turn(lambda: self._understand_unsure(heard, reading), 0.0)

    def dtmf(self, digits: str) -> TurnResult:
        """Keys pressed by the caller (one key, or a number ended by '#')."""
        if self._ended:
            return TurnResult(intent=None, confidence=0.0)
        keys = digits.strip().rstrip("#")
        if not keys:
            return self.no_input()
        self._transcript.keys(keys)
        return self._turn(lambda: self._keys(keys), 1.0)

    def no_input(self) -> TurnResult:
        """The caller said nothing before the Listen timeout."""
        if self._ended:
            return TurnResult(intent=None, confidence=0.0)
        self._transcript.silence()
        return self._turn(self._silence, 0.0)

    def prompt_cut(self, text: str, played_ms: int, total_ms: int) -> None:
        """The caller cut this prompt short, or never heard it: the transcript says so."""
        self._transcript.cut(text, played_ms, total_ms)

    def transfer_failed(self, queue: str, status: int | None = None) -> TurnResult:
        """The transfer to `queue` did not go through: the dialog, which had ended with the Transfer,
        says what happens now (`_after_transfer_failed`: a call-back offered, or an apology and goodbye)."""

        def body() -> None:
            self._ended = False
            detail = f" (SIP {status})" if status else ""
            self._events.append(f"transfert vers {queue} impossible{detail}")
            self._after_transfer_failed(queue)

        return self._turn(body, 0.0)

    @abstractmethod
    def context(self) -> CallContext:
        """What an agent needs to take over (caller, intent, slots, transcript, summary)."""

    # ----------------------------------------------------------------------------------- turn frame

    def _turn(self, body: Callable[[], None], confidence: float) -> TurnResult:
        self._actions = []
        self._turn_intent = (None, confidence)
        self._begin_turn()
        body()
        if not self._ended:
            self._actions.append(self._listen())
        intent, confidence = self._turn_intent
        return TurnResult(
            intent=intent,
            confidence=confidence,
            slots=self._turn_slots_filled(),
            actions=tuple(self._actions),
        )

    def _say(self, text: str, barge_in: bool = True) -> None:
        text = " ".join(text.split())
        if text:
            self._actions.append(Say(text, barge_in))
            self._transcript.bot(text)

    def _end(self, action: Action) -> None:
        """The last action of the call (a hang-up or a transfer)."""
        self._actions.append(action)
        self._ended = True

    @property
    def _now(self) -> datetime:
        moment = self._clock()
        return moment.replace(tzinfo=self._tz) if moment.tzinfo is None else moment.astimezone(self._tz)

    def _understand_unsure(self, heard: str, reading: str) -> None:
        """A dialog without closed sets reads what was heard."""
        self._understand(heard)

    def _begin_turn(self) -> None:
        """Reset what a subclass keeps for one turn only (nothing by default)."""
        return None

    def _turn_slots_filled(self) -> dict[str, Any]:
        """The slots this turn filled, for the event log (none by default)."""
        return {}

    @abstractmethod
    def _greet(self) -> None: ...

    @abstractmethod
    def _understand(self, text: str) -> None: ...

    @abstractmethod
    def _keys(self, keys: str) -> None: ...

    @abstractmethod
    def _silence(self) -> None: ...

    @abstractmethod
    def _listen(self) -> Listen: ...

    @abstractmethod
    def _after_transfer_failed(self, queue: str) -> None: ...
