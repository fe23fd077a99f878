"""Opening hours of a human queue: a weekly timetable on the local wall clock, public holidays, and dated
exceptions (open on a holiday, closed for a staff day, short hours on Christmas Eve).

Hours are wall-clock times in the queue's time zone (Europe/Paris), so "09:00" stays 9 h across the
daylight-saving change; every datetime handed out is timezone-aware.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
_SEARCH_DAYS = 400  # how far next_opening looks: a queue closed for more than a year is "never"

WEEKDAY_NAMES: dict[str, int] = {
    "lundi": 0,
    "mardi": 1,
    "mercredi": 2,
    "jeudi": 3,
    "vendredi": 4,
    "samedi": 5,
    "dimanche": 6,
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
}

_CLOCK = r"(\d{1,2})(?:[:h](\d{2})?)?"
_RANGE = re.compile(rf"^\s*{_CLOCK}\s*-\s*{_CLOCK}\s*$", re.IGNORECASE)


class HolidayCalendar(Protocol):
    """What `holidays.HolidayBase` offers and opening hours need: the name of a date's holiday, if any."""

    def get(self, key: date, default: str | None = None) -> str | None: ...


@dataclass(frozen=True, slots=True, order=True)
class TimeRange:
    """An opening period of one day, in minutes after local midnight; `end` may be 1440 ("24:00")."""

    start: int
    end: int

    def __str__(self) -> str:
        return f"{self.start // 60:02d}:{self.start % 60:02d}-{self.end // 60:02d}:{self.end % 60:02d}"


def parse_time_range(text: str) -> TimeRange:
    """'09:00-12:30', '9h-12h30', '14:00-24:00' → TimeRange; ValueError (message — fix) otherwise."""
    match = _RANGE.match(text)
    if match is None:
        raise ValueError(f"'{text}' is not a time range — write it like \"09:00-12:30\"")
    h1, m1, h2, m2 = (int(g) if g else 0 for g in match.groups())
    if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2):
        raise ValueError(f"'{text}' has an impossible time — hours go from 00:00 to 24:00")
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if end <= start:
        raise ValueError(
            f"'{text}' ends before it starts — write two ranges for a night shift: \"20:00-24:00\", "
            'then "00:00-02:00" on the next day'
        )
    return TimeRange(start, end)


def parse_day_ranges(ranges: Sequence[str]) -> tuple[TimeRange, ...]:
    """Sorted ranges of one day; overlapping ranges are refused (a copy-paste slip, most often)."""
    parsed = sorted(parse_time_range(text) for text in ranges)
    for before, after in itertools.pairwise(parsed):
        if after.start < before.end:
            raise ValueError(f"'{before}' and '{after}' overlap — merge them into one range")
    return tuple(parsed)


def local(moment: datetime, tz: ZoneInfo) -> datetime:
    """`moment` in `tz`; a naive datetime is read as local time in `tz` (how the dialog writes times)."""
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment.astimezone(tz)


@dataclass(frozen=True)
class OpeningHours:
    """When a queue takes calls. `weekly[0]` is Monday; exceptions win over holidays and the week."""

    weekly: tuple[tuple[TimeRange, ...], ...]
    tz: ZoneInfo = PARIS
    holidays: HolidayCalendar | None = None
    exceptions: Mapping[date, tuple[TimeRange, ...]] = field(default_factory=dict)

    def ranges_on(self, day: date) -> tuple[TimeRange, ...]:
        if day in self.exceptions:
            return self.exceptions[day]
        if self.holiday_name(day) is not None:
            return ()
        return self.weekly[day.weekday()]

    def holiday_name(self, day: date) -> str | None:
        return self.holidays.get(day) if self.holidays is not None else None

    def intervals_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's opening periods as aware datetimes (end exclusive)."""
        midnight = datetime.combine(day, time(0), tzinfo=self.tz)
        result = []
        for span in self.ranges_on(day):
            result.append(
                (_wall_clock(midnight, span.start, self.tz), _wall_clock(midnight, span.end, self.tz))
            )
        return result

    def intervals(self, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Opening periods overlapping [start, end), clipped to it, in time order."""
        start, end = local(start, self.tz), local(end, self.tz)
        day = start.date() - timedelta(days=1)
        while day <= end.date():
            for opens, closes in self.intervals_on(day):
                if closes > start and opens < end:
                    yield max(opens, start), min(closes, end)
            day += timedelta(days=1)

    def is_open_at(self, moment: datetime) -> bool:
        moment = local(moment, self.tz)
        for day in (moment.date() - timedelta(days=1), moment.date()):
            if any(opens <= moment < closes for opens, closes in self.intervals_on(day)):
                return True
        return False

    def closed_reason(self, moment: datetime) -> str | None:
        """None when open at `moment`, else why not: 'holiday (Noël)', 'exception 2026-12-24', …."""
        if self.is_open_at(moment):
            return None
        day = local(moment, self.tz).date()
        if day in self.exceptions:
            spans = ", ".join(str(span) for span in self.exceptions[day])
            if not spans:
                return f"closed all day ({day.isoformat()} is an exception)"
            return f"outside the special hours of {day.isoformat()} ({spans})"
        name = self.holiday_name(day)
        if name is not None:
            return f"public holiday ({name})"
        return "outside opening hours"

    def next_openings(self, after: datetime, n: int = 1) -> list[datetime]:
        """Start times of the next `n` opening periods strictly after `after` (fewer if none in a year).

        Back-to-back ranges ("09:00-12:00", "12:00-14:00") count as one period: the queue does not open
        at noon, it stays open.
        """
        after = local(after, self.tz)
        found: list[datetime] = []
        previous_close: datetime | None = None
        day = after.date() - timedelta(days=1)
        for _ in range(_SEARCH_DAYS + 2):
            for opens, closes in self.intervals_on(day):
                continuous = previous_close is not None and opens <= previous_close
                previous_close = closes
                if opens > after and not continuous:
                    found.append(opens)
                    if len(found) >= n:
                        return found
            day += timedelta(days=1)
        return found

    def next_opening(self, after: datetime) -> datetime | None:
        found = self.next_openings(after, 1)
        return found[0] if found else None

    def open_or_next(self, moment: datetime) -> datetime | None:
        """`moment` itself when open then, else the next opening (None: not within a year)."""
        return local(moment, self.tz) if self.is_open_at(moment) else self.next_opening(moment)


def _wall_clock(midnight: datetime, minutes: int, tz: ZoneInfo) -> datetime:
    """Local midnight + `minutes` on the wall clock (so 09:00 is 09:00 on a daylight-saving day too)."""
    if minutes >= 24 * 60:
        return datetime.combine(midnight.date() + timedelta(days=1), time(0), tzinfo=tz)
    return datetime.combine(midnight.date(), time(minutes // 60, minutes % 60), tzinfo=tz)
