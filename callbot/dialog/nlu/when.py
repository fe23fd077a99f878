"""When does the caller want to be called back? A rule-based reader of spoken French dates and times.

``dateparser`` reads "demain à quatorze heures" as nothing and "demain à 14 heures" as the wrong time; a
call-back booked at the wrong time is worse than a question. So ``when_reading`` reads the normalised
words, and this module resolves them against the call's own clock (``now``, Europe/Paris) and says how
sure it is: ``precision`` for how narrow the answer is, ``ambiguous`` when French itself leaves a choice
("lundi prochain" said on a Sunday), so that the dialog reads the date back before booking it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from callbot.dialog.nlu.when_lexicon import WORKING_DAY, PartOfDay, clock_words, describe_day, short_date
from callbot.dialog.nlu.when_reading import Clock, DayMention, Reading, read

PARIS = ZoneInfo("Europe/Paris")
Precision = Literal["minute", "hour", "part_of_day", "day"]

# "vers 14 h" means 13:30–14:30.
_APPROXIMATION = timedelta(minutes=30)
# Times said without "du matin" from 1 to 7 o'clock are afternoon times: nobody books a call at 3 a.m.
_PM_RULE_HOURS = range(1, 8)
# A morning time that rolled over to tomorrow is ambiguous when the same hour tonight is still ahead and
# no later than this ("à 8 h" said at 10:30: tomorrow 08:00 or tonight 20:00?).
_LATEST_PLAUSIBLE_EVENING_HOUR = 20
_ROUNDING = timedelta(minutes=5)
_DAY_MINUTES = 24 * 60


@dataclass(frozen=True, slots=True)
class When:
    """A resolved call-back time.

    ``at`` is the time to book (aware, Europe/Paris). ``precision`` says how the caller put it: "minute"
    (a clock time or an offset: "à 14 h 30", "dans 30 minutes"), "hour" (approximate: "vers 14 h"),
    "part_of_day" (a window: "en fin de matinée", "après 18 h", "entre 14 h et 16 h"), "day" (a day
    only: "jeudi", "la semaine prochaine"). ``earliest``/``latest`` bound the window when there is one.
    ``ambiguous`` asks the dialog to read the result back ("lundi prochain" on a Sunday or a Monday).
    ``explanation`` is a French description of the result ("demain, mardi 24 novembre à 14 h"), followed
    by the reason for any ambiguity.
    """

    at: datetime
    precision: Precision
    ambiguous: bool
    earliest: datetime | None
    latest: datetime | None
    explanation: str


def parse_when(text: str, now: datetime, *, day_known: bool = False) -> When | None:
    """Resolve a spoken French call-back time against ``now``; None when there is none or it is past.

    Reads, in any order and combination: days ("aujourd'hui", "demain", "après-demain", "jeudi", "lundi
    prochain", "lundi de la semaine prochaine", "lundi en huit", "le 3 décembre", "le 3", "jeudi 26",
    "la semaine prochaine", "en fin de semaine", "ce week-end", "le mois prochain"), clock times ("à 14 h",
    "quatorze heures trente", "9 heures et demie", "10 heures moins le quart", "midi", "minuit", "à 10"),
    approximations ("vers 14 h"), bounds and windows ("après 18 h", "avant midi", "entre 14 h et 16 h"),
    parts of the day ("ce soir", "demain matin", "en fin de matinée", "en début d'après-midi", "ce midi"),
    offsets ("dans une heure", "dans 30 minutes", "dans une demi-heure", "dans 15 jours"), and "tout de
    suite"/"maintenant".

    Rules (``when_lexicon.PARTS_OF_DAY`` lists each part of day's window and the time booked for it):
    - A time without a day is today if still ahead, else tomorrow; when such a morning time rolls over to
      tomorrow although the same hour in the evening is still ahead today ("à 8 h" said at 10:30), the
      result is ambiguous.
    - Hours 1 to 7 without "du matin" (or a morning part of day) are afternoon hours: "à 3 heures" → 15:00.
      "ce soir à 8 h" → 20:00; "3 heures du matin" → 03:00.
    - A weekday alone is its next occurrence after today; said on that same weekday it means next week's
      and is ambiguous (the caller may have meant today). "X prochain" is the same day, ambiguous when
      said on day X or the day before it ("lundi prochain" on a Sunday: tomorrow or in eight days?).
    - "X de la semaine prochaine" is day X of next calendar week; "X en huit" the X after the next one.
    - A day without a time is booked at 09:00 (or now, for today), with the working day 09:00–18:00 as
      window; a part of day today starts no earlier than now (rounded up to 5 minutes).
    - Anything in the past ("hier", "ce matin" at 14:00, "aujourd'hui à 9 h" at 10:30) gives None.
    - Offsets are counted in real elapsed time (across a DST change "dans 2 heures" is 2 hours later);
      days and clock times are wall-clock times in Europe/Paris. A clock time that does not exist (spring
      forward) moves forward by an hour, one that exists twice (fall back) is the first; both are marked
      ambiguous.
    - ``day_known``: the caller already gave the day and is asked the hour, so a sentence that only
      sounds like "demain" or "après-demain" ("Je demande à 15 heures", "Après de nous à 16 heures")
      is not read as that day.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("parse_when needs an aware 'now', e.g. datetime.now(ZoneInfo('Europe/Paris'))")
    now = now.astimezone(PARIS)
    reading = read(text, now.date(), tomorrow_sound_alikes=not day_known)
    if reading.too_far:
        return None
    if reading.offset is not None and reading.offset.elapsed is not None:
        return _elapsed(reading, now)
    if reading.within_the_hour:
        at, latest = _ceil(now + timedelta(minutes=30)), now + timedelta(hours=1)
        return When(at, "hour", False, now, latest, "dans l'heure")
    if reading.day is None and not reading.clocks and reading.part is None:
        if reading.immediate:
            return When(now, "minute", False, now, None, "tout de suite")
        if reading.later_today:
            at, latest = _ceil(now + timedelta(hours=1)), now + timedelta(hours=3)
            return When(at, "part_of_day", True, _ceil(now), latest, "un peu plus tard aujourd'hui")
        return None
    if reading.day is not None and reading.day.date < now.date():
        return None
    return _Resolution(reading, now).resolve()


def _elapsed(reading: Reading, now: datetime) -> When:
    offset = reading.offset
    assert offset is not None and offset.elapsed is not None
    at = (now.astimezone(UTC) + offset.elapsed).astimezone(PARIS)
    description = f"{describe_day(at.date(), now.date())} à {clock_words(at.time())} ({offset.text})"
    return When(
        at=at,
        precision="minute",
        ambiguous=offset.vague,
        earliest=now if offset.within else None,
        latest=at if offset.within else None,
        explanation=description,
    )


def _ceil(moment: datetime) -> datetime:
    """``moment`` rounded up to the next 5 minutes (wall-clock minutes are whole in Europe/Paris)."""
    floor = moment.replace(second=0, microsecond=0)
    floor -= timedelta(minutes=floor.minute % 5)
    return floor if floor == moment else floor + _ROUNDING


def _local(day: date, minutes: int) -> datetime:
    """Wall-clock ``minutes`` after midnight of ``day`` in Paris; a time skipped by DST moves forward."""
    day += timedelta(days=minutes // _DAY_MINUTES)
    minutes %= _DAY_MINUTES
    naive = datetime.combine(day, time(minutes // 60, minutes % 60))
    return naive.replace(tzinfo=PARIS).astimezone(UTC).astimezone(PARIS)


def _minutes(moment: time) -> int:
    return moment.hour * 60 + moment.minute


def _time(minutes: int) -> time:
    minutes %= _DAY_MINUTES
    return time(minutes // 60, minutes % 60)


class _Resolution:
    """Turns one ``Reading`` into a ``When`` for one ``now``."""

    def __init__(self, reading: Reading, now: datetime) -> None:
        self.reading = reading
        self.now = now
        self.today = now.date()
        day = reading.day
        self.ambiguous = reading.ambiguous or (day is not None and day.ambiguous)
        self.notes = ([day.note] if day is not None and day.note else []) + list(reading.notes)
        # A day was said (or "ce soir"): a time already past is then in the past, not tomorrow.
        self.explicit = day is not None or reading.part_today
        self.base = day.date if day is not None else self.today

    def when(
        self,
        at: datetime,
        precision: Precision,
        earliest: datetime | None,
        latest: datetime | None,
        description: str,
    ) -> When:
        explanation = description if not self.notes else f"{description} — {' ; '.join(self.notes)}"
        return When(at, precision, self.ambiguous, earliest, latest, explanation)

    def flag(self, note: str) -> None:
        self.ambiguous = True
        self.notes.append(note)

    def resolve(self) -> When | None:
        if self.reading.clocks:
            return self.resolve_clocks()
        if self.reading.part is not None:
            return self.resolve_part(self.reading.part)
        assert self.reading.day is not None
        return self.resolve_day(self.reading.day)

    def resolve_day(self, day: DayMention) -> When:
        start = _local(self.base, _minutes(WORKING_DAY.start))
        end = _local(self.base + timedelta(days=day.span_days), _minutes(WORKING_DAY.end))
        if self.base == self.today:
            start = max(start, _ceil(self.now))
            end = max(end, start)
        if day.span_days:
            description = f"{day.label} (à partir du {short_date(self.base)})"
        else:
            description = describe_day(self.base, self.today)
        return self.when(start, "day", start, end, description)

    def resolve_part(self, part: PartOfDay) -> When | None:
        end = _local(self.base, _minutes(part.end))
        if end <= self.now:
            if self.explicit:
                return None
            self.base += timedelta(days=1)
            end = _local(self.base, _minutes(part.end))
        earliest = max(_local(self.base, _minutes(part.start)), _ceil(self.now))
        at = max(_local(self.base, _minutes(part.representative)), earliest)
        window = f"entre {clock_words(part.start)} et {clock_words(part.end)}"
        description = f"{describe_day(self.base, self.today)}, {part.label} ({window})"
        return self.when(at, "part_of_day", earliest, end, description)

    def clock_minutes(self, clock: Clock) -> int:
        """Minutes after midnight of the clock time, once am/pm is settled (see ``parse_when``)."""
        hour, part = clock.hour, self.reading.part
        if clock.named is None and clock.meridiem != "am":
            afternoon = clock.meridiem == "pm" or (part is not None and part.start >= time(12))
            if afternoon and hour < 12:
                hour += 12
            elif afternoon:
                pass
            elif part is not None and part.end <= time(12):
                if hour >= 12:
                    self.flag(f"{hour} h ne tombe pas {part.label}")
            elif hour in _PM_RULE_HOURS:
                hour += 12
        return hour * 60 + clock.minute_offset

    def resolve_clocks(self) -> When | None:
        first, *others = self.reading.clocks
        minutes = self.clock_minutes(first)
        window_end: int | None = None
        if others and (first.role == "window_start" or others[0].joined_by_or):
            second = self.clock_minutes(others[0])
            window_end = second if second > minutes else None
            if others[0].joined_by_or:
                self.ambiguous = True
        elif others:
            self.flag("plusieurs heures citées, la première est retenue")
        if first.named == "minuit" and first.minute_offset == 0 and self.base > self.today:
            self.flag("minuit : la nuit qui suit ce jour")

        at = _local(self.base, minutes)
        still_open = window_end is not None and _local(self.base, window_end) > self.now
        if not self.explicit and at <= self.now and first.role != "earliest" and not still_open:
            self.base += timedelta(days=1)
            at = _local(self.base, minutes)
            self.flag_evening_alternative(first, minutes)
        self.flag_daylight_saving(at, minutes)

        if window_end is not None:
            return self.window(at, minutes, window_end)
        if first.role == "earliest":
            return self.from_time(at, minutes)
        if first.role == "latest":
            return self.before_time(at, minutes)
        if at <= self.now:
            return None
        day = describe_day(self.base, self.today)
        if first.approximate:
            earliest, latest = max(at - _APPROXIMATION, self.now), at + _APPROXIMATION
            return self.when(at, "hour", earliest, latest, f"{day} vers {clock_words(_time(minutes))}")
        if minutes >= _DAY_MINUTES:
            night = f"dans la nuit du {short_date(self.base)} au {short_date(at.date())}"
            description = f"{night}, à {clock_words(_time(minutes))}"
        else:
            description = f"{day} à {clock_words(_time(minutes))}"
        return self.when(at, "minute", None, None, description)

    def flag_evening_alternative(self, clock: Clock, minutes: int) -> None:
        """A morning time moved to tomorrow may have meant this evening ("à 8 h" said at 10:30)."""
        if clock.meridiem or clock.named or clock.role or self.reading.part is not None:
            return
        if not 60 <= minutes < 12 * 60:  # "0 h 30" is past midnight, never half past noon
            return
        evening = _local(self.today, minutes + 12 * 60)
        if evening > self.now and minutes // 60 + 12 <= _LATEST_PLAUSIBLE_EVENING_HOUR:
            self.flag(f"ou bien aujourd'hui à {clock_words(evening.time())} ?")

    def flag_daylight_saving(self, at: datetime, minutes: int) -> None:
        """Say so when the clock time does not exist (spring) or exists twice (autumn) that day."""
        said = _time(minutes)
        if at.time() != said:
            self.flag(f"{clock_words(said)} n'existe pas ce jour-là (heure d'été) : {clock_words(at.time())}")
        elif at.replace(fold=1).utcoffset() != at.utcoffset():
            self.flag(f"{clock_words(said)} existe deux fois ce jour-là (heure d'hiver) : la première")

    def window(self, at: datetime, minutes: int, window_end: int) -> When | None:
        latest = _local(self.base, window_end)
        if latest <= self.now:
            return None
        earliest = at if at >= self.now else _ceil(self.now)
        window = f"entre {clock_words(_time(minutes))} et {clock_words(_time(window_end))}"
        description = f"{describe_day(self.base, self.today)}, {window}"
        return self.when(earliest, "part_of_day", earliest, latest, description)

    def from_time(self, at: datetime, minutes: int) -> When | None:
        """ "après 18 h": from that time to the end of the part of day when one was said."""
        part = self.reading.part
        latest = _local(self.base, _minutes(part.end)) if part is not None else None
        if latest is not None and latest <= at:
            latest = None
        if at <= self.now:
            if latest is not None and latest <= self.now:
                return None
            at = _ceil(self.now)  # "après 9 h" said at 10:30: already true
        description = f"{describe_day(self.base, self.today)}, à partir de {clock_words(_time(minutes))}"
        return self.when(at, "part_of_day", at, latest, description)

    def before_time(self, at: datetime, minutes: int) -> When | None:
        """ "avant 16 h": from the start of the part of day (or of the working day) to that time."""
        part = self.reading.part
        start = _minutes(part.start) if part is not None else _minutes(WORKING_DAY.start)
        if start >= minutes:
            start = max(minutes - 60, 0)
        if at <= self.now:
            if self.explicit:
                return None
            self.base += timedelta(days=1)
            at = _local(self.base, minutes)
        earliest = max(_local(self.base, start), _ceil(self.now))
        description = f"{describe_day(self.base, self.today)}, avant {clock_words(_time(minutes))}"
        return self.when(earliest, "part_of_day", earliest, at, description)
