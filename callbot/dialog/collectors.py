"""Collecting one value from the caller, the same way in every dialog.

A collector reads what a caller said (or keyed) for one kind of value and answers with what to do:
the value (`SlotValue`), a `Problem` to say before asking again ("Ce moment est déjà passé.", "Demain,
d'accord. À quelle heure ?"), or None when the words hold no such value. It keeps its own memory between
turns (the day said without an hour) and makes its own checks (the past, the queue's hours and slots),
so `Conversation` (a caller's call) and `CallbackCallDialog` (the bot calling back) book a call-back
time by the very same rules: "demain", then "à 15 h" is tomorrow at 15 h in both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, Literal
from zoneinfo import ZoneInfo

from callbot.dialog import french
from callbot.dialog.nlu import When, parse_when

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
    ) -> None:
        self._clock = now
        self.tz = tz
        self.check = check
        self.past = past or "Ce moment est déjà passé."
        self.missing_time = missing_time or "À quelle heure ?"
        self.missing_day = missing_day or "Quel jour et à quelle heure précisément ?"
        #: The days said without an hour (first, last), waiting for the hour.
        self.days: tuple[date, date] | None = None

    def forget(self) -> None:
        self.days = None

    def keys(self, keys: str) -> SlotValue | Problem | None:
        said = keypad_moment(keys)
        if said is None:
            return None
        self.days = None  # key 1 is tomorrow, whatever week was said before
        heard = self.hear(said)
        if isinstance(heard, SlotValue):
            return SlotValue(heard.value, heard.spoken, "dtmf", heard.for_agents)
        return heard

    def hear(self, text: str) -> SlotValue | Problem | None:
        now = self._now()
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
            spoken_day = french.relative_day(when.at.date(), now.date()).rstrip(",")
            return Problem(f"{spoken_day[0].upper()}{spoken_day[1:]}, d'accord. {self.missing_time}", False)
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
        when = parse_when(text, now)
        if self.days is not None and when is not None and not self.days[0] <= when.at.date() <= self.days[1]:
            # "demain" then "à 15 h": read from the start of the days said before, a bare time or weekday
            # lands inside them, while "jeudi à 10 h" (after "demain") keeps its own day.
            first, last = self.days
            inside = parse_when(text, datetime.combine(first, time(0), tzinfo=self.tz))
            if inside is not None and first <= inside.at.date() <= last:
                return inside
        return when

    def _now(self) -> datetime:
        moment = self._clock()
        return moment.replace(tzinfo=self.tz) if moment.tzinfo is None else moment.astimezone(self.tz)


def _hour_words(when: When) -> str:
    """'à 15 h', 'vers 15 h' or 'entre 9 h et 12 h', as precise as the caller was."""
    if when.precision == "part_of_day" and when.earliest is not None and when.latest is not None:
        return f"entre {french.clock(when.earliest)} et {french.clock(when.latest)}"
    if when.precision == "hour":
        return f"vers {french.clock(when.at)}"
    return f"à {french.clock(when.at)}"
