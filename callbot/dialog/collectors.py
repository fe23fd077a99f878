"""Collecting one value from the caller, the same way in every dialog.

A collector reads what a caller said (or keyed) for one kind of value and answers with what to do:
the value (`SlotValue`), a `Problem` to say before asking again ("Ce moment est déjà passé.", "Demain,
d'accord. À quelle heure ?"), or None when the words hold no such value. It keeps its own memory between
turns (the day said without an hour) and makes its own checks (the past, the queue's hours and slots),
so `Conversation` (a caller's call) and `CallbackCallDialog` (the bot calling back) book a call-back
time by the very same rules: "demain", then "à 15 h" is tomorrow at 15 h in both.

One collector per kind of slot: `WhenCollector` (a date and time), `DayCollector` (a day a question is
about), `OrderNumberCollector`, `PhoneCollector`, `YesNoCollector` and `EntityCollector` (a store, a
product). Each also says how the keypad and the end of turn serve it (`max_keys`, `end_silence_ms`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

from callbot.calendar_fr import WEEKDAYS
from callbot.dialog import french
from callbot.dialog.nlu import (
    When,
    extract_order_number,
    extract_phone_number,
    normalize,
    parse_when,
    parse_yes_no,
    rank_entities,
    sounds_like,
)
from callbot.dialog.nlu.entities import DEFAULT_ENTITY_THRESHOLD
from callbot.tts.french import number_to_words

CallbackTimeCheck = Callable[[datetime], "str | None"]
"""None when a call-back can be booked at that time, else the French sentence saying why not."""


@dataclass(frozen=True, slots=True)
class SlotValue:
    """A collected value, its spoken form for prompts, and where it came from."""

    value: Any  # str (order number, entity key, E.164), datetime, date, bool
    spoken: str
    source: Literal["speech", "dtmf", "caller"] = "speech"
    for_agents: str | None = None  # when it differs from `spoken`: "mardi 24 novembre à 15 h", not "demain"

    def plain(self) -> Any:
        """JSON-friendly value for the call context (dates and times as ISO 8601)."""
        return self.value.isoformat() if isinstance(self.value, date) else self.value


@dataclass(frozen=True, slots=True)
class Problem:
    """A value was heard but cannot be used yet (a time in the past, a day without an hour)."""

    prompt: str
    is_failure: bool = True  # a day without an hour is progress, not a misunderstanding


Heard = SlotValue | Problem | None
"""What a collector makes of a turn: the value, a problem to say before asking again, or not its kind."""

#: End-of-turn silence while the caller reads out a number (order, phone): callers pause between groups.
NUMBER_END_SILENCE_MS = 1300
#: Keys that answer a yes/no question everywhere in the gateway: 1 yes, 2 no.
YES_NO_KEYS = {"1": True, "2": False}
#: What a short "oui" becomes through an 8 kHz line (Whisper base) that `parse_yes_no` does not take:
#: "Bonne...", "Bon, voilà.", "Bah bon." (a bare "Bon." is a yes there already).
_WEAK_YES = re.compile(r"(?:bonne|bon voila|bah bon)")
#: "… mais pas aujourd'hui", "sauf demain", "je suis occupé": the time is not left to us after all.
_BUT_NOT = re.compile(r"\b(?:(?<!\bsais )(?<!\bsait )pas|sauf|excepte|hormis|occupe|occupee)\b")
#: "… sauf aujourd'hui", "mais pas aujourd'hui": any time from tomorrow.
_NOT_TODAY = re.compile(r"\b(?:sauf|pas|excepte|hormis) aujourd hui\b")
#: An answer to "Quand souhaitez-vous être rappelé ?" that leaves the time to the contact centre.
_ANY_TIME = re.compile(
    r"\b(?:quand (?:vous|tu) (?:voulez|voudrez|pouvez|pourrez|veux)|n importe quand|peu importe"
    r"|ca m est (?:egal|indifferent)|comme vous (?:voulez|voudrez)|a votre convenance"
    r"|quand (?:ca|cela) vous arrange|a n importe quel moment|(?:tout|toute) (?:le temps|la journee))\b"
)


class Collector(Protocol):
    """One kind of slot: reads a spoken turn or keys; remembers what a later turn completes."""

    #: How many keys the keypad may send for this slot before the turn ends without '#'.
    max_keys: int
    #: The end-of-turn silence while this slot is asked (None: the endpointer's default).
    end_silence_ms: int | None

    def hear(self, text: str) -> Heard: ...

    def keys(self, keys: str) -> Heard: ...

    def forget(self) -> None: ...


class _NoMemory:
    """For collectors whose value is said in one turn."""

    max_keys = 1
    end_silence_ms: int | None = None

    def keys(self, keys: str) -> Heard:
        return None

    def forget(self) -> None:
        return None


class OrderNumberCollector(_NoMemory):
    """An order number said ("quatre cinq huit un deux neuf", "CMD 458129") or keyed, of the flow's length."""

    end_silence_ms: int | None = NUMBER_END_SILENCE_MS

    def __init__(self, min_digits: int = 6, max_digits: int = 10) -> None:
        self.min_digits = min_digits
        self.max_digits = self.max_keys = max_digits

    def hear(self, text: str) -> Heard:
        return self._read(text, "speech")

    def keys(self, keys: str) -> Heard:
        return self._read(keys, "dtmf") if keys.isdigit() and len(keys) > 1 else None

    def _read(self, text: str, source: Literal["speech", "dtmf"]) -> SlotValue | None:
        number = extract_order_number(text, min_digits=self.min_digits, max_digits=self.max_digits)
        return SlotValue(number, number, source) if number else None


class PhoneCollector(_NoMemory):
    """A French phone number said or keyed, validated with `phonenumbers`: E.164 value, read in pairs."""

    max_keys = 10
    end_silence_ms: int | None = NUMBER_END_SILENCE_MS

    def hear(self, text: str) -> Heard:
        return self._read(text, "speech")

    def keys(self, keys: str) -> Heard:
        return self._read(keys, "dtmf") if keys.isdigit() and len(keys) > 1 else None

    @staticmethod
    def _read(text: str, source: Literal["speech", "dtmf"]) -> SlotValue | None:
        phone = extract_phone_number(text)
        return SlotValue(phone.e164, phone.national, source) if phone else None

    @staticmethod
    def caller_id(caller: str | None) -> SlotValue | None:
        """The caller's own number as a value (to read back, never trusted unconfirmed), or None."""
        phone = extract_phone_number(caller, allow_international=True) if caller else None
        return None if phone is None else SlotValue(phone.e164, phone.national, "caller")


class YesNoCollector(_NoMemory):
    """A yes or a no, said or keyed (1 yes, 2 no).

    With `weak_yes`, "Bonne.", "Bon, voilà." or "Bah bon." (what a short "oui" often becomes on an 8 kHz
    line, while "non" stays "Non."; a bare "Bon." is a yes already) are not taken the first time — the
    question is asked again with the keys — and are taken as a yes when one comes back right after.
    """

    def __init__(self, *, weak_yes: bool = False) -> None:
        self.weak_yes = weak_yes
        self._weak_yes_heard = False

    def hear(self, text: str) -> SlotValue | None:
        answer = parse_yes_no(text)
        if answer is None and self.weak_yes and _WEAK_YES.fullmatch(normalize(text)):
            answer = True if self._weak_yes_heard else None
            self._weak_yes_heard = not self._weak_yes_heard
        else:
            self._weak_yes_heard = False
        return None if answer is None else SlotValue(answer, "oui" if answer else "non")

    def keys(self, keys: str) -> SlotValue | None:
        answer = YES_NO_KEYS.get(keys[:1])
        return None if answer is None else SlotValue(answer, "oui" if answer else "non", "dtmf")

    def forget(self) -> None:
        self._weak_yes_heard = False


class EntityCollector(_NoMemory):
    """One entry of a flow's data table (a store, a product) named in the turn, by any of its names."""

    def __init__(
        self, names: Mapping[str, str], display: Callable[[str], str], keys: Mapping[str, str] | None = None
    ) -> None:
        self.names = names  # every name and alias → the entry's key
        self.display = display
        self.phone_keys = dict(keys or {})  # "1" → paris_rivoli: the keypad when speech fails

    def hear(self, text: str) -> Heard:
        key = named_entry(text, self.names)
        return None if key is None else SlotValue(key, self.display(key))

    def mentioned(self, text: str) -> SlotValue | None:
        """The entry `text` names word by word, for a turn that was not asked for it: the sound match
        of `hear` is for the answer to its own question ("le vieux pont" is no Vieux-Port in passing)."""
        key = named_entry(text, self.names, by_sound=False)
        return None if key is None else SlotValue(key, self.display(key))

    def keys(self, keys: str) -> Heard:
        entry = self.phone_keys.get(keys[:1]) if len(keys) == 1 else None
        return None if entry is None else SlotValue(entry, self.display(entry), "dtmf")


class DayCollector(_NoMemory):
    """The day a question is about ("vous êtes ouverts dimanche ?", "le 25 décembre", "ce soir").

    Read from the start of today: a bare hour ("vous êtes ouverts à 9 h ?") then stays today instead of
    being moved to tomorrow as a call-back time already gone would be. A day French leaves open ("lundi"
    or "lundi prochain" said on a Monday: next week's; "samedi ou dimanche": the first) is taken as
    `parse_when`'s reading, not dropped: the answer names the date ("le lundi 30 novembre"), which the
    caller can correct, where dropping it answered for today.
    """

    def __init__(self, now: Callable[[], datetime], tz: ZoneInfo) -> None:
        self._clock = now
        self.tz = tz

    def hear(self, text: str) -> Heard:
        now = _local(self._clock(), self.tz)
        when = parse_when(text, now.replace(hour=0, minute=0, second=0, microsecond=0))
        if when is None:
            return None
        day = when.at.date()
        return SlotValue(day, french.relative_day(day, now.date()).rstrip(","))


def named_entry(text: str, table: Mapping[str, str], by_sound: bool = True) -> str | None:
    """The key of the entry (store, product) named in `text`, given every name and alias → key.

    Aliases of one entry tie with each other ("lampe de chevet Nuage" and "la lampe de chevet Nuage"):
    only a tie between two different entries leaves the answer open. When no name is found word by word,
    one heard across word boundaries ("du vie report" → Vieux-Port) is taken (`sounds_like`), unless
    not `by_sound`.
    """
    names, entries = list(table), list(table.values())
    ranked = rank_entities(text, names, entries)
    if not ranked or ranked[0].score < DEFAULT_ENTITY_THRESHOLD:
        return sounds_like(text, names, entries) if by_sound else None
    best = ranked[0]
    keys = {
        table[entry.name]
        for entry in ranked
        if math.isclose(entry.score, best.score, abs_tol=1e-6)
        and math.isclose(entry.matched_weight, best.matched_weight, abs_tol=1e-6)
    }
    return keys.pop() if len(keys) == 1 else None


def _local(moment: datetime, tz: ZoneInfo) -> datetime:
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment.astimezone(tz)


#: A call-back time on the keypad: a day key (0 today, 1 tomorrow, 2 the day after), then the hour on two
#: keys ("114": tomorrow at 14 h) — for a caller whose speech is not understood (the flow says so).
KEYPAD_DAYS = {"0": "aujourd'hui", "1": "demain", "2": "après-demain"}
KEYPAD_TIME_KEYS = 3

_TIME_PRECISIONS = frozenset({"minute", "hour", "part_of_day"})


def keypad_moment(keys: str) -> str | None:
    """The French words for a call-back time keyed as a day key and a two-digit hour, or None."""
    if len(keys) != KEYPAD_TIME_KEYS or not keys.isdigit() or keys[0] not in KEYPAD_DAYS:
        return None
    hour = int(keys[1:])
    return f"{KEYPAD_DAYS[keys[0]]} à {hour} h" if hour <= 23 else None


@dataclass(frozen=True)
class WhenSentences:
    """What a date-and-time collector says when a moment is incomplete or past: the defaults of a flow's
    datetime slot and of the call-back call's prompt table (one source for both)."""

    past: str = "Ce moment est déjà passé."
    missing_time: str = "À quelle heure ?"
    missing_day: str = "Quel jour et à quelle heure précisément ?"  # "la semaine prochaine"
    #: A day said without an hour, echoed before `missing_time` ({day}: "demain, mardi 24 novembre").
    day_heard: str = "{day}, d'accord."


WHEN_SENTENCES = WhenSentences()


class WhenCollector:
    """A date and time to call back (or any moment with an hour), in the future.

    - "demain" alone is remembered: "Demain, mardi 24 novembre, d'accord. À quelle heure ?", and the
      next answer ("à 15 h") completes that day; "la semaine prochaine" asks for the day
      (`missing_day`), and "mardi à 9 h" then means that week's Tuesday. "jeudi à 10 h" after "demain"
      keeps its own day.
    - A moment already past gets `past`; one the queue cannot take gets the check's own sentence.
    - `keys("114")` reads a keyed time (`keypad_moment`) by the same rules.
    """

    def __init__(
        self,
        now: Callable[[], datetime],
        tz: ZoneInfo,
        *,
        check: CallbackTimeCheck | None = None,
        past: str | None = None,
        missing_time: str | None = None,
        missing_day: str | None = None,
        day_heard: str | None = None,
    ) -> None:
        self._clock = now
        self.tz = tz
        self.max_keys = KEYPAD_TIME_KEYS  # a day key, then the hour on two keys
        self.end_silence_ms: int | None = None
        self.check = check
        self.past = past or WHEN_SENTENCES.past
        self.missing_time = missing_time or WHEN_SENTENCES.missing_time
        self.missing_day = missing_day or WHEN_SENTENCES.missing_day
        self.day_heard = day_heard or WHEN_SENTENCES.day_heard
        #: The days said without an hour (first, last), waiting for the hour.
        self.days: tuple[date, date] | None = None

    def forget(self) -> None:
        self.days = None

    def hour_answers(self) -> dict[str, str]:
        """Once a day was said without its hour ("Jeudi 26 novembre, d'accord. À quelle heure ?"): what
        the caller may answer ("À 14h30", "À quatorze heures trente") → a reading that names the day and
        the time ("le 26 novembre à 14 h 30", understood whatever the collector remembers), for
        closed-set scoring of an answer free decoding missed. Only times still ahead that the check
        takes; empty when no single day waits for its hour."""
        if self.days is None or self.days[0] != self.days[1]:
            return {}
        day = self.days[0]
        answers: dict[str, str] = {}
        for at in self._bookable(day, (0, 30)):
            reading = f"le {french.day_and_month(day)} à {french.clock(at)}"
            answers.update(dict.fromkeys(_said_times(at.hour, at.minute), reading))
        return answers

    def days_ahead(self, days: int = 7) -> dict[str, date]:
        """How a caller names each of the next `days` ("demain", "après-demain", "mercredi") → that day:
        for scoring the words a call-back request was heard with after its verb
        (`Conversation.time_in_the_request`, which leaves out the days `hours_on` finds no time in).
        Not today: "aujourd'hui" led on "c'est urgent" (bench/store_ending_bench.py --times), and a
        same-day time is mostly "cet après-midi", "ce soir", "dans une heure", which free decoding
        reads."""
        today = _local(self._clock(), self.tz).date()
        named: dict[str, date] = {}
        for ahead in range(1, days + 1):
            day = today + timedelta(days=ahead)
            names = {1: ["demain"], 2: ["après-demain"]}.get(ahead, [])
            named.update(dict.fromkeys([*names, WEEKDAYS[day.weekday()]], day))
        return named

    def hours_on(self, day: date) -> dict[str, str]:
        """A time on the hour said after a day ("à 16 heures", "vers seize heures") → the time as the
        dialog reads it ("à 16 h"), for each hour of `day` still ahead that the check takes."""
        hours: dict[str, str] = {}
        for at in self._bookable(day, (0,)):
            words = _clock_in_words(at.hour, 0)
            said = (f"à {at.hour} heures", f"vers {at.hour} heures", f"à {words}", f"vers {words}")
            hours.update(dict.fromkeys(said, f"à {french.clock(at)}"))
        return hours

    def _first_bookable_after(self, today: date) -> When | None:
        """The first time on the hour or half hour the check takes after `today`, within a week: not
        the nearest free times on both sides of a closed tomorrow, which would offer today again. None
        without a check (nothing to say which hours are open)."""
        if self.check is None:
            return None
        for ahead in range(1, _DAYS_AHEAD + 1):
            for at in self._bookable(today + timedelta(days=ahead), (0, 30)):
                return When(at, "minute", False, at, None, "la première heure libre après aujourd'hui")
        return None

    def _bookable(self, day: date, minutes: tuple[int, ...]) -> Iterator[datetime]:
        """The times of `day` at these minutes past each hour a caller may answer, still ahead and taken
        by the check."""
        now = _local(self._clock(), self.tz)
        for hour in _ANSWER_HOURS:
            for minute in minutes:
                at = datetime.combine(day, time(hour, minute), self.tz)
                if at > now and (self.check is None or not self.check(at)):
                    yield at

    def keys(self, keys: str) -> Heard:
        said = keypad_moment(keys)
        if said is None:
            return None
        self.days = None  # key 1 is tomorrow, whatever week was said before
        heard = self.hear(said)
        if isinstance(heard, SlotValue):
            return SlotValue(heard.value, heard.spoken, "dtmf", heard.for_agents)
        return heard

    def hear(self, text: str) -> Heard:
        now = _local(self._clock(), self.tz)
        when = self._read(text, now)
        if when is None:
            earlier = parse_when(text, now.replace(hour=0, minute=0, second=0, microsecond=0))
            if earlier is not None and earlier.at < now:
                return Problem(self.past)
            return None
        if when.precision not in _TIME_PRECISIONS:
            last = when.latest.date() if when.latest is not None else when.at.date()
            self.days = (when.at.date(), last)
            if last != when.at.date():
                return Problem(self.missing_day, is_failure=False)
            echo = self.day_heard.format(day=french.relative_day(when.at.date(), now.date()).rstrip(","))
            return Problem(f"{echo[0].upper()}{echo[1:]} {self.missing_time}", is_failure=False)
        self.days = None
        at = when.at.astimezone(self.tz)
        if at < now:
            return Problem(self.past)
        refusal = self.check(at) if self.check is not None else None
        if refusal:
            return Problem(refusal)
        hour = _hour_words(when)
        spoken = f"{french.relative_day(at.date(), now.date())} {hour}"
        return SlotValue(at, spoken, "speech", for_agents=f"{french.full_date(at.date(), now.date())} {hour}")

    def _read(self, text: str, now: datetime) -> When | None:
        when = parse_when(text, now, day_known=self.days is not None)
        said = normalize(text)
        if when is None and self.days is None and _ANY_TIME.search(said):
            if not _BUT_NOT.search(said):
                # "quand vous voulez" leaves the time to us: the first one free, read back like "dès que
                # possible" (it had been read as an opening-hours question, and "je ne sais pas, quand
                # vous voulez" as a complaint)
                when = parse_when("dès que possible", now)
            elif _NOT_TODAY.search(said) and not _BUT_NOT.search(_NOT_TODAY.sub(" ", said)):
                # "quand vous voulez, sauf aujourd'hui" (an opening-hours question before): the first
                # time the queue takes from tomorrow on (its first hours without a check), read back
                when = self._first_bookable_after(now.date()) or parse_when("demain à la première heure", now)
        if self.days is not None and when is not None and not self.days[0] <= when.at.date() <= self.days[1]:
            # "demain" then "à 15 h": read from the start of the days said before, a bare time or weekday
            # lands inside them, while "jeudi à 10 h" (after "demain") keeps its own day.
            first, last = self.days
            inside = parse_when(text, datetime.combine(first, time(0), tzinfo=self.tz), day_known=True)
            if inside is not None and first <= inside.at.date() <= last:
                return inside
        return when


#: How far ahead "sauf aujourd'hui" looks for the first free time.
_DAYS_AHEAD = 7
#: The hours whose full and half hours are offered as a closed set when a day's hour is asked.
_ANSWER_HOURS = range(8, 20)


def hour_phrases() -> list[str]:
    """Every phrase `WhenCollector.hour_answers` may offer, whatever the day."""
    return [phrase for hour in _ANSWER_HOURS for minute in (0, 30) for phrase in _said_times(hour, minute)]


def _said_times(hour: int, minute: int) -> tuple[str, str]:
    """A time as Whisper writes it ("À 14h30.") and in words ("À quatorze heures trente."): scoring both
    found 11 of 30 answers on the line where either alone found 6 or 8 (none wrong)."""
    words = _clock_in_words(hour, minute)
    return f"À {hour}h{minute:02d}." if minute else f"À {hour}h.", f"À {words}."


def _clock_in_words(hour: int, minute: int) -> str:
    """ "quatorze heures trente", "midi": an hour or half hour as a caller says it."""
    if hour == 12:
        return "midi et demi" if minute else "midi"
    return f"{number_to_words(hour, feminine=True)} heures" + (" trente" if minute else "")


def _hour_words(when: When) -> str:
    """'à 15 h', 'vers 15 h' or 'entre 9 h et 12 h', as precise as the caller was."""
    if when.precision == "part_of_day" and when.earliest is not None and when.latest is not None:
        return f"entre {french.clock(when.earliest)} et {french.clock(when.latest)}"
    if when.precision == "hour":
        return f"vers {french.clock(when.at)}"
    return f"à {french.clock(when.at)}"
