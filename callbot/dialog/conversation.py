"""The dialog state machine: recognised turns in, actions out (say, listen, transfer, call-back, hang up).

One `Conversation` per call. The call session feeds it what the recogniser heard (`hear`), key presses
(`dtmf`) and silences (`no_input`), and carries out the actions of each `TurnResult`. It never touches
audio or the clock: time comes from the injected `now`, so tests and call replays decide the same way.

How a caller turn is read, in order:
0. after "every agent is busy" (an open but saturated queue), a choice to wait ("je patiente",
   `wants_to_wait`) — put through to that queue;
1. a request for a person ("un conseiller", `wants_human`) — honoured in every state;
2. the answer to a pending confirmation ("C'est bien ça ?");
3. the slot the current state collects (an order number, a store, a time);
4. an intent, handled by the state (`on:`) or everywhere (`global: on:`), filling the intent's slots
   from the same sentence so that the caller is not asked again;
5. a plain yes/no: where the bot has just offered a call-back instead of an unavailable queue, the answer
   to that offer (no: goodbye if the queue is closed, the wait if it is open); elsewhere the flow's
   `oui`/`non` intents;
6. otherwise a misunderstanding: rephrase, then after `max_retries` hand over to a person.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from callbot.calendar_fr import WEEKDAYS
from callbot.dialog import french
from callbot.dialog.actions import (
    CallContext,
    Hangup,
    Listen,
    ScheduleCallback,
    Transfer,
)
from callbot.dialog.answers import LOOKUPS, Answer, run_lookup
from callbot.dialog.collectors import (
    YES_NO_KEYS,
    CallbackTimeCheck,
    Collector,
    DayCollector,
    EntityCollector,
    Heard,
    OrderNumberCollector,
    PhoneCollector,
    Problem,
    SlotValue,
    WhenCollector,
    YesNoCollector,
)
from callbot.dialog.flow import OPTIONAL_PART, Flow, Slot, State, Transition
from callbot.dialog.heard_names import day_place, product_places, store_places, time_place
from callbot.dialog.nlu import (
    IntentMatch,
    IntentMatcher,
    asks_something,
    asks_to_hold,
    is_greeting,
    normalize,
    number_cut_short,
    parse_when,
    parse_yes_no,
    wants_human,
    wants_to_wait,
)
from callbot.dialog.nlu.entities import spoken_similarity, without_mention
from callbot.dialog.nlu.numbers import (
    extract_phone_number,
    number_short_or_broken,
    number_written,
    written_forms,
)
from callbot.dialog.nlu.when_lexicon import weekday_spelling
from callbot.dialog.nlu.when_reading import read
from callbot.dialog.turns import RequestEndings, TimeInTheRequest, TurnDialog


@dataclass(frozen=True, slots=True)
class QueueUnavailable:
    """Why a queue cannot take the call now, as the caller hears it, and whether waiting is possible.

    `can_wait` is True when the queue is open but saturated: the caller is offered a call-back *or* the
    wait. A closed queue (`can_wait=False`) is never transferred to: a dead line helps no one.
    """

    message: str  # "Nos conseillers sont tous occupés ; l'attente est d'environ 8 minutes."
    can_wait: bool = False


#: Asked before a transfer (queue, now): None when the queue takes calls now, else `QueueUnavailable`.
QueueCheck = Callable[[str, datetime], QueueUnavailable | None]

#: The key that picks the wait in a saturated queue (the flow's `prompts.wait_offer` says so).
WAIT_KEY = "0"
#: Keys that answer a confirmation question (`YES_NO_KEYS`), read as the words they stand for.
CONFIRM_KEYS = {key: "oui" if yes else "non" for key, yes in YES_NO_KEYS.items()}
#: While a confirmation is pending, an intent must be this sure to change the subject (or end the call).
CONFIRMATION_INTENT_SCORE = 0.75
#: What Whisper is primed with while a slot of this type is asked (`Conversation.primer`). A time: of 160
#: spoken times ("Vendredi à seize heures", "Vers treize heures trente"), development-range Pico voices
#: through the line (bench/primer_bench.py, seeds 22 to 25), free decoding read day and hour right 31
#: times with the domain prompt alone, 56 with this sentence after it (50 with "… demain à 14 heures,
#: ou jeudi vers 9h30.", whose "vers 9h30" was copied into four answers; hours in words did worse);
#: wrong times 16 → 28, read back before booking; a day put into 1 of 65 answers that named none, and
#: no time into 32 answers that held none. Weekdays are primed because "vendredi" and "mercredi" were
#: the days most often lost ("Je vous en redis à 13h", "Merci d'hiver 16 heures").
SLOT_PRIMERS: dict[str, str] = {"datetime": "Rappelez-moi mercredi à 14 heures, ou vendredi à 10h30."}
#: While a value is asked for, a new request scored below this is acted on only after the recogniser's
#: other readings and the question's closed set found nothing (see `understands`).
_SURE_SWITCH_SCORE = 0.6
#: Words that sharpen a question ("Elle arrive quand exactement ?") and would read as a yes.
_SHARPENER = re.compile(r"\b(?:exactement|précisément|au juste)\b", re.IGNORECASE)
#: A number given with a request: after "numéro" / "n°", or four digits or more said one by one.
_NUMBER_GIVEN = re.compile(r"\b(?:numero|n)(?: de commande)? \d|(?:\b\d\b[ ,]*){4,}")
#: Two requests scored closer than this are a near-tie (see `understands`).
_TIE_MARGIN = 0.05
#: A runner-up that alone takes the value said wins when it trails by this much at most.
_TAKER_MARGIN = 0.1

FailureKind = Literal["no_match", "no_input"]
#: What a text would be understood as (`Conversation._understood_as`): a person asked for, a goodbye,
#: an answer to the question (its value, or a yes or a no), or a request.
_Understood = Literal["person", "goodbye", "answer", "request"]

#: A goodbye that starts by refusing ("non merci, ça sera tout", "bon ben non merci") is no misheard
#: answer.
_REFUSAL = re.compile(r"^(?:(?:bon|bah|ben|euh|ah|alors)\s+)*(?:non|nan)\b")
#: Answer words that open a sentence ("non merci, bonne journée"); what follows them says more.
#: Words that open an answer and say nothing of leaving on their own. "Bonjour, merci." (a half-heard
#: "Oui, c'est ça" to an order number asked back) was a goodbye through its "merci", and hung up.
_LEADING_ANSWER = re.compile(
    r"^(?:(?:non|oui|ouais|merci|bon|bah|ben|voila|ok|d accord|c est bon|bonjour|allo)\b\s*)+"
)
#: "pas ce numéro", "sur mon portable": the caller objects to the number read back, not to the time.
_NAMES_A_NUMBER = re.compile(r"\b(?:numero|telephone|portable|fixe|mobile|ligne)\b")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_MAX_STATES_PER_TURN = 30
_MAX_HINTS = 40


@dataclass(frozen=True)
class _Guess:
    """A weak guess of the caller's request, asked back in state `asked_in` (see `_ask_guess`)."""

    intent: str | None  # None: a value of the state's slot, heard without certainty
    text: str
    asked_in: str
    #: A known order asked back in place of the number heard (`_order_guessed`): the order, and what was
    #: heard, read on a no.
    order: str | None = None
    heard: str = ""
    #: What the bot asked ("Lyon Part-Dieu, c'est bien ça ?"), and whether it asked it again with the keys.
    question: str = ""
    asked_again: bool = False
    #: The order this call already looked up, asked back when a new tracking request clears it
    #: (`_ask_earlier_order`): a no asks the state's question, not counted as a failure.
    earlier: bool = False


@dataclass
class _QueueOffer:
    """A queue that could not take the call, what the caller heard, and the state that asks when to call
    back (a bare yes or no there answers the offer)."""

    queue: str
    unavailable: QueueUnavailable
    intent: str | None = None  # the caller's request that led to the transfer
    topic: _Topic | None = None  # the call-back request the offer opened in the summary
    asked_in: str | None = None
    insisted: int = 0  # requests for a person since, while the queue is closed


@dataclass
class _Topic:
    """One request of the caller, for the agents' summary: 'Suivi de commande 458129 : expédiée'."""

    intent: str
    label: str
    slots: dict[str, str] = field(default_factory=dict)  # slot → how the agent reads it
    outcome: str = ""
    #: Values a lookup found nothing for, still shown to the agent: "Suivi de commande 999999 puis 999111".
    tried: dict[str, list[str]] = field(default_factory=dict)


class Conversation(TurnDialog):
    """One call's dialog over a loaded flow. Not thread-safe: one caller, one turn at a time.

    `Transfer.reason` and `Hangup.reason` say what led there: `intent:<name>`, `dtmf:<key>`,
    `state:<name>` (a state's `then:`), or `escalation:no_match` / `escalation:no_input` /
    `escalation:missing_data` (the bot gave up). Around a queue that cannot take the call
    (`queue_check`): `caller_chose_to_wait` (a Transfer to a saturated queue the caller chose to wait
    in), `queue_closed_callback_declined` and `queue_closed` (a Hangup: the caller refused the call-back
    of a closed queue, or kept asking for a person / was not understood after it).
    """

    def __init__(
        self,
        flow: Flow,
        now: Callable[[], datetime],
        caller: str | None = None,
        check_callback_time: CallbackTimeCheck | None = None,
        queue_check: QueueCheck | None = None,
    ) -> None:
        super().__init__(now, flow.timezone)
        self.flow = flow
        self.caller = caller
        self._check_callback_time = check_callback_time
        self._queue_check = queue_check
        # Queues found unavailable in this call (asked once each), and the offer the caller may answer now.
        self._queue_offers: dict[str, _QueueOffer] = {}
        self._open_offer: _QueueOffer | None = None
        # A weak guess of the caller's request, asked back ("Vous souhaitez être rappelé, c'est bien ça ?"),
        # and the values asked back that the caller said were wrong (never offered again in this call).
        self._guess: _Guess | None = None
        self._declined: set[str] = set()
        self._orders_declined: set[str] = set()  # kept for the whole call
        self._matcher = _matcher_for(flow)
        self._callback_slots = _callback_time_slots(flow)
        self._state = flow.settings.start
        self._slots: dict[str, SlotValue] = {}
        self._confirmed: set[str] = set()
        self._awaiting_confirmation = False
        # The answer to "C'est bien ça ?": a "bon" (a yes, heard badly) twice in a row confirms.
        self._confirm_answer = YesNoCollector(weak_yes=True)
        # Slot → its collector (a datetime one remembers a day said without an hour: "demain").
        self._collectors: dict[str, Collector] = {}
        # (slot, what to say): a problem with a value said with the request, said when its state asks.
        self._pending_problem: tuple[str, str] | None = None
        self._failures: list[FailureKind] = []
        self._last_intent: str | None = None
        self._topics: list[_Topic] = []
        #: Requests the caller dropped while their value was asked ("c'est pour autre chose"), since the
        #: last answer given.
        self._requests_dropped = 0
        #: The caller got an answer from the data (hours, an order's status…): a goodbye then is meant.
        self._gave_answer = False
        # Per-turn scratch.
        #: The values this turn gave (kept for its record even when cleared since).
        self._turn_values: dict[str, SlotValue] = {}
        #: The last value a lookup found nothing for, per slot (cleared from `_slots` to ask again).
        self._tried: dict[str, SlotValue] = {}
        #: A known order this turn's transition cleared (a new tracking request), per slot, and the
        #: sentence of the request that cleared it.
        self._cleared_orders: dict[str, SlotValue] = {}
        self._request_text = ""
        self._entered = 0
        #: The caller asked the bot to wait while they look for the value ("Attendez, je cherche").
        self._holding = False
        self._answer: Answer | None = None
        self._prefill_caller_phone()

    # ------------------------------------------------------------------------------------ public API

    @property
    def state(self) -> str:
        return self._state

    @property
    def choices(self) -> dict[str, str]:
        """The closed set of answers the current question expects, as phrases to score against the
        caller's audio → the reading each stands for ("Celui de Lyon" → "Lyon Part-Dieu"); empty when
        the question is open. Used only when no free reading was understood (see CallSession). The
        store and product questions, and the hour once a call-back's day is known
        (`WhenCollector.hour_answers`)."""
        collect = self._current.collect
        data = self.flow.data
        if collect is None or self._awaiting_confirmation or self._guess is not None:
            return {}  # a yes/no is expected: never score it against the stores
        collector = self._collectors.get(collect)
        if isinstance(collector, WhenCollector):
            return collector.hour_answers()  # "À quelle heure ?" once the day is known
        slot = self.flow.slots[collect]
        if data is None or slot.type != "entity":
            return {}
        if slot.from_ == "products":
            # The names alone ("le plafonnier Halo"): 10 phrases, 0.2 s, where every alias (50) cost 1.7 s
            # for one more pick (bench/closed_set_bench.py --products).
            names = (product.name for product in data.products.values())
            return {name: name for name in names if name not in self._declined}
        return {
            phrase: store for phrase, store in data.store_answers().items() if store not in self._declined
        }

    @property
    def choice_asked_back(self) -> bool:
        """Whether a closed-set answer that only leads may be asked back ("Lyon Part-Dieu, c'est bien
        ça ?"). Not for an hour: near-ties there were mostly wrong ("10 h" for "quinze heures") and the
        call-back's read-back would be a second confirmation; a good leader is taken, the read-back
        confirming it (`ClosedSetPick.sure_when_read_back`), a near-tie is not."""
        collect = self._current.collect
        return collect is None or not isinstance(self._collectors.get(collect), WhenCollector)

    @property
    def heard_someone(self) -> bool:
        """Whether the caller said or keyed anything (silences are not counted)."""
        return self._transcript.heard_someone

    @property
    def primer(self) -> str:
        """While a value is asked for (not a yes or a no to a read-back), an answer of its kind as
        Whisper writes it, primed after the domain prompt: "quatorze heures" on the line came back "qu'est-ce
        au revoir" (the domain prompt's goodbye) until a time was primed. The slot's own `primer`, else
        its type's (`SLOT_PRIMERS`)."""
        collect = self._value_asked()
        if collect is None:
            return ""
        slot = self.flow.slots[collect]
        return SLOT_PRIMERS.get(slot.type, "") if slot.primer is None else slot.primer

    def _value_asked(self) -> str | None:
        """The slot the current question asks for, unless a read-back or a guess awaits a yes or a no."""
        if self._awaiting_confirmation or self._guess is not None:
            return None
        return self._current.collect

    @property
    def hints(self) -> tuple[str, ...]:
        """Phrases likely in the current state, best first, for the recogniser's vocabulary bias."""
        state = self._current
        phrases: list[str] = list(state.hints)
        if self._awaiting_confirmation or self._guess is not None:
            phrases += ["oui", "non", "c'est bien ça", "ce n'est pas ça"]
        if state.collect:
            phrases += _slot_hints(self.flow, self.flow.slots[state.collect])
        for intent in state.on:
            phrases += self.flow.intents[intent].examples[:3]
        for intent in self.flow.global_handlers.on:
            phrases += self.flow.intents[intent].examples[:2]
        if self._waiting_queue() is not None:
            phrases[:0] = ["je patiente", "je préfère attendre"]
        return tuple(dict.fromkeys(phrases))[:_MAX_HINTS]

    def understands(self, text: str, strict: bool = True) -> bool:
        """Whether `text` would be understood in the current state, without changing it: a value the
        state collects, an answer to its question, a request it handles, a goodbye or a person asked
        for. The session uses it to pick among the recogniser's N-best readings. Not `strict`: a near-tie
        of two requests, or a new request that barely passes mid-question, counts too (what the dialog
        would still act on when no reading does better)."""
        with self._trying():
            return self._understood_as(text, strict) is not None

    @property
    def guess_asked_back(self) -> bool:
        """Whether a guess was asked back ("Lyon Part-Dieu, c'est bien ça ?") and awaits a yes or a no."""
        return self._guess is not None

    def changes_subject(self, text: str) -> bool:
        """Whether `text`, said while a value is asked, is understood only as another request: not the
        value, not a person asked for, not a goodbye. The session then lets a sure closed-set answer
        win ("Vers seize heures" heard "Vertez-les heures." reads as an opening-hours question, and
        the day's times put 16 h clearly ahead; a store heard as a transfer to customer service): a
        caller asked a question mostly answers it."""
        if self._value_asked() is None or self._goodbye_in(text) is not None:
            return False  # a goodbye, even one that would be asked back, is no other request
        with self._trying():
            return self._understood_as(text, strict=True) == "request"

    def store_in_the_request(self, text: str) -> RequestEndings | None:
        """When `text` is a request that takes a store and names none, but ends on "de" and a few words
        that say nothing the dialog knows (no request words, date, number or value: "… au magasin de
        lui ?" for "… de Lille", "… de l'huile"), or has them after "magasin de" ("Le magasin du lieu
        pour les couverts …" for "du Vieux-Port"): the words before that "de", the store as heard, and
        the ways of saying a store there ("de Lille") → the sentence with that store named in full.
        The session scores the endings against the turn's audio (the request's own words forced before
        them) and reads the sentence with a clear winner, rather than ask "Dans quel magasin ?" of a
        caller who said it. None otherwise."""
        data = self.flow.data
        if data is None or self._question_asked():
            return None  # its own closed set is scored
        ending = next((place for place in store_places(text) if self._may_be_a_name(place.tail)), None)
        if ending is None or not self._lacks_a_name(text, "stores"):
            return None
        heard = ending.heard
        endings = {
            tail: ending.reading(french.of(store))
            for tail, store in data.store_tails().items()
            if tail != heard
        }
        return RequestEndings("stores", ending.prefix, heard, endings)

    def product_in_the_request(self, text: str) -> RequestEndings | None:
        """When `text` is a request that takes a product and names none, but an article starts a few
        words that say nothing the dialog knows ("Il vous reste une afficura de l'effort aux magasins de
        Lille ?" for "une applique murale Laiton"): the words before the article, the product as heard
        with what followed it, and each product said there with what followed → the sentence with that
        product. Scored by the session as the store endings are. None otherwise."""
        data = self.flow.data
        if data is None or not data.products or self._question_asked():
            return None  # its own closed set is scored
        place = next((place for place in product_places(text) if self._may_be_a_name(place.name)), None)
        if place is None or not self._lacks_a_name(text, "products"):
            return None
        heard = place.heard
        endings: dict[str, str] = {}
        for product in data.products.values():
            phrases = place.said(product.name)  # "un applique …", "une applique …": one product, one reading
            endings.update({said: place.reading(phrases[0]) for said in phrases if said != heard})
        return RequestEndings("products", place.prefix, heard, endings)

    def order_in_the_turn(self, text: str) -> RequestEndings | None:
        """When `text` gives an order number that no order has, as the answer to the question for it or
        in a request that takes one ("… de la commande 45-29-29." for 458129), or a number dictated
        digit by digit that came out a digit short or cut by a word ("… de la commande 4, puis 1, 2, 0,
        7." for 461207, `number_short_or_broken`), and known orders are a digit or two away
        (`AnswersData.orders_near`): the words before the number, the number as heard,
        and each of those orders as a recogniser writes it said digit by digit, in pairs, in threes or
        whole → the sentence with that order. The session scores them against the turn's audio and asks
        the caller about a clear winner ("La commande 458129, c'est bien ça ?"), never acting on it
        unasked: it is another customer's order when wrong. None otherwise."""
        data, most_edits = self.flow.data, self.flow.settings.near_order_digits
        if data is None or not data.orders or not most_edits or not _DIGIT.search(text):
            return None  # most turns: no number written
        name = self._order_slot_in(text)
        if name is None:
            return None
        value = self._extract(name, text)
        if isinstance(value, SlotValue):
            if value.value in data.orders:
                return None
            number, written = str(value.value), number_written(text, str(value.value))
        else:
            collector = self._collector(name)
            if not isinstance(collector, OrderNumberCollector):
                return None
            short = number_short_or_broken(text, collector.min_digits)
            if short is None:
                return None  # a digit short, or cut by a word: "… de la commande 4, puis 1, 2, 0, 7."
            number, written = short
        near = [order for order in data.orders_near(number, most_edits) if order not in self._orders_declined]
        if not near or written is None:
            return None
        # only a sentence that gives that order back: "… 4108129 ou 4815736 ?" with 458129 would give 4815736
        near = [order for order in near if _value_of(self._extract(name, written.reading(order))) == order]
        endings = {
            f"{form}{written.rest}": written.reading(order) for order in near for form in written_forms(order)
        }
        return RequestEndings("orders", written.prefix, written.heard, endings) if endings else None

    def _order_slot_in(self, text: str) -> str | None:
        """The order number slot `text` gives: the one asked for, or one its request takes when no
        question is asked."""
        found = self._order_request(text)
        return None if found is None else found[0]

    def _order_request(self, text: str) -> tuple[str, str | None, float] | None:
        """The order number slot `text` gives (`_order_slot_in`), the request it serves and how sure:
        the one in progress for an answer, the one `text` makes for a request."""
        if self._guess is not None or self._awaiting_confirmation:
            return None
        if wants_human(text) or self._goodbye_in(text) is not None:
            return None  # a person asked for and a goodbye keep their meaning, the number its reading
        looked_up = set(self.flow.lookup_slots.get("order_status", {}).values())
        collect = self._value_asked()
        if collect is not None:
            serves = self._topics[-1].intent if self._topics else None
            return (collect, serves, 1.0) if collect in looked_up else None
        with self._trying():
            if self._understood_as(text, strict=True) != "request":
                return None
            match = self._request_match(text)
        if match is None:
            return None
        slot = next((name for name in self.flow.intents[match.intent].slots if name in looked_up), None)
        return None if slot is None else (slot, match.intent, _score(match))

    def time_in_the_request(self, text: str) -> TimeInTheRequest | None:
        """When `text` asks for a call-back without a time, but a few words that name nothing else the
        dialog knows follow its verb: the words up to the verb, the words heard, each bookable day of
        the coming week as a caller names it and each hour of those days ("… me rappeler très bien chez
        eux." for "… me rappeler mercredi à seize heures ?", "… me rappeler je divers 10 heures." for
        "… jeudi vers dix heures"); when a day was heard there without an hour ("… me rappeler mercredi
        à ses œufs."), the words up to that day and its hours. The session scores them against the
        turn's audio; the time is read back before anything is booked. None otherwise."""
        if self._question_asked():
            return None
        place = time_place(text)
        if place is None or self._names_something(_TIME_WORDS.sub(" ", place.heard)):
            return None
        today = self._now.date()
        said = read(text, today)
        if said.offset is not None or said.immediate or said.later_today:
            return None  # "dans une heure", "tout de suite", "plus tard"
        hour_heard = bool(said.clocks or said.part)
        if hour_heard and (said.day is not None or not _words_besides_a_time(place.heard)):
            return None  # a whole time, or a bare hour ("à 14 heures") with nothing in place of a day
        slot = self._callback_time_asked_by(text)
        if slot is None:
            return None
        collector = self._new_collector(slot)  # a fresh one: nothing said on trial is remembered
        assert isinstance(collector, WhenCollector)
        if said.day is not None:
            # the day said after the verb, alone: "mercredi 2 décembre", "mardi en huit" are left as heard
            day_end = _day_word_end(place.heard)
            day = read(place.heard[:day_end], today).day if day_end is not None else None
            whole = read(place.heard, today).day
            after = place.heard[day_end:].strip(" ,") if day_end is not None else ""
            if day is None or whole is None or day.date != whole.date or day.span_days or not after:
                return None
            reading = f"le {french.day_and_month(day.date)}"
            prefix = f"{place.prefix} {place.heard[:day_end]}"
            hours = {reading: collector.hours_on(day.date)}
            return TimeInTheRequest(prefix, after, {}, hours, False, place.rest, day_said=reading)
        days = collector.days_ahead()
        readings = {day: f"le {french.day_and_month(day)}" for day in set(days.values())}
        hours = {readings[day]: collector.hours_on(day) for day in readings}  # the check once per time
        return TimeInTheRequest(
            place.prefix,
            place.heard,
            {name: readings[day] for name, day in days.items() if hours[readings[day]]},
            {reading: said for reading, said in hours.items() if said},
            hour_heard,
            place.rest,
        )

    def day_in_the_request(self, text: str) -> RequestEndings | None:
        """When `text` asks for opening hours without a day, but ends on one or two words after its
        hours word that name nothing the dialog knows ("… le magasin de Lille est ouvert du monde ?" for
        "… ouvert dimanche ?"): the words before them, the words heard, and each day a caller may name
        there ("dimanche", "demain") → the question with that day. The session scores the days against
        the turn's audio, as the store endings are, and reads the question with a clear winner rather
        than answer for today. None otherwise."""
        if self._question_asked():
            return None
        place = day_place(text)
        if place is None or not self._may_be_a_name(place.heard) or parse_when(text, self._now) is not None:
            return None
        days = ("aujourd'hui", "demain", "après-demain", *WEEKDAYS)
        if max(spoken_similarity(place.heard, day) for day in days) < _DAY_SOUND_MIN:
            return None  # "… ouverts en continu ?", "… vos horaires qui vous plaît.": no day's sounds
        if self._day_asked_by(text) is None or self.store_in_the_request(text) is not None:
            return None  # "Quels sont les horaires de l'huile ?": a store's place, scored as such
        return RequestEndings("days", place.prefix, place.heard, {day: place.reading(day) for day in days})

    def _names_something(self, words: str) -> bool:
        """Whether `words` hold request words ("les horaires") or a name or number the dialog takes."""
        return self._matcher.knows(words) or bool(self._named_slots(words))

    def _callback_time_asked_by(self, text: str) -> str | None:
        """The call-back time slot of the request `text` makes, when it makes one that takes such a time."""
        return self._slot_of_the_request(text, lambda name: name in self._callback_slots)

    def _day_asked_by(self, text: str) -> str | None:
        """The day slot ("jour") of the request `text` makes, when it makes one that takes a date."""
        return self._slot_of_the_request(text, lambda name: self.flow.slots[name].type == "date")

    def _slot_of_the_request(self, text: str, takes: Callable[[str], bool]) -> str | None:
        """The first slot that `takes` of the request `text` makes (read on trial), when it clearly makes
        one; None otherwise."""
        with self._trying():
            if self._understood_as(text, strict=True) != "request":
                return None
            match = self._request_match(text)
        if match is None or match.weak:
            return None
        return next((name for name in self.flow.intents[match.intent].slots if takes(name)), None)

    def stops_inside_a_number(self, text: str) -> bool:
        """Whether `text` ends halfway through an order number ("… la commande 4, 7, 1, 9, 4", the last
        digit still to come) or, while one is asked, a phone number: callers pause between digit groups
        longer than between words, and the session then waits a little longer for the rest."""
        collect = self._value_asked()
        asked = self.flow.slots[collect] if collect is not None else None
        if asked is not None and asked.type == "phone":
            return number_cut_short(text, _PHONE_DIGITS, asked=True)
        if asked is not None and asked.type == "order_number":
            return number_cut_short(text, asked.min_digits or 6, asked=True)
        order_slots = [slot for slot in self.flow.slots.values() if slot.type == "order_number"]
        if not order_slots:
            return False
        return number_cut_short(text, min(slot.min_digits or 6 for slot in order_slots))

    def _question_asked(self) -> bool:
        """A value or a yes/no is asked: the caller's turn answers it, no request names are looked for."""
        return self._value_asked() is not None or self._awaiting_confirmation

    def _may_be_a_name(self, words: str) -> bool:
        """Whether `words` say nothing the dialog knows: no request words ("les horaires d'ouverture"),
        no date or time ("du samedi matin"), no name or number it would take ("de la guirlande
        Guinguette")."""
        return not (self._matcher.knows(words) or parse_when(words, self._now) or self._named_slots(words))

    def _lacks_a_name(self, text: str, source: str) -> bool:
        """Whether `text` is a request whose intent takes a name from `source` ("stores", "products")
        and names none (asked when no question is: the callers check `_question_asked` first)."""
        with self._trying():
            if self._understood_as(text, strict=True) != "request":
                return False
            match = self._request_match(text)
            # "… une bougie, s'arçut métiguée au nabiaisant de l'huile": the product named is the request
            intent = match.intent if match is not None else self._implied_intent(text)
            named = self._named_slots(text)
        if intent is None:
            return False
        takes = [
            name
            for name in self.flow.intents[intent].slots
            if self.flow.slots[name].type == "entity" and self.flow.slots[name].from_ == source
        ]
        return bool(takes) and not any(name in named for name in takes)

    @contextmanager
    def _trying(self) -> Iterator[None]:
        """Reading a text on trial must not change the day a time collector remembers."""
        whens = [collector for collector in self._collectors.values() if isinstance(collector, WhenCollector)]
        remembered = [collector.days for collector in whens]
        try:
            yield
        finally:
            for collector, days in zip(whens, remembered, strict=True):
                collector.days = days

    def _understood_as(self, text: str, strict: bool) -> _Understood | None:
        """How `text` would be understood now (see `understands`), or None when it would not be."""
        if wants_human(text):
            return "person"
        goodbye = self._goodbye_in(text)  # the intent matcher: only when no person was asked for
        if goodbye is not None and not self._asks_goodbye_back(text, self._guess, goodbye):
            return "goodbye"
        if (self._awaiting_confirmation or self._guess is not None) and parse_yes_no(text) is not None:
            return "answer"
        collect = self._current.collect
        if (
            collect is not None
            and not self._awaiting_confirmation
            and isinstance(self._extract(collect, text), SlotValue)
        ):
            return "answer"
        match = self._request_match(text)
        if (
            match is not None
            and not match.weak
            and self._moves_on(match.intent)
            and not (
                self._ends_call(match.intent)
                and (self._half_collected() or self._asks_goodbye_back(text, self._guess, match.intent))
            )
            and not self._thanks_to_a_guess(match.intent, text, self._guess)
            # "Le magasin du live-port, s'il vous plaît" while the store is asked: "magasin" alone makes a
            # stock request of it (0.47). A new request that barely passes mid-question is not taken as
            # understood, so that the other readings and the question's closed set are tried first.
            and (not strict or collect is None or match.score >= _SURE_SWITCH_SCORE)
            # "… si un produit est en stop": a complaint 0.536, a stock question 0.534. A near-tie of two
            # requests lets the other readings ("… en stock") be tried before one of them is acted on.
            and not (strict and self._near_tie(match))
        ):
            return "request"
        return "request" if self._implied_intent(text) is not None else None

    def _without_answer_frame(self, text: str) -> str:
        """`text` without the word that frames an answer to the store question ("Le magasin du report,
        s'il vous plaît" for "Le magasin du Vieux-Port"): while a store is asked, "magasin" is how the
        answer starts, not a stock request (0.63 with "report"). A reading counts as a new request only
        when the words without it make the same request too (`_request_match`), so that the other
        readings and the stores are tried first, and with nothing better the store is asked again."""
        collect = self._value_asked()
        slot = self.flow.slots[collect] if collect is not None else None
        if slot is None or slot.type != "entity" or slot.from_ != "stores":
            return text
        return _STORE_WORD.sub(" ", text).strip() or text

    def _near_tie(self, match: IntentMatch) -> bool:
        """Two requests both pass and score within `_TIE_MARGIN` of each other (a yes or a no, or a
        runner-up the dialog would not act on here, is no rival)."""
        settings = self.flow.settings
        runner_up = match.runner_up
        return (
            runner_up is not None
            and runner_up not in (settings.yes_intent, settings.no_intent)
            and match.runner_up_score >= settings.intent_threshold
            and 0.0 <= match.score - match.runner_up_score < _TIE_MARGIN
            and self._moves_on(runner_up)
        )

    def _moves_on(self, intent: str) -> bool:
        """The intent is handled here and is not the request in progress named again without its value
        ("le magasin" while the store is asked: `_handle_intent` counts that as not understood)."""
        transition = self._transition_for(intent)
        if transition is None:
            return False
        if self._current.collect is None:
            return True
        return transition.goto != self._state and not self._repeats_request(intent, transition)

    def _repeats_request(self, intent: str, transition: Transition) -> bool:
        """`intent` is the request whose value is being asked ("le magasin" while the store of a stock
        question is asked): the slot asked is one of its own, and its handler, which clears nothing,
        would only lead back to the same question."""
        collect = self._current.collect
        if collect is None or not self._topics or transition.clear:
            return False
        topic = self._topics[-1]
        return topic.intent == intent and not topic.outcome and collect in self.flow.intents[intent].slots

    def context(self) -> CallContext:
        """What an agent needs to take over: caller, intent, slots, transcript and a French summary."""
        return CallContext(
            caller=self.caller,
            intent=self._last_intent,
            # A value no lookup found, cleared to be asked again, still reaches the agent.
            slots={name: value.plain() for name, value in {**self._tried, **self._slots}.items()},
            transcript=tuple(self._transcript.lines),
            summary=self.summary(),
        )

    def summary(self) -> str:
        """'Suivi de commande 458129 : expédiée ; demande un conseiller'."""
        parts = []
        for topic in self._topics:
            text = " ".join([topic.label, *topic.slots.values()])
            parts.append(f"{text} : {topic.outcome}" if topic.outcome else text)
        return " ; ".join(parts + self._events)

    # ----------------------------------------------------------------------------------- turn frame

    @property
    def _current(self) -> State:
        return self.flow.states[self._state]

    def _greet(self) -> None:
        """What the start state says and asks."""
        self._enter(self.flow.settings.start)

    def _silence(self) -> None:
        guess, self._guess = self._guess, None  # asked again below, or dropped for the state's question
        # Silence after "Vous souhaitez terminer l'appel ?": the caller has gone. Not while a value was
        # asked for: the goodbye was more likely misheard there, and the question is asked again.
        if (
            guess is not None
            and guess.intent is not None
            and self._ends_call(guess.intent)
            and self._current.collect is None
            and self._handle_intent(guess.intent, 1.0, guess.text)
        ):
            return
        if self._ask_guess_again(guess, "no_input"):
            return
        self._fail("no_input")

    def _begin_turn(self) -> None:
        self._turn_values = {}
        self._cleared_orders = {}
        self._request_text = ""
        self._entered = 0
        self._holding = False

    def _listen(self) -> Listen:
        timeout = self.flow.settings.no_input_timeout_ms
        max_digits = self._max_digits()
        return Listen(
            hints=self.hints,
            timeout_ms=max(timeout, HOLD_TIMEOUT_MS) if self._holding else timeout,
            max_digits=max_digits,
            end_silence_ms=self._end_silence_ms(),
            primer=self.primer,
            answer_keys=self._answer_keys(max_digits),
        )

    def _answer_keys(self, max_digits: int) -> str:
        """The keys that alone answer now (`Listen.answer_keys`): 1 and 2 once a guess was asked again
        with "tapez 1 pour oui, 2 pour non", where a longer value may be typed too (`_keys`). Not at the
        first asking: there a 1 or a 2 may start a typed value (an order number; "1, 1, 4", tomorrow at
        14 h, typed with a pause after the day), and waits its full `DIGIT_TIMEOUT_MS`."""
        guess = self._guess
        if guess is None or not guess.asked_again or max_digits < 2:
            return ""
        return "".join(CONFIRM_KEYS)

    def _turn_slots_filled(self) -> dict[str, Any]:
        """What this turn gave, even a value cleared since (an order number no order has)."""
        return {name: value.plain() for name, value in self._turn_values.items()}

    def _after_transfer_failed(self, queue: str) -> None:
        """The caller is told and offered a call-back: the call never ends in silence. Without a
        call-back state in the flow (the `rappel` intent's transition), an apology and goodbye."""
        self._say(self.flow.prompts.transfer_failed)
        callback = self.flow.settings.callback_intent
        if callback is None or not self._handle_intent(callback, 1.0, ""):
            self._say(self.flow.prompts.call_again_later)
            self._end(Hangup(reason="transfer_failed"))

    def _end_silence_ms(self) -> int | None:
        """Callers pause between the digit groups of an order or phone number: the slot's collector
        says how long to wait there."""
        collect = self._current.collect
        if collect is None or self._awaiting_confirmation:
            return None
        return self._collector(collect).end_silence_ms

    def _max_digits(self) -> int:
        collect = self._current.collect
        if collect is None or self._awaiting_confirmation:
            return 1
        return self._collector(collect).max_keys

    # ---------------------------------------------------------------------------------- understanding

    def _understand(self, text: str) -> None:
        guess, self._guess = self._guess, None  # a guess asked back is answered now or dropped
        if guess is not None and guess.order is not None and parse_yes_no(text) is False:
            text = self._order_declined(guess.order, text)
        waiting = self._waiting_queue()
        if waiting is not None and wants_to_wait(text):
            self._wait_in(waiting)
            return
        human = self.flow.settings.human_intent
        if human is not None and wants_human(text):
            # "un conseiller pour ma commande 458129": the agent gets the number too.
            for name, value in self._named_slots(text).items():
                self._store(name, value)
            if self._handle_intent(human, 1.0, text):
                return
        if (
            not self._gave_answer
            and guess is None
            and not self._awaiting_confirmation
            and self._open_offer is None
            and is_greeting(text)
        ):
            self._greet_back()  # "salut" before any answer is a hello, not a goodbye
            return
        if self._value_asked() is not None and guess is None and asks_to_hold(text):
            # "Attendez, je cherche le numéro": no failure, and longer to find it (it was "Je n'ai pas
            # saisi le numéro", and "je cherche" a stock request)
            self._say(self.flow.prompts.hold_on)
            self._holding = True
            return
        goodbye = self._goodbye_in(text)
        if (
            goodbye is not None
            and self._asks_goodbye_back(text, guess, goodbye)
            and self._ask_guess(goodbye, 1.0, text)
        ):
            return
        if goodbye is not None and self._handle_intent(goodbye, 1.0, text):
            return  # "non merci, ça sera tout": the caller is leaving
        if self._awaiting_confirmation and self._confirmation(text):
            return
        confirming = self._awaiting_confirmation
        collect = self._current.collect
        if collect is not None and not self._awaiting_confirmation:
            outcome = self._extract(collect, text)
            if isinstance(outcome, SlotValue):
                if self._topics:  # the turn answers the request in progress: report it as that intent
                    self._turn_intent = (self._topics[-1].intent, 1.0)
                self._store(collect, outcome)
                self._fill_topic_slots(text)
                self._failures.clear()
                self._after_collected(self._current)
                return
            if isinstance(outcome, Problem):
                self._problem(outcome)
                return
        if self._answered_offer(text):
            return
        if guess is not None and self._answered_guess(guess, text):
            return
        match = self._request_match(text)
        if match is not None and confirming and match.score < CONFIRMATION_INTENT_SCORE:
            # A half-heard answer to "C'est bien ça ?" must not end the call on a weak guess.
            match = None
        if match is not None and self._half_collected() and self._ends_call(match.intent):
            match = None  # "merci", "bon, voilà" while a value is being collected: not understood
        if match is not None and self._thanks_to_a_guess(match.intent, text, guess):
            match = None  # "Bonjour, merci." to "La commande 4815736, c'est bien ça ?": no goodbye said
        weak = match if match is not None and match.weak else None
        if (
            weak is None
            and match is not None
            and self._ends_call(match.intent)
            and self._asks_goodbye_back(text, guess, match.intent)
        ):
            weak = match  # a goodbye before any answer ("Le cas du miel au revoir."): asked back
        if weak is not None:
            match = None  # asked back below, unless what the caller named says more
        if match is not None:
            if self._handle_intent(match.intent, match.score, text):
                return
            # "allô oui bonjour, c'est pour une commande" in the menu: "oui" wins but means nothing here.
            runner_up = match.runner_up
            if (
                runner_up
                and match.runner_up_score >= self.flow.settings.intent_threshold
                # "C'est tout à l'écender." for "Plutôt à quinze heures": "oui" first, meaning nothing
                # here, a goodbye second; a value half collected is never ended by a runner-up
                and not (self._half_collected() and self._ends_call(runner_up))
                and self._handle_intent(runner_up, match.runner_up_score, text)
            ):
                return
        implied = self._implied_intent(text)
        if implied is not None and self._handle_intent(implied, self.flow.settings.intent_threshold, text):
            return
        if weak is not None and self._ask_guess(weak.intent, weak.score, text):
            return
        callback = self.flow.settings.callback_intent
        if (  # "… demain à 15 h" with the request itself misheard: only a call-back takes a time
            weak is None
            and callback is not None
            and self._names_a_call_back_time(text)
            and self._ask_guess(callback, self.flow.settings.intent_threshold, text)
        ):
            return
        if (
            self._value_asked() is not None
            and guess is None
            and _OTHER_REQUEST.search(normalize(text))
            and self._back_to_the_request_question()
        ):
            return  # "Non, c'est pour autre chose." to "Quel est votre numéro de commande ?"
        yes_no = parse_yes_no(text)
        if yes_no is not None:
            intent = self.flow.settings.yes_intent if yes_no else self.flow.settings.no_intent
            if intent is not None and self._handle_intent(intent, 1.0, text):
                return
        if is_greeting(text):
            if guess is not None and guess.asked_in == self._state and guess.question:
                # "Allô ?" from a caller who missed the question: hello, and the question again
                self._guess = guess
                self._say(self.flow.prompts.hello)
                self._say(guess.question)
                return
            self._greet_back()
            return
        if self._ask_guess_again(guess, "no_match"):
            return
        self._fail("no_match")

    def _back_to_the_request_question(self) -> bool:
        """The caller drops the request whose value is asked ("c'est pour autre chose", "laissez tomber"):
        no failure, the request left out of the agent's summary when nothing of it was given, and the
        flow's request question again ("D'accord. Que puis-je faire pour vous ?"); the third drop with
        no answer given between goes to a person. False when the flow has no such question (no state
        that asks without collecting, after its start)."""
        target = self._request_state()
        if target is None:
            return False
        if self._topics and not self._topics[-1].slots and not self._topics[-1].outcome:
            self._topics.pop()
        self._events.append("change de demande")
        self._requests_dropped += 1
        if self._requests_dropped > self.flow.settings.max_retries:
            # "C'est pas pour ça" round after round with no answer between: the request is misheard
            # each time, a person takes it
            self._escalate(reason="no_match")
            return True
        self._failures.clear()
        self._say(self.flow.prompts.guess_declined)
        self._enter(target)
        return True

    def _request_state(self) -> str | None:
        """The state that asks for the caller's request: the first one reached from the flow's start
        (through its `then:`) that asks a question without collecting a value ("menu")."""
        name: str | None = self.flow.settings.start
        seen: set[str] = set()
        while name is not None and name in self.flow.states and name not in seen:
            seen.add(name)
            state = self.flow.states[name]
            if state.ask and state.collect is None:
                return name
            name = state.then.goto if state.then is not None else None
        return None

    def _greet_back(self) -> None:
        """A bare greeting is greeted back and the question asked again, without counting a failure."""
        self._say(self.flow.prompts.hello)
        self._say(self._render(self._question()))

    def _keys(self, keys: str) -> None:
        state = self._current
        # A guess asked back ("Lyon Part-Dieu, c'est bien ça ?") takes a lone 1/2 as yes/no, not as a
        # store key; any other keys typed then (3, an order number) are the value itself.
        answers_guess = self._guess is not None and keys in CONFIRM_KEYS
        if state.collect is not None and not self._awaiting_confirmation and not answers_guess:
            keyed = self._keyed_value(state.collect, keys)
            if isinstance(keyed, SlotValue):
                self._guess = None
                self._store(state.collect, keyed)
                self._failures.clear()
                self._after_collected(state)
                return
            if isinstance(keyed, Problem):
                self._problem(keyed)
                return
        key = keys[0]
        waiting = self._waiting_queue()
        if key == WAIT_KEY and waiting is not None:
            self._wait_in(waiting)  # "vous pouvez patienter : … ou tapez 0"
            return
        # The keypad answers "C'est bien ça ?" when speech is not understood: 1 yes, 2 no.
        if self._awaiting_confirmation and key in CONFIRM_KEYS and self._confirmation(CONFIRM_KEYS[key]):
            return
        guess, self._guess = self._guess, None
        if guess is not None and key in CONFIRM_KEYS and self._answered_guess(guess, CONFIRM_KEYS[key]):
            return
        transition = state.on_dtmf.get(key) or self.flow.global_handlers.on_dtmf.get(key)
        if transition is None:
            self._fail("no_match")
            return
        self._failures.clear()
        if transition.transfer is not None and key in self.flow.global_handlers.on_dtmf:
            self._events.append(f"demande un conseiller (touche {key})")
        self._run(transition, reason=f"dtmf:{key}")

    def _handle_intent(self, intent: str, score: float, text: str) -> bool:
        """Run the state's or the global handler of `intent`; False when neither handles it here."""
        transition = self._transition_for(intent)
        if transition is None:
            return False
        self._turn_intent = (intent, score)
        filled = self._fill_intent_slots(intent, text)
        if (transition.goto == self._state or self._repeats_request(intent, transition)) and not filled:
            # "ma commande" while being asked for the order number, "le magasin" while its store is
            # asked: no progress, not a fresh start.
            self._fail("no_match")
            return True
        self._record_intent(intent)
        self._failures.clear()
        self._request_text = text
        self._run(transition, reason=f"intent:{intent}")
        return True

    def _says_goodbye(self, text: str) -> bool:
        """Whether an intent that ends the call here is heard in `text` (best or runner-up guess)."""
        match = self._matcher.match(text)
        if match is None:
            return False
        guesses = [(match.intent, match.score), (match.runner_up, match.runner_up_score)]
        for intent, score in guesses:
            if intent is None or score < self.flow.settings.intent_threshold:
                continue
            transition = self._transition_for(intent)
            if transition is not None and transition.hangup:
                return True
        return False

    def _keyed_value(self, name: str, keys: str) -> Heard:
        """A value typed for the slot being asked: an order or phone number, or a call-back time ("114":
        demain à 14 h, read back and checked exactly as if it had been said)."""
        return self._collector(name).keys(keys)

    def _goodbye_in(self, text: str) -> str | None:
        """The intent that ends the call here, when the words after a leading "non", "merci", "bon"…
        say it on their own: "non merci, bonne journée" ends the call, "merci" or "bon, voilà" alone does
        not (a half-heard answer is not a goodbye)."""
        if self._awaiting_confirmation and parse_yes_no(text):
            return None  # "oui merci, au revoir" to "C'est bien ça ?" confirms first (the flow then ends)
        rest = _LEADING_ANSWER.sub("", normalize(self._without_opening_hello(text))).strip()
        if not rest:
            return None
        match = self._matcher.match(rest)
        if match is None or match.weak or match.score < CONFIRMATION_INTENT_SCORE:
            return None
        transition = self._transition_for(match.intent)
        return match.intent if transition is not None and transition.hangup else None

    def _names_a_call_back_time(self, text: str) -> bool:
        """A day and a clock time ("demain à 15 h"), said outside a question that asked for one."""
        if self._current.collect is not None:
            return False
        when = parse_when(text, self._now)
        return when is not None and when.precision == "minute"

    def _transition_for(self, intent: str) -> Transition | None:
        """What `intent` does here: the state's own handler, else the flow's global one."""
        return self._current.on.get(intent) or self.flow.global_handlers.on.get(intent)

    def _ends_call(self, intent: str) -> bool:
        transition = self._transition_for(intent)
        return transition is not None and transition.hangup

    def _asks_goodbye_back(self, text: str, pending: _Guess | None, intent: str) -> bool:
        """Whether a goodbye heard now is asked back ("Vous souhaitez terminer l'appel, c'est bien ça ?")
        instead of ending the call. "Merci, au revoir." is also what Whisper writes for words it did not
        hear ("Vers seize heures"; "À quatorze heures" → "À qu'est-ce au revoir"): a bare goodbye while
        a value is asked for, or before the caller got any answer, is asked back once. Not a goodbye
        that refuses ("non merci, bonne journée"), not while a yes/no is pending (a read-back, a
        call-back offer, a guess: there "oui" and "non" answer that question), never twice running."""
        if intent in (self.flow.settings.yes_intent, self.flow.settings.no_intent):
            return False  # "pas vraiment" to "Puis-je vous aider pour autre chose ?" is an answer
        if self._awaiting_confirmation or self._open_offer is not None or pending is not None:
            return False
        if _REFUSAL.match(normalize(text)):
            return False
        return self._current.collect is not None or not self._gave_answer

    def _thanks_to_a_guess(self, intent: str, text: str, guess: _Guess | None) -> bool:
        """A goodbye matched only through its "merci" ("Bonjour, merci.", how the line gave back "Oui,
        c'est ça" to "La commande 4815736, c'est bien ça ?") while a guess is asked back: no goodbye
        said. Nor to "Vous souhaitez terminer l'appel, c'est bien ça ?", asked because the goodbye was
        doubtful: a bare "Merci." was how the line gave back "Non, ce n'est pas ça." in two of three
        such answers of the development calls, and ended calls whose request was never heard. The
        state's question follows, as for any answer not understood (a goodbye is asked back once, not
        again with its keys); "oui, merci", "merci, au revoir" or a hang-up end the call."""
        return guess is not None and self._ends_call(intent) and self._goodbye_in(text) is None

    def _half_collected(self) -> bool:
        """A value is being asked for, or read back: a weak goodbye must not end the call now."""
        return self._current.collect is not None or self._awaiting_confirmation

    def _implied_intent(self, text: str) -> str | None:
        """The one intent that takes what the caller named without asking anything ("la guirlande
        Guinguette", "458129"): naming a product is asking whether it is in stock. A store alone fits
        several intents (hours, address, stock): it continues the current request if that takes it, else
        implies none. Times and phone numbers are too weak a hint."""
        winners = self._takers(text)
        if len(winners) == 1:
            # "les ampoules à Marseille" names a product and a store: only the stock intent takes both.
            return winners[0]
        # "et à Lille ?" after the hours of Lyon: the same question about another store.
        current = self._topics[-1].intent if self._topics else None
        return current if current in winners else None

    def _takers(self, text: str) -> list[str]:
        """The intents that take the most of the values named in `text` (none when nothing is named).
        Among those tied, a day named too (a weekday, "demain") picks the ones that take it: "C'est le
        magasin de la grande place pour réappeler leur samedi." (for "… ouvre à quelle heure samedi ?")
        names a store (hours, address, stock) and a day, which only the hours take. A day alone is too
        weak a hint, and never makes a tie ("la guirlande Guinguette pour demain ?" is still the stock)."""
        heard = self._named_slots(text).keys()
        if not heard:
            return []
        coverage = {name: len(heard & set(intent.slots)) for name, intent in self.flow.intents.items()}
        best = max(coverage.values())
        winners = [name for name, count in coverage.items() if count == best] if best else []
        if len(winners) < 2:
            return winners
        if not _DAY_WORDS.search(text):
            return winners  # "tout à l'heure", "ce soir", "la semaine prochaine": no day named
        days = {
            name
            for name, slot in self.flow.slots.items()
            if slot.type == "date" and isinstance(self._extract(name, text), SlotValue)
        }
        with_day = [name for name in winners if days & set(self.flow.intents[name].slots)]
        return with_day or winners  # a day breaks a tie, never makes one

    def _request_match(self, text: str) -> IntentMatch | None:
        """The request `text` makes (`_request_made`). While a store is asked, both the words as heard
        and the words without "magasin" must make it (`_without_answer_frame`): "Le magasin de l'univers,
        s'il vous plaît" for "de Lille" is an answer not understood, asked again, not a stock request."""
        match = self._request_made(text)
        unframed = self._without_answer_frame(text)
        if match is None or unframed == text:
            return match
        other = self._request_made(unframed)
        return None if other is None or other.intent != match.intent else min(match, other, key=_score)

    def _request_made(self, text: str) -> IntentMatch | None:
        """The request `text` makes: the intent matcher on its words without the names it mentions,
        the runner-up that alone takes what was named preferred (`_prefer_the_taker`). A question of the
        caller's own is no yes or no, whatever yes word it holds ("Et elle arrive quand exactement ?"
        was a yes to "Puis-je vous aider pour autre chose ?")."""
        match = self._prefer_the_taker(self._matcher.match(self._request_words(text)), text)
        yes_or_no = (self.flow.settings.yes_intent, self.flow.settings.no_intent)
        if match is None or match.intent not in yes_or_no:
            return match
        if not asks_something(text):
            after_yes = (
                self._request_after_yes(text) if match.intent == self.flow.settings.yes_intent else None
            )
            return after_yes or match
        # the question without the word that sharpened it ("… quand exactement ?"): what it asks
        plain = _SHARPENER.sub(" ", text)
        again = self._matcher.match(self._request_words(plain)) if plain != text else None
        return again if again is not None and again.intent not in yes_or_no else None

    def _prefer_the_taker(self, match: IntentMatch | None, text: str) -> IntentMatch | None:
        """ "Où en est ma comment de 4 5 8 1 2 9": the address (0.58) just ahead of order tracking
        (0.51), but an order number was named and only order tracking takes one: the runner-up that alone
        takes what was named wins, when it passes the threshold too and trails by `_TAKER_MARGIN` at
        most."""
        if match is None or match.weak or match.runner_up is None:
            return match
        if match.runner_up_score < self.flow.settings.intent_threshold:
            return match
        if match.score - match.runner_up_score > _TAKER_MARGIN:
            return match  # "la commande 458129 est arrivée abîmée": a complaint well ahead stays one
        if self._takers(text) != [match.runner_up]:
            return match
        return IntentMatch(match.runner_up, match.runner_up_score, match.intent, match.score)

    def _request_after_yes(self, text: str) -> IntentMatch | None:
        """The request a "oui" only opens, where the yes would just invite it: "Oui, j'ai aussi une
        ritamation à faire." to "Puis-je vous aider pour autre chose ?" matched the yes (0.64) ahead of
        the complaint its words make alone (0.46), and the caller was asked what they wanted. Not while
        a yes answers something (a guess, a read-back, an offer) or a value is asked."""
        if self._question_waits() or not self._yes_invites_a_request():
            return None
        rest = _OPENING_YES.sub("", text, count=1)
        if rest == text or len(rest.split()) < _MIN_REQUEST_WORDS_AFTER_YES:
            return None
        match = self._matcher.match(self._request_words(rest))
        settings = self.flow.settings
        if (
            match is None
            or match.weak
            or match.intent in (settings.yes_intent, settings.no_intent)
            or self._ends_call(match.intent)
        ):
            return None
        return match

    def _yes_invites_a_request(self) -> bool:
        """The state's yes only leads to a state that asks for the request ("Puis-je vous aider pour
        autre chose ?" → "Que puis-je faire pour vous ?"), not to a transfer or an answer ("Voulez-vous
        que je vous passe un conseiller ?": "Oui, c'est au sujet de la commande" is put through)."""
        yes = self.flow.settings.yes_intent
        transition = self._transition_for(yes) if yes is not None else None
        if transition is None or transition.goto is None or transition.goto not in self.flow.states:
            return False
        if transition.transfer or transition.hangup or transition.callback or transition.answer:
            return False
        return self.flow.states[transition.goto].collect is None

    def _request_words(self, text: str) -> str:
        """`text` without the store and product names it mentions: what is asked, for intent matching.
        Where a yes answers nothing (no yes/no question asked), without the "oui" callers open with
        ("Oui bonjour, vous êtes où à Marseille ?" matched the yes intent ahead of the address, and was
        not understood). A bare "ou" before "magasin", "rayon" or "stock" is a misheard "au", and "ou
        pas" is "or not" ("… si vous avez la suspension ou pas l'inanstock ou magasin de Lyon" was an
        address question): normalising makes "où" (where) "ou", so where neither comes, "ou" stays."""
        text = _OR_NOT.sub("", _OU_FOR_AU.sub(_ou_for_au, text))
        if self._yes_answers_nothing():
            opened = _OPENING_YES.sub("", text, count=1)
            text = opened if len(opened.split()) >= 2 else text
        text = self._without_opening_hello(text)
        data = self.flow.data
        if data is None:
            return text
        request = text
        for slot in self.flow.slots.values():
            if slot.type == "entity" and slot.from_ is not None:
                request = without_mention(request, list(data.names(slot.from_)))
        return request if request.strip() else text

    def _without_opening_hello(self, text: str) -> str:
        """Before the caller got any answer, `text` without the "salut" that opens it when more follows:
        a hello there ("Ouais salut, vous êtes où à Marseille ?" was asked whether the caller was
        leaving), where "Salut, à plus." later in the call is a goodbye."""
        if self._gave_answer:
            return text
        opened = _OPENING_HELLO.sub("", text, count=1)
        return opened if opened != text and len(opened.split()) >= 2 else text

    def _yes_answers_nothing(self) -> bool:
        """No yes/no question waits for its answer, no value is asked ("Oui, c'est vrai." to "À quelle
        heure ?" is no request) and the state gives "oui" no meaning."""
        if self._question_waits():
            return False
        yes = self.flow.settings.yes_intent
        return yes is None or self._transition_for(yes) is None

    def _question_waits(self) -> bool:
        """A yes/no question waits for its answer (a read-back, a guess, an offer) or a value is asked:
        a "oui" then answers it."""
        return (
            self._awaiting_confirmation
            or self._guess is not None
            or self._open_offer is not None
            or self._value_asked() is not None
        )

    def _named_slots(self, text: str) -> dict[str, SlotValue]:
        """The order numbers and named stores or products in `text`, whatever was asked."""
        found: dict[str, SlotValue] = {}
        for name, slot in self.flow.slots.items():
            if slot.type in ("entity", "order_number"):
                collector = self._collector(name)
                # Only the question's own answer is matched by sound; in passing, names word by word.
                if isinstance(collector, EntityCollector) and name != self._current.collect:
                    value: Heard = collector.mentioned(text)
                else:
                    value = self._extract(name, text)
                if isinstance(value, SlotValue) and not self._phone_in_passing(name, value, text):
                    found[name] = value
        return found

    def _phone_in_passing(self, name: str, value: SlotValue, text: str) -> bool:
        """Whether the order number `value` is the French phone number `text` gives, said other than
        to the question for the order ("06 12 34 56 78" to a call-back read back was looked up as
        order 0612345678): a caller who says a phone number means one."""
        if self.flow.slots[name].type != "order_number" or name == self._current.collect:
            return False
        phone = extract_phone_number(text)
        return phone is not None and phone.national.replace(" ", "") == str(value.value)

    def _record_intent(self, intent: str) -> None:
        settings = self.flow.settings
        if intent in (settings.yes_intent, settings.no_intent):
            return
        self._last_intent = intent
        if intent == settings.human_intent:
            if "demande un conseiller" not in self._events:
                self._events.append("demande un conseiller")
            return
        if self._topics and self._topics[-1].intent == intent:
            return
        label = self.flow.intents[intent].label or intent.replace("_", " ").capitalize()
        topic = _Topic(intent, label)
        for name in self.flow.intents[intent].slots:
            if name in self._turn_values and name in self._slots:
                topic.slots[name] = self._summary_form(name, self._slots[name])
        self._topics.append(topic)

    def _confirmation(self, text: str) -> bool:
        """Handle the answer to "C'est bien ça ?"; False when the text is not an answer to it."""
        state = self._current
        slot = state.collect
        assert slot is not None
        read_back = [name for name in self._read_back(state) if name != slot]
        if self._corrects_read_back(read_back, text):
            # "oui, mais au 07 12 34 56 78": the other value read back is corrected; confirm again.
            self._failures.clear()
            self._after_collected(state)
            return True
        answer = self._confirm_answer.hear(text)
        yes_no = None if answer is None else bool(answer.value)
        if yes_no is False and _NAMES_A_NUMBER.search(normalize(text)):
            phones = [name for name in read_back if self.flow.slots[name].type == "phone"]
            if phones:
                # "non, pas sur ce numéro": the time stands, the number is asked for (and read back).
                self._turn_intent = (self.flow.settings.no_intent, 1.0)
                for name in phones:
                    self._slots.pop(name, None)
                    self._confirmed.discard(name)
                self._confirmed.add(slot)
                self._failures.clear()
                self._after_collected(state)
                return True
        previous = self._slots.get(slot)
        outcome = None if yes_no else self._correction(slot, text, previous)
        if yes_no or (isinstance(outcome, SlotValue) and previous and outcome.value == previous.value):
            # "oui", or the same value said again: every value the question read back is confirmed.
            self._turn_intent = (self.flow.settings.yes_intent, 1.0)
            self._confirmed.add(slot)
            self._confirmed.update(read_back)
            self._failures.clear()
            self._after_collected(state)
            return True
        if isinstance(outcome, SlotValue):
            # "non, plutôt jeudi à 10 h": the correction is the new value to confirm.
            self._store(slot, outcome)
            self._failures.clear()
            self._after_collected(state)
            return True
        if isinstance(outcome, Problem):
            # "non, plutôt demain" (no hour), or a time already gone: ask again from there.
            self._slots.pop(slot, None)
            self._awaiting_confirmation = False
            self._problem(outcome)
            return True
        if yes_no is False:
            self._turn_intent = (self.flow.settings.no_intent, 1.0)
            self._slots.pop(slot, None)
            self._collector(slot).forget()
            self._awaiting_confirmation = False
            self._failures.clear()
            self._say(self._render(state.reask or state.ask or ""))
            return True
        return False

    def _read_back(self, state: State) -> list[str]:
        """The slots `state.confirm` reads back with a value (a yes confirms them all)."""
        names = (name.strip() for name in _PLACEHOLDER.findall(state.confirm or ""))
        return [name for name in dict.fromkeys(names) if name in self._slots and name in self.flow.slots]

    def _corrects_read_back(self, names: list[str], text: str) -> bool:
        """Store a new value said for one of the other slots read back; True when one changed."""
        changed = False
        for name in names:
            outcome = self._extract(name, text)
            if isinstance(outcome, SlotValue) and outcome.value != self._slots[name].value:
                self._store(name, outcome)
                changed = True
        return changed

    # ------------------------------------------------------------------------------------ slot filling

    def _extract(self, name: str, text: str) -> Heard:
        return self._collector(name).hear(text)

    def _correction(self, name: str, text: str, previous: SlotValue | None) -> Heard:
        """The value `text` gives in place of `previous`, read back: an hour alone keeps the day read
        back ("Je vous rappelle demain à 15 h. C'est bien ça ?" "Plutôt vers 11 heures." is tomorrow at
        11, where it was read as today)."""
        collector = self._collector(name)
        day = previous.value if previous is not None else None
        if not isinstance(collector, WhenCollector) or not isinstance(day, datetime) or collector.days:
            return collector.hear(text)
        said = read(text, self._now.date())
        if said.day or said.part_today or said.offset or said.immediate or said.later_today:
            return collector.hear(text)  # "non, jeudi à 10 h", "non, ce soir" name their own day
        local = day.astimezone(self.flow.timezone).date()
        collector.days = (local, local)
        heard = collector.hear(text)
        if isinstance(heard, SlotValue):
            return heard
        collector.days = None  # "non, 9 h" to today at 15 h, at 10:30: the next 9 h, as read alone
        return collector.hear(text)

    def _collector(self, name: str) -> Collector:
        """The slot's collector, made on first use and kept for the call (some remember a turn)."""
        collector = self._collectors.get(name)
        if collector is None:
            collector = self._collectors[name] = self._new_collector(name)
        return collector

    def _new_collector(self, name: str) -> Collector:
        slot = self.flow.slots[name]
        if slot.type == "order_number":
            return OrderNumberCollector(slot.min_digits or 6, slot.max_digits or 10)
        if slot.type == "phone":
            return PhoneCollector()
        if slot.type == "yes_no":
            return YesNoCollector()
        if slot.type == "entity":
            data, table = self.flow.data, slot.from_
            if data is None or table is None:
                return EntityCollector({}, str)
            return EntityCollector(data.names(table), lambda key: data.display(table, key), slot.keys)
        if slot.type == "date":
            return DayCollector(self._clock, self.flow.timezone)
        check = self._check_callback_time if name in self._callback_slots else None
        return WhenCollector(
            self._clock,
            self.flow.timezone,
            check=check,
            past=slot.past,
            missing_time=slot.missing_time,
            missing_day=slot.missing_day,
            day_heard=slot.day_heard,
        )

    def _store(self, name: str, value: SlotValue) -> None:
        self._open_offer = None  # the caller took up the call-back: a "non" now is about its details
        self._declined.clear()  # refused while this value was asked for; a later question starts afresh
        self._slots[name] = value
        self._turn_values[name] = value
        self._confirmed.discard(name)
        self._pending_problem = None
        # Into the summary of the request in progress, if the value belongs to it: a call-back time said
        # after an order question opens the call-back request, it does not describe the order.
        if self._topics:
            topic = self._topics[-1]
            if name in self.flow.intents[topic.intent].slots or name == self._current.collect:
                read = self._summary_form(name, value)
                tried = [t for t in topic.tried.get(name, []) if t != read]
                topic.slots[name] = " puis ".join([*tried, read])

    @staticmethod
    def _summary_form(name: str, value: SlotValue) -> str:
        return value.for_agents or value.spoken

    def _fill_intent_slots(self, intent: str, text: str) -> bool:
        """Fill the intent's slots from the request itself ("où en est ma commande 458129")."""
        filled = False
        problems: list[tuple[str, str]] = []
        for name in self.flow.intents[intent].slots:
            outcome = self._extract(name, text)
            if isinstance(outcome, SlotValue):
                self._store(name, outcome)
                filled = True
            elif isinstance(outcome, Problem):
                problems.append((name, outcome.prompt))
            elif self.flow.slots[name].type == "order_number" and _said_a_number(text):
                # "… ma commande numéro 412, 1500, 600, 600": a number was said and not caught; the
                # caller hears so, rather than a question that sounds as if they had said nothing.
                problems.append((name, self.flow.prompts.number_not_caught))
        if problems:
            # Said when the state that collects the slot asks for it ("Ce moment est déjà passé."), and
            # only then: a state that asks something else drops it.
            self._pending_problem = problems[0]
        return filled

    def _fill_topic_slots(self, text: str) -> None:
        """Opportunistically keep the other slots of the current request said in the same answer
        ("la lampe Nuage à Lyon" fills both the product and the store)."""
        if not self._topics:
            return
        for name in self.flow.intents[self._topics[-1].intent].slots:
            if name not in self._turn_values:
                outcome = self._extract(name, text)
                if isinstance(outcome, SlotValue):
                    self._store(name, outcome)

    def _prefill_caller_phone(self) -> None:
        phone = PhoneCollector.caller_id(self.caller)
        if phone is None:
            return
        for name, slot in self.flow.slots.items():
            if slot.type == "phone" and slot.default == "caller":
                self._slots[name] = phone

    # ------------------------------------------------------------------------------ states & actions

    def _enter(self, name: str) -> None:
        self._entered += 1
        if self._entered > _MAX_STATES_PER_TURN:
            raise RuntimeError(f"flow {self.flow.name!r} loops through states without listening ({name})")
        if self._open_offer is not None and name != self._open_offer.asked_in:
            self._open_offer = None  # the caller moved on: "oui"/"non" no longer answer the offer
        self._state = name
        self._awaiting_confirmation = False
        state = self._current
        pending = self._pending_problem
        if state.collect is not None or state.ask:  # a state that asks: said now or never
            self._pending_problem = None
        if state.say:
            self._say(self._render(state.say))
        if state.collect is not None:
            if state.collect in self._slots:
                self._after_collected(state)
                return
            problem = pending[1] if pending is not None and pending[0] == state.collect else None
            if not problem and self._ask_earlier_order(state.collect):
                return
            if problem:
                self._say(problem)
            if not problem or not problem.endswith("?"):
                self._say(self._render(state.ask or ""))
        elif state.ask:
            self._say(self._render(state.ask))
        elif state.then is not None:
            self._run(state.then, reason=f"state:{name}")

    def _is_known_order(self, name: str, value: SlotValue) -> bool:
        """Whether `value` of slot `name` is an order number the flow's data has (one worth asking back)."""
        data = self.flow.data
        return (
            data is not None
            and self.flow.slots[name].type == "order_number"
            and str(value.value) in data.orders
        )

    def _ask_earlier_order(self, slot: str) -> bool:
        """A new tracking request that names no order ("Et elle arrive quand ?" after the order's status)
        asks back the order this call already looked up ("S'agit-il toujours de la commande 458129 ?")
        rather than the number again: the caller never repeats it. A yes reads it as said, a no asks
        for the number, and another number said instead is taken. The flow's `clear:` still applies:
        a caller with two orders says no, or gives the other one."""
        earlier = self._cleared_orders.pop(slot, None)
        if earlier is None:
            return False
        order = str(earlier.value)
        if order in self._orders_declined or _ANOTHER_ONE.search(normalize(self._request_text)):
            return False  # refused already, or "Je voudrais suivre une autre commande"
        question = self.flow.prompts.same_order.format(value=earlier.spoken)
        self._guess = _Guess(
            None, f"commande {order}", self._state, order=order, question=question, earlier=True
        )
        self._say(question)
        return True

    def _after_collected(self, state: State) -> None:
        slot = state.collect
        if state.confirm and slot is not None and slot not in self._confirmed:
            self._awaiting_confirmation = True
            self._say(self._render(state.confirm))
            return
        self._awaiting_confirmation = False
        if state.then is not None:
            self._run(state.then, reason=f"state:{self._state}")

    def _run(self, transition: Transition, reason: str, proven_wrong: bool = False) -> None:
        """`proven_wrong`: a lookup found nothing for this turn's values, so its `not_found:` may clear
        even a value given in this very sentence (an order number misheard is asked for again)."""
        for name in transition.clear:
            if proven_wrong or name not in self._turn_values:
                cleared = self._slots.pop(name, None)
                self._confirmed.discard(name)
                if cleared is not None and not proven_wrong and self._is_known_order(name, cleared):
                    self._cleared_orders[name] = cleared
        if transition.answer is not None:
            answer = self._lookup(transition.answer)
            if answer is None:
                self._escalate(reason="missing_data")
                return
            if self._topics and answer.note:
                self._topics[-1].outcome = answer.note
            self._note_tried(transition.answer, found=answer.found)
            # An answer the caller can use: found, or "out of stock" — not a number no order has.
            answered = answer.found or not LOOKUPS[transition.answer].not_found_means_wrong_input
            self._gave_answer |= answered
            if answered:
                self._requests_dropped = 0  # dropped requests count in a row, not over the call
            if not answer.found and transition.not_found is not None:
                self._answer = answer
                self._run(transition.not_found, reason, proven_wrong=True)
                return
            self._answer = answer
        if transition.callback is not None:
            self._schedule(transition)
        if transition.transfer is not None and self._queue_decides(transition.transfer, reason):
            return  # no "je vous passe un conseiller": the caller heard why not, or that they may wait
        if transition.say:
            self._say(self._render(transition.say))
        self._answer = None
        if transition.transfer is not None:
            self._transfer(transition.transfer, reason)
        elif transition.hangup:
            self._end(Hangup(reason=reason))
        elif transition.goto is not None:
            self._enter(transition.goto)
        elif transition.ask:
            self._say(self._render(transition.ask))

    def _note_tried(self, lookup: str, found: bool) -> None:
        """Remember the values a lookup found nothing for when that means the value was wrong (an order
        number no order has, perhaps misheard), for the agent (summary and context) even once cleared
        to be asked again; a lookup that finds something starts the list afresh. A product out of stock
        in a store is an answer, not a failed try."""
        if not LOOKUPS[lookup].not_found_means_wrong_input:
            return
        for name in self.flow.lookup_slots.get(lookup, {}).values():
            value = self._slots.get(name)
            if found or value is None:
                self._tried.pop(name, None)
                if self._topics:
                    self._topics[-1].tried.pop(name, None)
                continue
            self._tried[name] = value
            if self._topics:
                tried = self._topics[-1].tried.setdefault(name, [])
                read = self._summary_form(name, value)
                if not tried or tried[-1] != read:
                    tried.append(read)

    def _lookup(self, lookup: str) -> Answer | None:
        data = self.flow.data
        slots = self.flow.lookup_slots.get(lookup, {})
        required = LOOKUPS[lookup].inputs
        if data is None or any(slots.get(parameter) not in self._slots for parameter in required):
            return None
        inputs = {
            parameter: self._slots[slot].plain() for parameter, slot in slots.items() if slot in self._slots
        }
        return run_lookup(lookup, data, inputs, self._now)

    def _schedule(self, transition: Transition) -> None:
        spec = transition.callback
        assert spec is not None
        at = self._slots.get(spec.at)
        if at is None or not isinstance(at.value, datetime):
            return
        phone = self._slots.get(spec.phone) if spec.phone else None
        number = phone.value if phone is not None and phone.source != "caller" else None
        if self._topics:
            self._topics[-1].outcome = "rappel programmé"
        self._actions.append(
            ScheduleCallback(
                at=at.value, phone=number, queue=spec.queue, context=self.context(), decided_at=self._now
            )
        )

    def _transfer(self, queue: str, reason: str) -> None:
        self._end(Transfer(queue=queue, reason=reason, context=self.context()))

    # ------------------------------------------------------------------------ unavailable queues

    def _queue_decides(self, queue: str, reason: str) -> bool:
        """Before a transfer to `queue`: True when its status took over the turn instead.

        Asked once per queue and call. Unavailable: the caller hears why and is offered a call-back (and
        the wait, when the queue is open but saturated). After that offer, a transfer to a saturated queue
        is the caller choosing to wait; one to a closed queue never happens (see `_still_closed`).
        """
        offer = self._queue_offers.get(queue)
        if offer is not None:
            if not offer.unavailable.can_wait:
                self._still_closed(offer, reason)
                return True
            if reason.startswith("escalation:"):
                return False  # the bot gave up understanding: the flow's own transfer words
            self._wait_in(queue)
            return True
        if self._queue_check is None:
            return False
        unavailable = self._queue_check(queue, self._now)
        if unavailable is None:
            return False
        offer = self._queue_offers[queue] = _QueueOffer(queue, unavailable, intent=self._last_intent)
        self._events.append(f"file {queue} {'saturée' if unavailable.can_wait else 'fermée'}")
        self._say(unavailable.message)
        if self._callback_transition() is None:
            # No call-back in this flow: the wait is still better than nothing; a closed line is not.
            if unavailable.can_wait:
                return False
            self._goodbye_closed()
            return True
        prompts = self.flow.prompts
        self._say(prompts.wait_offer if unavailable.can_wait else prompts.callback_offer)
        self._offer_callback(offer)
        return True

    def _callback_transition(self) -> Transition | None:
        """What the flow's call-back request (`callback_intent`) does from here, if it has one."""
        callback = self.flow.settings.callback_intent
        if callback is None:
            return None
        return self._transition_for(callback)

    def _offer_callback(self, offer: _QueueOffer) -> bool:
        """Enter the flow's call-back request (`callback_intent`); False when the flow has none here."""
        callback = self.flow.settings.callback_intent
        transition = self._callback_transition()
        if callback is None or transition is None:
            return False
        topics = len(self._topics)
        self._record_intent(callback)
        if len(self._topics) > topics:
            offer.topic = self._topics[-1]
        self._failures.clear()
        self._run(transition, reason=f"intent:{callback}")
        if not self._ended:
            offer.asked_in = self._state
            self._open_offer = offer
        return True

    def _still_closed(self, offer: _QueueOffer, reason: str) -> None:
        """A caller who still asks for a person while the queue is closed: say why again and offer the
        call-back again; after `max_retries` such requests, or when the bot gave up understanding,
        say goodbye rather than loop."""
        offer.insisted += 1
        if reason.startswith("escalation:") or offer.insisted > self.flow.settings.max_retries:
            self._say(offer.unavailable.message)
            self._goodbye_closed()
            return
        self._say(self.flow.prompts.still_closed)
        self._say(offer.unavailable.message)
        if not self._offer_callback(offer):
            self._goodbye_closed()

    def _goodbye_closed(self) -> None:
        self._events.append("file fermée : fin d'appel")
        self._say(self.flow.prompts.closed_goodbye)
        self._end(Hangup(reason="queue_closed"))

    def _waiting_queue(self) -> str | None:
        """The saturated queue the caller was offered to wait in, if any."""
        for queue, offer in reversed(self._queue_offers.items()):
            if offer.unavailable.can_wait:
                return queue
        return None

    def _wait_in(self, queue: str) -> None:
        """The caller chose the wait over a call-back: put through, with that choice in the summary and
        their own request (not the call-back the bot offered) as the call's intent."""
        offer = self._queue_offers[queue]
        self._last_intent = offer.intent
        topic = offer.topic
        if topic is not None and not topic.slots and not topic.outcome:
            self._topics = [kept for kept in self._topics if kept is not topic]
        self._events.append("préfère patienter")
        self._say(self.flow.prompts.chose_to_wait)
        self._transfer(queue, reason="caller_chose_to_wait")

    def _ask_guess(self, intent: str, score: float, text: str) -> bool:
        """Ask back a weak guess instead of acting on it; False when nothing here handles `intent`."""
        if self._transition_for(intent) is None:
            return False
        spec = self.flow.intents[intent]
        question = spec.confirm or self.flow.prompts.confirm_guess.format(
            label=(spec.label or intent).lower()
        )
        self._guess = _Guess(intent, text, self._state, question=question)
        self._turn_intent = (intent, score)
        if not self._ends_call(intent):
            # a doubtful goodbye asked back is no progress: "Merci beaucoup." → "Vous souhaitez terminer
            # l'appel ?" → "Merci." → the question again, round after round, must still reach a person
            self._failures.clear()
        self._say(question)
        return True

    def _understand_unsure(self, heard: str, reading: str) -> None:
        """The closed set of `choices` leans to `reading` ("Lyon Part-Dieu") without certainty: the value
        is asked back ("Lyon Part-Dieu, c'est bien ça ?") and used on a yes, as if said; a no asks the
        question again."""
        if self._order_guessed(heard, reading):
            return
        collect = self._current.collect
        if collect is not None and self.flow.slots[collect].type == "order_number":
            self._understand(heard)  # an order is only asked back as a known one (`_order_guessed`)
            return
        value = self._extract(collect, reading) if collect and not self._awaiting_confirmation else None
        if not isinstance(value, SlotValue) or (collect and self.flow.slots[collect].keys and self._failures):
            # Once the keys were offered ("tapez 1 pour Paris"), an ask-back would give 1 and 2 a
            # second meaning: the caller hears the keys again instead.
            self._understand(heard)
            return
        question = self.flow.prompts.confirm_value.format(value=value.spoken)
        question = question[:1].upper() + question[1:]  # "Le plafonnier Halo, c'est bien ça ?"
        self._guess = _Guess(None, reading, self._state, question=question)
        self._say(question)

    def _order_guessed(self, heard: str, reading: str) -> bool:
        """When `reading` is `heard` with a known order in place of a number no order has (`order_in_the_
        turn`): the order asked back ("La commande 458129, c'est bien ça ?"); a yes reads `reading`, a no
        `heard` (its number looked up, and not found, as without the guess)."""
        data = self.flow.data
        found = self._order_request(reading) if data is not None else None
        value = self._extract(found[0], reading) if found is not None else None
        if (
            data is None
            or found is None
            or not isinstance(value, SlotValue)
            or value.value not in data.orders
        ):
            return False
        if found[1] is not None:
            self._turn_intent = (found[1], found[2])  # the request the turn makes or answers, as when found
        question = self.flow.prompts.confirm_order_number.format(value=value.spoken)
        self._guess = _Guess(
            None, reading, self._state, order=str(value.value), heard=heard, question=question
        )
        self._say(question)
        return True

    def _ask_guess_again(self, guess: _Guess | None, kind: FailureKind) -> bool:
        """A guess asked back whose answer was not understood, or not heard, is asked once more with the
        keys ("Pardon, je n'ai pas compris. Lyon Part-Dieu, c'est bien ça ? Dites oui ou non, ou tapez 1
        pour oui, 2 pour non."), as a call-back time read back is, rather than dropped for the state's
        own question: "Oui, c'est ça." came back "On sait ça." on the line. A failed try all the same."""
        if guess is None or guess.asked_again or guess.asked_in != self._state or not guess.question:
            return False
        if guess.intent is not None and self._ends_call(guess.intent):
            return False  # "Vous souhaitez terminer l'appel ?" is asked once; then the state's question
        self._failures.append(kind)
        if len(self._failures) > self.flow.settings.max_retries:
            self._escalate(reason=kind)
            return True
        self._guess = replace(guess, asked_again=True)
        lead_ins = getattr(self.flow.global_handlers, kind)
        if lead_ins:
            self._say(_for_try(lead_ins, len(self._failures)))
        self._say(guess.question)
        self._say(self.flow.prompts.keys_hint)
        return True

    def _order_declined(self, order: str, answer: str) -> str:
        """A no to the order asked back: it is never offered again in this call, and `answer` is read
        without it ("Non, pas 458129, c'est 458130": whatever else it says still counts)."""
        self._orders_declined.add(order)
        written = number_written(answer, order)
        if written is not None:
            return f"{written.prefix}{written.rest}".strip() or "non"
        slots = [name for name, slot in self.flow.slots.items() if slot.type == "order_number"]
        if any(_value_of(self._extract(name, answer)) == order for name in slots):
            return "non"  # said in words: read as a bare no
        return answer

    def _with_number_said_again(self, heard: str, answer: str) -> str:
        """`heard`, with the order number said again in `answer` ("Non, c'est le 4 5 8 1 3 0"), if any,
        in place of the number first heard."""
        name = self._order_slot_in(heard)
        first = self._extract(name, heard) if name is not None else None
        again = self._extract(name, answer) if name is not None else None
        if not isinstance(first, SlotValue) or not isinstance(again, SlotValue):
            return heard
        if again.value in self._orders_declined:
            return heard
        written = number_written(heard, str(first.value))
        return heard if written is None else written.reading(str(again.value))

    def _answered_earlier_order(self, guess: _Guess, text: str) -> bool:
        """The answer to "S'agit-il toujours de la commande 458129 ?" (`_ask_earlier_order`). Yes, or
        "toujours", "la même": its status. No, or "l'autre": never offered again in this call, and
        whatever else the answer says counts ("Non, c'est la 4815736.", "Non, je voudrais les horaires
        de Lyon."); a bare no asks for the number, no failed try. Anything else is a new sentence."""
        plain = normalize(text)
        another = bool(_ANOTHER_ONE.search(plain))
        yes_no = parse_yes_no(text)
        if yes_no is None and _SAME_ONE.search(plain):
            yes_no = True
        if another:
            yes_no = False  # "Oui, c'est pour l'autre commande."
        if yes_no is None:
            return False
        if yes_no:
            self._understand(guess.text)
            return True
        self._turn_intent = (self.flow.settings.no_intent, 1.0)
        if guess.order is not None:
            self._orders_declined.add(guess.order)
        collect = self._current.collect
        gives_a_value = collect is not None and isinstance(self._extract(collect, text), SlotValue)
        says_more = bool(_LEADING_ANSWER.sub("", plain).strip()) and not another
        if gives_a_value or says_more:
            self._understand(text)
        else:
            self._say(self._render(self._question()))  # "Non." / "C'est pour l'autre commande."
        return True

    def _answered_guess(self, guess: _Guess, text: str) -> bool:
        """The answer to a guess asked back. Yes: the guessed request, with what its first sentence
        named, or the guessed value as if said. No: the question again. Anything else is a new sentence,
        understood as such."""
        if guess.asked_in != self._state:
            return False
        if guess.earlier:
            return self._answered_earlier_order(guess, text)
        yes_no = parse_yes_no(text)
        if yes_no is None:
            return False
        if yes_no:
            if guess.intent is None:
                self._understand(guess.text)
                return True
            return self._handle_intent(guess.intent, 1.0, guess.text)
        self._turn_intent = (self.flow.settings.no_intent, 1.0)
        if guess.order is not None:
            self._orders_declined.add(guess.order)
            self._understand(self._with_number_said_again(guess.heard, text))
            return True
        if guess.intent is None:
            self._declined.add(guess.text)
            # The value asked back was wrong: the question was not answered, and a caller whose answer
            # keeps being misheard goes to a person after `max_retries`, as with any misunderstanding.
            self._failures.append("no_match")
            if len(self._failures) > self.flow.settings.max_retries:
                self._escalate(reason="no_match")
                return True
        self._say(self.flow.prompts.guess_declined)
        own = self._current.no_match if guess.intent is None else []
        # A value asked back and refused is a failed answer: its no_match says the way out (the keys).
        self._say(self._render(_for_try(own, len(self._failures)) if own else self._question()))
        return True

    def _answered_offer(self, text: str) -> bool:
        """A bare yes or no where the bot offered a call-back instead of an unavailable queue.

        Yes: the call-back question again. No to a closed queue: goodbye. No to a saturated one: the
        caller would rather wait, as they first asked for a person — unless they are saying goodbye
        ("non merci, au revoir"), which the flow's own intent handles.
        """
        offer = self._open_offer
        if offer is None or offer.asked_in != self._state or self._awaiting_confirmation:
            return False
        yes_no = parse_yes_no(text)
        if yes_no is None or (yes_no is False and offer.unavailable.can_wait and self._says_goodbye(text)):
            return False
        self._failures.clear()
        if yes_no:
            self._turn_intent = (self.flow.settings.yes_intent, 1.0)
            self._say(self.flow.prompts.callback_accepted)
            self._say(self._render(self._question()))
        elif offer.unavailable.can_wait:
            self._wait_in(offer.queue)
        else:
            self._turn_intent = (self.flow.settings.no_intent, 1.0)
            self._events.append("refuse le rappel")
            self._say(self.flow.prompts.callback_declined)
            self._end(Hangup(reason="queue_closed_callback_declined"))
        return True

    # ------------------------------------------------------------------------------------ failures

    def _problem(self, problem: Problem) -> None:
        """A heard but unusable value: say why and ask again (a refused value counts towards the
        escalation, a day still waiting for its hour does not)."""
        self._open_offer = None  # the caller took up the call-back ("demain" then "À quelle heure ?")
        if problem.is_failure:
            self._failures.append("no_match")
            if len(self._failures) > self.flow.settings.max_retries:
                self._escalate(reason="no_match")
                return
        else:
            self._failures.clear()
        self._say(problem.prompt)
        if not problem.prompt.rstrip().endswith("?"):
            self._say(self._render(self._current.ask or ""))

    def _fail(self, kind: FailureKind) -> None:
        self._failures.append(kind)
        retries = len(self._failures)
        if retries > self.flow.settings.max_retries:
            self._escalate(reason=kind)
            return
        state = self._current
        own = (
            [] if self._awaiting_confirmation else (state.no_match if kind == "no_match" else state.no_input)
        )
        if own:
            self._say(self._render(_for_try(own, retries)))
            return
        lead_ins = getattr(self.flow.global_handlers, kind)
        if lead_ins:
            self._say(_for_try(lead_ins, retries))
        self._say(self._render(self._question()))
        if self._awaiting_confirmation:
            self._say(self.flow.prompts.keys_hint)

    def _question(self) -> str:
        state = self._current
        if self._awaiting_confirmation and state.confirm:
            return state.confirm
        return state.ask or ""

    def _escalate(self, reason: str) -> None:
        count = len(self._failures)
        kinds = set(self._failures)
        if reason == "missing_data":
            self._events.append("informations manquantes pour répondre")
        elif kinds == {"no_input"}:
            self._events.append(f"transfert après {count} silences")
        elif kinds == {"no_match"}:
            self._events.append(f"transfert après {count} incompréhensions")
        else:
            self._events.append(f"transfert après {count} échanges non compris")
        self._failures.clear()
        self._run(self.flow.escalate, reason=f"escalation:{reason}")

    # ---------------------------------------------------------------------------------- templates

    def _render(self, template: str) -> str:
        """Fill `{slot}` and `{answer.field}`; an optional part `[ au {slot}]` is said only when every
        placeholder inside it has a value (a hidden caller number is not read back as "au .")."""

        def value_of(name: str) -> str:
            name = name.strip()
            if name.startswith("answer."):
                answer = self._answer
                return answer.fields.get(name.removeprefix("answer."), "") if answer else ""
            value = self._slots.get(name)
            return "" if value is None else value.spoken

        def fill(text: str) -> str:
            return _PLACEHOLDER.sub(lambda found: value_of(found.group(1)), text)

        def optional(found: re.Match[str]) -> str:
            part = found.group(1)
            return fill(part) if all(value_of(name) for name in _PLACEHOLDER.findall(part)) else ""

        return " ".join(fill(OPTIONAL_PART.sub(optional, template)).split())


# ---------------------------------------------------------------------------------------- helpers


#: How alike the words heard at the end of an hours question must sound to a day ("du monde" and
#: "dimanche" 0.67, "du mangue" 0.75) for the days to be scored there: "en continu", "pour travaux",
#: "du drive", "ma mère", "les jours" and 20 other endings a caller may say there sound 0.57 at most.
_DAY_SOUND_MIN = 0.6
#: The same order as the one asked back ("toujours", "c'est la même", "celle-là").
_SAME_ONE = re.compile(
    r"^(?:(?:oui|ben|bah|euh|alors) )*(?:toujours|(?:c est )?(?:la meme|celle la)|exactement)\b"
)
#: A caller dropping the request whose value is asked: "Non, c'est pour autre chose.", "Laissez tomber.",
#: "Ce n'est pas pour ça." (normalised text). Taken only where nothing else in the turn was understood.
#: Not "je me suis trompé (de numéro)": that corrects the value, asked again as before.
_OTHER_REQUEST = re.compile(
    r"\b(?:(?:c est |c etait |j appelle |j appelais )?pour (?:une )?autre chose"
    r"|laisse[zr]? tomber|(?:ce n |c )est pas pour ca)\b"
)
#: A request about another order than the one looked up ("une autre commande", "ma deuxième commande").
_ANOTHER_ONE = re.compile(
    r"\b(?:(?:autre|[2-9]e(?:me)?|seconde|nouvelle) commande|commande differente|l autre)\b"
)

#: "ou" without its accent before a noun without its article: "au" (`Conversation._request_words`).
_OU_FOR_AU = re.compile(r"(?P<before>\S+) ou(?= (?:magasins?|rayons?|stock)\b)", re.IGNORECASE)
#: Where "ou" before "magasin" is "où" written without its accent ("Vous êtes ou magasin de Lyon ?").
_WHERE_AFTER = frozenset({"êtes", "etes", "est", "c'est", "sont", "trouve", "situé", "situe"})
#: "… ou pas", "… ou non": "or not", never "where".
_OR_NOT = re.compile(r"(?<!\w)ou (?:pas|non)\b", re.IGNORECASE)


def _ou_for_au(found: re.Match[str]) -> str:
    before = found["before"]
    return found[0] if before.lower().replace("’", "'") in _WHERE_AFTER else f"{before} au"


_MATCHERS: weakref.WeakKeyDictionary[Flow, IntentMatcher] = weakref.WeakKeyDictionary()


def _matcher_for(flow: Flow) -> IntentMatcher:
    """One intent matcher per loaded flow, shared by its calls (building it takes tens of ms)."""
    matcher = _MATCHERS.get(flow)
    if matcher is None:
        examples = {name: intent.examples for name, intent in flow.intents.items()}
        keywords = {name: intent.keywords for name, intent in flow.intents.items() if intent.keywords}
        matcher = IntentMatcher(examples, threshold=flow.settings.intent_threshold, keywords=keywords)
        _MATCHERS[flow] = matcher
    return matcher


def _callback_time_slots(flow: Flow) -> frozenset[str]:
    """Datetime slots used as call-back times (the ones the business-hours hook applies to)."""
    names: set[str] = set()
    handlers = flow.global_handlers
    transitions: list[Transition] = [*handlers.on.values(), *handlers.on_dtmf.values(), flow.escalate]
    for state in flow.states.values():
        transitions += [*state.on.values(), *state.on_dtmf.values()]
        if state.then is not None:
            transitions.append(state.then)
    while transitions:
        transition = transitions.pop()
        if transition.callback is not None:
            names.add(transition.callback.at)
        if transition.not_found is not None:
            transitions.append(transition.not_found)
    return frozenset(names)


#: The word an answer to "Pour quel magasin ?" is framed with.
_STORE_WORD = re.compile(r"\b(?:magasins?|boutiques?)\b", re.IGNORECASE)
#: A day said after a call-back verb, its hour heard as other words ("… me rappeler mercredi à ses œufs.").
_DAY_WORDS = re.compile(
    r"\b(?:apr[eè]s-demain|demain|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)\b", re.IGNORECASE
)
#: The grammar of a time of day ("vers 16 h 30", "entre 14 et 16 heures", "dans l'après-midi"): what is
#: left of the words after "rappeler" without it may be a day heard as other words ("je divers").
_TIME_OF_DAY_WORDS = frozenset(
    {
        "a", "vers", "h", "heure", "heures", "et", "demie", "demi", "quart", "entre", "de", "du", "d", "midi",
        "minuit", "matin", "soir", "apres", "dans", "l", "le", "la", "en", "fin", "debut", "matinee",
        "soiree", "journee", "aux", "alentours", "environ", "plutot", "des", "partir", "moins",
    }
)  # fmt: skip
#: The words of a time after "rappeler", some of them request words too ("heure" asks for opening hours,
#: "demain" and "vers" are in the call-back's examples): not what makes the words after the verb another
#: request.
_TIME_WORDS = re.compile(_DAY_WORDS.pattern + r"|\b(?:heures?|vers)\b", re.IGNORECASE)
#: Digits of a French phone number said without its country code ("06 12 34 56 78").
_PHONE_DIGITS = 10


_DIGIT = re.compile(r"\d")
#: How long the bot waits for a caller who went to look for what was asked ("Attendez, je cherche").
HOLD_TIMEOUT_MS = 20000
#: The hello a caller opens with ("Ouais salut, …", "Allô, salut, …").
_OPENING_HELLO = re.compile(r"^\W*(?:(?:oui|ouais|all[oô]|bonjour)\b\W*)*salut\b[\W_]*", re.IGNORECASE)
#: The yes a caller picks up with ("Oui, bonjour…", "Ouais ouais, alors…").
_OPENING_YES = re.compile(r"^\W*(?:(?:oui|ouais)\b[\W_]*)+", re.IGNORECASE)
#: A "oui" followed by at least this many words may open a request ("Oui, je voudrais être rappelé").
_MIN_REQUEST_WORDS_AFTER_YES = 3


def _value_of(heard: Heard) -> object:
    """The value a collector heard, or None."""
    return heard.value if isinstance(heard, SlotValue) else None


def _score(match: IntentMatch) -> float:
    return match.score


def _words_besides_a_time(words: str) -> bool:
    """Whether `words` hold more than a time of day: "je divers 10 heures" does ("je divers" may be
    "jeudi vers"), "à 14 heures" and "vers 16 h 30" do not."""
    return any(not word.isdigit() and word not in _TIME_OF_DAY_WORDS for word in normalize(words).split())


def _day_word_end(words: str) -> int | None:
    """Where the last day word of `words` ends ("demain", "mercredi", "Mertredi" a letter off), or None."""
    ends = [
        found.end()
        for found in re.finditer(r"[\w'-]+", words)
        if _DAY_WORDS.fullmatch(found.group()) or weekday_spelling(normalize(found.group())) in WEEKDAYS
    ]
    return ends[-1] if ends else None


def _said_a_number(text: str) -> bool:
    """A number given as one: digits right after "numéro" ("numéro 412, 1500"), or four digits said one
    by one ("4 5 8 1"); not a price, a quantity, a date or a time (number words count, as `normalize`
    writes them)."""
    return bool(_NUMBER_GIVEN.search(normalize(text)))


def _slot_hints(flow: Flow, slot: Slot) -> list[str]:
    if slot.type == "entity" and flow.data is not None and slot.from_ is not None:
        return list(flow.data.names(slot.from_))
    if slot.type in ("datetime", "date"):
        return [
            "demain",
            "après-demain",
            "ce matin",
            "cet après-midi",
            "lundi",
            "mardi",
            "mercredi",
            "jeudi",
            "vendredi",
            "samedi",
            "heures",
            "et demie",
        ]
    if slot.type == "yes_no":
        return ["oui", "non"]
    return []


def _for_try(sentences: Sequence[str], retries: int) -> str:
    """The sentence for the n-th failure in a row (1-based): the last one once they run out."""
    return sentences[min(retries, len(sentences)) - 1]
