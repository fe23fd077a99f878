"""The call-back call: the bot calls the caller back, checks it is them and that they are free, then hands
them to an agent with the context of their first call.

The dispatcher places the call; this dialog runs in the same `CallSession` as an inbound call (so the
same VAD, recogniser, synthesiser, barge-in and event log). What the person says decides what the
dispatcher does next, through the call's `Outcome`:

- "oui" / "un conseiller" / key 1 → `Transfer` to the request's queue, with the first call's context
  and this call's transcript appended (the agent reads why they call);
- "non" / key 2 → a new time is asked, checked like on the first call, confirmed, and stored as a new
  call-back (`ScheduleCallback`); "plus besoin" closes the request instead;
- a voicemail greeting, or silence to every question → `Hangup("voicemail" | "no_response")`: nobody
  was reached, the dispatcher tries again later;
- "vous vous trompez de numéro" → `Hangup("wrong_person")`: never dialled again;
- anything else twice → the person is put through anyway: a human is on the line, and an agent copes
  better than a bot that did not understand.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from callbot.dialog import french
from callbot.dialog.actions import (
    CallContext,
    Hangup,
    Listen,
    ScheduleCallback,
    Transfer,
)
from callbot.dialog.collectors import CallbackTimeCheck, Problem, WhenCollector, YesNoCollector
from callbot.dialog.flow import CallbackCallPrompts
from callbot.dialog.nlu import PARIS, is_greeting, parse_when, parse_yes_no, wants_human
from callbot.dialog.nlu.reached import no_longer_needed, sounds_like_voicemail, wrong_person
from callbot.dialog.turns import RequestEndings, TimeInTheRequest, TurnDialog

#: `Hangup.reason`s of a call-back call, read by the dispatcher (callbot/callbacks/outbound.py).
VOICEMAIL = "voicemail"
NO_RESPONSE = "no_response"
WRONG_PERSON = "wrong_person"
CANCELLED = "cancelled_by_person"
TRANSFER_FAILED = "transfer_failed"
#: `Transfer.reason` when the person is put through.
PUT_THROUGH = "callback_answered"

_Step = Literal["available", "when", "confirm_when"]
_YES_NO_HINTS = ("oui", "non", "oui je suis disponible", "non pas maintenant", "plus besoin")
_WHEN_HINTS = ("demain à dix heures", "cet après-midi", "lundi matin", "plus besoin")


@dataclass(frozen=True, slots=True)
class CallbackCallRequest:
    """What the dialog needs from the stored request: who, for which queue, and the first call's context."""

    callback_id: str
    phone: str  # E.164, the number dialled
    queue: str
    context: CallContext
    due_at: datetime


class CallbackCallDialog(TurnDialog):
    """One call-back call's dialog (the same turn frame as `Conversation`, for `CallSession`)."""

    def __init__(
        self,
        request: CallbackCallRequest,
        prompts: CallbackCallPrompts,
        now: Callable[[], datetime],
        *,
        check_callback_time: CallbackTimeCheck | None = None,
        max_retries: int = 2,
        no_input_timeout_ms: int = 6000,
    ) -> None:
        super().__init__(now, PARIS)
        self.request = request
        self.prompts = prompts
        self.max_retries = max_retries
        self.no_input_timeout_ms = no_input_timeout_ms
        self._step: _Step = "available"
        self._heard_someone = False
        self._failures = 0
        self._silences = 0
        self._new_time: datetime | None = None
        self._yes_no = YesNoCollector()
        self._when = WhenCollector(
            now,
            PARIS,
            check=check_callback_time,
            past=prompts.past_time,
            missing_time=prompts.missing_hour,
            missing_day=prompts.missing_day,
            day_heard=prompts.day_heard,
        )

    # ------------------------------------------------------------------------------------ public API

    @property
    def state(self) -> str:
        return f"rappel:{self._step}"

    @property
    def heard_someone(self) -> bool:
        """Whether a person (speech or keys) answered at some point: a silent line is not a person."""
        return self._heard_someone

    @property
    def hints(self) -> tuple[str, ...]:
        return _WHEN_HINTS if self._step == "when" else _YES_NO_HINTS

    @property
    def choices(self) -> dict[str, str]:
        """The day's bookable hours once a day was said without one ("Jeudi 26 novembre, d'accord. À
        quelle heure ?"), as for an inbound call; no closed set for a yes/no: one heard as "Bon." is not
        rescued by scoring (facts.md)."""
        return self._when.hour_answers() if self._step == "when" else {}

    @property
    def choice_asked_back(self) -> bool:
        return False

    @property
    def guess_asked_back(self) -> bool:
        """It asks back no guess: its yes/no questions take any reading the N-best gives."""
        return False

    @property
    def primer(self) -> str:
        """No primer on a call-back: its answers are short (a yes, a no, a new time)."""
        return ""

    def changes_subject(self, text: str) -> bool:
        """No other request is taken on a call-back: only its questions, a person, a voicemail."""
        return False

    def store_in_the_request(self, text: str) -> RequestEndings | None:
        """No store is asked about on a call-back."""
        return None

    def product_in_the_request(self, text: str) -> RequestEndings | None:
        """Nor a product."""
        return None

    def day_in_the_request(self, text: str) -> RequestEndings | None:
        """Nor opening hours."""
        return None

    def order_in_the_turn(self, text: str) -> RequestEndings | None:
        """Nor an order number."""
        return None

    def time_in_the_request(self, text: str) -> TimeInTheRequest | None:
        """Nor a call-back time: this call is the call-back."""
        return None

    def stops_inside_a_number(self, text: str) -> bool:
        """No number is collected on a call-back."""
        return False

    def understands(self, text: str, strict: bool = True) -> bool:
        """Whether `text` answers the current question (a yes/no, a time when one is asked) or says
        something this dialog acts on whatever the question (a person asked for, a voicemail); the same
        whether `strict` or not."""
        if sounds_like_voicemail(text) or wrong_person(text) or no_longer_needed(text) or wants_human(text):
            return True
        if self._step == "when":
            return parse_when(text, self._now) is not None
        return parse_yes_no(text) is not None

    def context(self) -> CallContext:
        """The first call's context with this call appended: the agent sees both, nobody repeats."""
        first = self.request.context
        transcript = (
            *first.transcript,
            f"— Rappel du {self.request.due_at.astimezone(PARIS):%d/%m à %H:%M} —",
            *self._transcript.lines,
        )
        # This call first: the context headers are bounded, and what the agent must know now is this.
        summary = " ; ".join(part for part in (*self._events, first.summary) if part)
        return CallContext(
            caller=first.caller or self.request.phone,
            intent=first.intent,
            slots={**first.slots, "callback_id": self.request.callback_id},
            transcript=transcript,
            summary=summary,
        )

    # ------------------------------------------------------------------------------------ turns

    def _greet(self) -> None:
        # Short: the person did not call just now. The keypad hint comes if the answer is not heard.
        # Who calls and why is heard in full (an "allô ?" over it is not an answer); the question may
        # be answered before it ends.
        self._say(self.prompts.greeting, barge_in=False)
        self._say(self.prompts.ask_available)

    def _listen(self) -> Listen:
        return Listen(hints=self.hints, timeout_ms=self.no_input_timeout_ms)

    def _keys(self, keys: str) -> None:
        """The first key: 1 oui, 2 non, 0 a person, as everywhere in the gateway."""
        key = keys[:1]
        self._heard_someone = True
        if key == "0":
            self._put_through()
            return
        answer = self._yes_no.keys(key)
        self._answer(None if answer is None else bool(answer.value))

    def _after_transfer_failed(self, queue: str) -> None:
        """The agents' queue refused the call: apologise; the dispatcher calls again later."""
        self._end_with(self.prompts.transfer_failed, TRANSFER_FAILED)

    def _understand(self, text: str) -> None:
        if sounds_like_voicemail(text):
            # Nothing personal is left on a voicemail: the request stays between the person and the centre.
            self._events.append("rappel : messagerie")
            self._end(Hangup(reason=VOICEMAIL))
            return
        self._heard_someone = True
        if wrong_person(text):
            self._events.append("rappel : mauvaise personne")
            self._end_with(self.prompts.wrong_person, WRONG_PERSON)
            return
        if no_longer_needed(text):
            self._events.append("rappel : plus besoin")
            self._end_with(self.prompts.cancelled, CANCELLED)
            return
        if wants_human(text):
            self._put_through()
            return
        if is_greeting(text) and parse_yes_no(text) is None:
            # "Allô ? Bonjour ?": the person is finding their feet, not answering.
            self._say(self.prompts.hello)
            self._ask_again()
            return
        if self._step == "when":
            self._hear_time(text)
            return
        answer = self._yes_no.hear(text)
        self._answer(None if answer is None else bool(answer.value))

    def _answer(self, yes: bool | None) -> None:
        """A yes/no (said or keyed) to the current question; a key while a time is asked is not one."""
        if yes is None or self._step == "when":
            self._not_understood()
        elif self._step == "available":
            if yes:
                self._put_through()
            else:
                self._events.append("rappel : pas disponible")
                self._failures = 0
                self._step = "when"
                self._say(self.prompts.ask_new_time)
        elif self._step == "confirm_when":
            if yes and self._new_time is not None:
                self._reschedule(self._new_time)
            else:
                self._step = "when"
                self._say(self.prompts.ask_new_time)

    def _hear_time(self, text: str) -> None:
        """The same date-and-time collector as an inbound call's (callbot/dialog/collectors.py):
        "demain", then "à 15 h" is tomorrow at 15 h; a time already past or out of the queue's slots is
        said and asked again."""
        heard = self._when.hear(text)
        if heard is None:
            self._not_understood()
            return
        if isinstance(heard, Problem):
            self._say(heard.prompt)
            return
        self._failures = 0
        self._new_time = heard.value
        self._step = "confirm_when"
        self._say(self.prompts.confirm_new_time.format(moment=french.moment(heard.value, self._now)))

    def _put_through(self) -> None:
        self._events.append("rappel : client joint et disponible")
        self._say(self.prompts.transfer)
        self._end(Transfer(self.request.queue, PUT_THROUGH, self.context()))

    def _reschedule(self, at: datetime) -> None:
        moment = french.moment(at, self._now)
        self._events.append(
            f"rappel : reporté au {french.full_date(at.date(), self._now.date())} à {french.clock(at)}"
        )
        self._actions.append(
            ScheduleCallback(at, self.request.phone, self.request.queue, self.context(), self._now)
        )
        self._say(self.prompts.rescheduled.format(moment=moment))
        self._end(Hangup(reason="rescheduled"))

    def _not_understood(self) -> None:
        self._failures += 1
        if self._failures > self.max_retries:
            self._put_through()  # a person is there and the bot is not enough: an agent takes over
            return
        self._say(self.prompts.not_understood)
        self._ask_again()

    def _silence(self) -> None:
        self._silences += 1
        if self._silences > 1:
            self._events.append("rappel : pas de réponse")
            self._end_with(self.prompts.goodbye_unheard, NO_RESPONSE)
            return
        self._say(self.prompts.not_heard)
        self._ask_again()

    def _ask_again(self) -> None:
        if self._step == "available":
            self._say(self.prompts.ask_available)
            self._say(self.prompts.keys_hint)
        elif self._step == "when":
            self._say(self.prompts.ask_new_time)
        elif self._new_time is not None:
            self._say(self.prompts.confirm_new_time.format(moment=french.moment(self._new_time, self._now)))

    def _end_with(self, text: str, reason: str) -> None:
        self._say(text)
        self._end(Hangup(reason=reason))
