"""What a caller said about a date and time, before it is resolved against the clock.

``read`` walks the normalised utterance in a fixed order (offsets, clock times, parts of the day, days),
blanking the words each step understood so that the next one cannot read them again: "dans une heure"
is an offset, not one o'clock; the "midi" of "après-midi" is not noon.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

from callbot.dialog.nlu.lexicon import canonical_words
from callbot.dialog.nlu.normalize import normalize
from callbot.dialog.nlu.when_lexicon import (
    APPROXIMATE_AFTER,
    APPROXIMATE_BEFORE,
    DAY_SOUND_ALIKES,
    DURATION_BEFORE,
    EARLIEST_BEFORE,
    IMMEDIATE_RE,
    LATER_TODAY_RE,
    LATEST_BEFORE,
    LUNCH,
    MERIDIEM_AFTER,
    MONTH_VARIANTS,
    MONTHS,
    NOT_NOW_RE,
    PARTS_OF_DAY,
    PAST_CALL_TIME_RE,
    PAST_PART_HOURS,
    RELATIVE_RE,
    REQUEST_CUE_RE,
    TIME_RE,
    WEEKDAYS,
    WINDOW_START_BEFORE,
    WITHIN_THE_HOUR_RE,
    PartOfDay,
    short_date,
    weekday_spelling,
)

# A date said without a year that passed less than this many days ago is the past, not next year's.
_RECENT_PAST_DAYS = 60
# Offsets beyond this are not call-back times ("dans 100000 jours"): they are ignored.
_FURTHEST_DAYS = 731
_DAYS_PER_UNIT = {"mi": 1 / 1440, "mn": 1 / 1440, "h": 1 / 24, "j": 1.0, "s": 7.0, "mo": 31.0}


class _Masked:
    """The utterance, with the words already interpreted blanked out (offsets kept)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def finditer(self, pattern: re.Pattern[str]) -> Iterator[re.Match[str]]:
        # Materialised first: consuming a match must not disturb the search over the current text.
        yield from list(pattern.finditer(self.text))

    def consume(self, start: int, end: int) -> None:
        self.text = self.text[:start] + " " * (end - start) + self.text[end:]

    def before(self, position: int) -> str:
        return " ".join(self.text[:position].split())

    def after(self, position: int) -> str:
        collapsed = " ".join(self.text[position:].split())
        return f" {collapsed}" if collapsed else ""


@dataclass(slots=True)
class Clock:
    """A clock time as said, before am/pm is settled."""

    hour: int
    minute_offset: int  # added to the hour: "et quart" +15, "moins le quart" -15, "30" +30
    named: str | None = None  # "midi" / "minuit"
    meridiem: str | None = None  # "am" / "pm" when said ("du matin", "du soir")
    approximate: bool = False  # "vers 14 h"
    role: str | None = None  # "earliest" (après 18 h), "latest" (avant midi), "window_start" (entre 14 h…)
    joined_by_or: bool = False  # "14 h ou 15 h"


@dataclass(slots=True)
class DayMention:
    """A day the caller named, already placed on the calendar."""

    date: date
    label: str
    explicit_today: bool = False
    ambiguous: bool = False
    note: str = ""
    span_days: int = 0  # a span rather than a day: "la semaine prochaine" = 6 more days from Monday


@dataclass(frozen=True, slots=True)
class Offset:
    """ "dans 2 heures" (elapsed time) or "dans 3 jours" / "dans un mois" (calendar)."""

    text: str
    elapsed: timedelta | None = None
    days: int = 0
    months: int = 0
    vague: bool = False  # "dans quelques minutes"
    within: bool = False  # "d'ici 20 minutes": at the latest
    too_far: bool = False  # beyond two years: not a call-back time


@dataclass(slots=True)
class Reading:
    """Everything found in one utterance."""

    offset: Offset | None = None
    within_the_hour: bool = False
    immediate: bool = False
    later_today: bool = False
    clocks: list[Clock] = field(default_factory=list)
    part: PartOfDay | None = None
    part_today: bool = False  # "ce soir", "cet après-midi", "ce midi"
    day: DayMention | None = None
    notes: list[str] = field(default_factory=list)
    ambiguous: bool = False
    too_far: bool = False


def read(text: str, today: date, tomorrow_sound_alikes: bool = True) -> Reading:
    """Read the date and time expressions of ``text``; days are placed on the calendar from ``today``.
    Not `tomorrow_sound_alikes`: what only sounds like "demain" or "après-demain" ("je demande à 15 h",
    "après de nous") stays as said."""
    said = _words_read(text)
    for sound_alike, weekday in DAY_SOUND_ALIKES:
        if tomorrow_sound_alikes or not weekday.endswith("demain"):  # "demain", "apres demain"
            said = sound_alike.sub(weekday, said)
    masked = _Masked(said)
    for phrase, spans in _past_call_times(text):
        start = masked.text.find(phrase)
        for begin, end in spans if start >= 0 else ():  # when an earlier call came: no call-back time
            masked.consume(start + begin, start + end)
    reading = Reading()
    _read_offset(masked, today, reading)
    if reading.offset is not None and reading.offset.elapsed is not None:
        return reading
    _read_clocks(masked, reading)
    _read_part_of_day(masked, reading)
    _read_day(masked, today, reading)
    reading.immediate = bool(IMMEDIATE_RE.search(masked.text)) and not NOT_NOW_RE.search(masked.text)
    reading.later_today = bool(LATER_TODAY_RE.search(masked.text))
    return reading


def _words_read(text: str) -> str:
    """`text` as `read` walks it: normalised, spoken variants and month and weekday spellings mended."""
    words = canonical_words(normalize(text).split())
    return " ".join(weekday_spelling(MONTH_VARIANTS.get(word, word)) for word in words)


def _past_call_times(text: str) -> list[tuple[str, list[tuple[int, int]]]]:
    """Each earlier call `text` tells of with when it came ("vous m'avez appelé hier, vers 16 h"): the
    normalised words from the call to its time, and where in them the time's words are. A clause that
    asks for a time of its own is read apart ("j'ai raté votre appel, lundi à 14 h ça m'irait"), and a
    clock that fits no hour of the part of the day said ("… appelé ce matin à 16 h c'est possible") is
    the request's."""
    clauses: list[str] = []
    for piece in re.split(r"[,.;:!?]+", text):
        words = _words_read(piece)
        if clauses and words and not REQUEST_CUE_RE.search(words):
            clauses[-1] = f"{clauses[-1]} {words}"
        elif words:
            clauses.append(words)
    found = []
    for words in clauses:
        for match in PAST_CALL_TIME_RE.finditer(words):
            day = match.group("day") or ""
            part = next((part for part in PAST_PART_HOURS if day.endswith(part)), None)
            spans = [match.span("day")] if day else []
            for n in (1, 2):
                hour = match.group(f"hour{n}")
                hours = PAST_PART_HOURS.get(part or "", range(24))
                if hour is not None and (int(hour) in hours or int(hour) + 12 in hours):
                    spans.append(match.span(f"clock{n}"))
            if spans:
                end = max(stop for _, stop in spans)
                found.append(
                    (words[match.start() : end], [(a - match.start(), b - match.start()) for a, b in spans])
                )
    return found


# ---------------------------------------------------------------------------------------------- offsets


def _offset(text: str, kind: str, amount: str, unit: str, extra: str | None) -> Offset:
    """What "dans <amount> <unit> <extra>" adds to now."""
    vague, within = amount == "quelques", kind == "d ici"
    if amount in {"un quart d", "1 quart d"}:
        return Offset(text, elapsed=timedelta(minutes=15), within=within)
    if amount in {"une demi", "1 demi"}:
        value = 0.5
    elif amount in {"un", "une"}:
        value = 1.0
    elif vague:
        value = {"m": 10.0, "h": 2.0, "j": 3.0}.get(unit[0], 2.0)
    else:
        value = float(amount)
    unit_days = next(days for prefix, days in _DAYS_PER_UNIT.items() if unit.startswith(prefix))
    if value * unit_days > _FURTHEST_DAYS:
        return Offset(text, too_far=True)
    if unit.startswith(("min", "mn")):
        return Offset(text, elapsed=timedelta(minutes=value), vague=vague, within=within)
    if unit.startswith("h"):
        minutes = value * 60
        if extra:
            minutes += (
                30 if extra.startswith("et demi") else 15 if extra == "et quart" else int(extra.split()[0])
            )
        return Offset(text, elapsed=timedelta(minutes=minutes), vague=vague, within=within)
    if unit.startswith("j"):
        # "dans huit jours" is a week, "dans quinze jours" two weeks.
        return Offset(text, days={8: 7, 15: 14}.get(int(value), int(value)), vague=vague)
    if unit.startswith("s"):
        return Offset(text, days=int(value * 7), vague=vague)
    return Offset(text, months=int(value), vague=vague)


def _read_offset(masked: _Masked, today: date, reading: Reading) -> None:
    """An offset from now. "il y a une heure" tells the past, not when to call: it is skipped."""
    for match in masked.finditer(RELATIVE_RE):
        masked.consume(match.start(), match.end())
        if match["kind"] == "il y a":
            continue
        offset = _offset(match.group(0), match["kind"], match["amount"], match["unit"], match["extra"])
        if offset.too_far:
            reading.too_far = True
            continue
        reading.offset = offset
        if offset.elapsed is not None:
            return
        reading.ambiguous |= offset.vague
        if offset.months:
            target = add_months(today, offset.months)
            reading.day = DayMention(target, match.group(0), ambiguous=True, note="date approximative")
        else:
            reading.day = DayMention(today + timedelta(days=offset.days), match.group(0))
    reading.within_the_hour = bool(WITHIN_THE_HOUR_RE.search(masked.text))


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, clamped to the month's length (31 January + 1 → 28/29 February)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# ----------------------------------------------------------------------------------------------- clocks

_LUNCH_MIDI_BEFORE = re.compile(
    r"\b(?:ce|demain|aujourd hui|" + "|".join(WEEKDAYS) + r"|prochain|prochaine)$"
)
_ROLE_OF_PREPOSITION = {"apres": "earliest", "des": "earliest", "avant": "latest", "jusqu a": "latest"}


def _minutes_from_fraction(fraction: str | None, minus_minutes: str | None) -> int:
    if not fraction:
        return 0
    if fraction == "et quart":
        return 15
    if fraction.startswith("et demi"):
        return 30
    if fraction in {"moins le quart", "moins quart"}:
        return -15
    return -int(minus_minutes or 0)


def _clock_from_match(match: re.Match[str]) -> Clock | None:
    if match["named"]:
        minutes = int(match["nm"] or 0) + _minutes_from_fraction(match["nfrac"], match["nmm"])
        return Clock(12 if match["named"] == "midi" else 24, minutes, named=match["named"])
    if match["bare"]:
        hour = int(match["bare"])
        if hour > 23:
            return None
        clock = Clock(hour, int(match["bm"] or 0))
        preposition = match["prep"]
        clock.approximate = preposition in {"vers", "environ"}
        clock.role = _ROLE_OF_PREPOSITION.get(preposition)
        if preposition in {"entre", "de"}:
            clock.role = "window_start"
        clock.joined_by_or = preposition == "ou"
        return clock
    hour = 1 if match["h"] == "une" else int(match["h"])
    if hour > 24 or int(match["m"] or 0) > 59:
        return None
    return Clock(hour, int(match["m"] or 0) + _minutes_from_fraction(match["frac"], match["mm"]))


def _read_clocks(masked: _Masked, reading: Reading) -> None:
    previous_end = -1
    for match in masked.finditer(TIME_RE):
        start = match.start("bare") if match["bare"] else match.start()
        before = masked.before(start)
        if DURATION_BEFORE.search(masked.before(match.start())):
            masked.consume(match.start(), match.end())  # "j'ai attendu 2 heures"
            continue
        if match["named"] == "midi" and _LUNCH_MIDI_BEFORE.search(before):
            # "ce midi", "demain midi": lunchtime rather than the stroke of noon.
            reading.part, reading.part_today = LUNCH, before.endswith("ce")
            masked.consume(match.start(), match.end())
            continue
        clock = _clock_from_match(match)
        if clock is None:
            continue
        end = match.end()
        meridiem = MERIDIEM_AFTER.match(masked.after(end))
        if meridiem:
            clock.meridiem = "am" if meridiem["word"] in {"du matin", "de la matinee"} else "pm"
            end = _advance(masked.text, end, meridiem.group(0))
        if APPROXIMATE_BEFORE.search(before) or APPROXIMATE_AFTER.match(masked.after(end)):
            clock.approximate = True
        if clock.role is None and not clock.joined_by_or:
            if EARLIEST_BEFORE.search(before):
                clock.role = "earliest"
            elif LATEST_BEFORE.search(before):
                clock.role = "latest"
            elif WINDOW_START_BEFORE.search(before):
                clock.role = "window_start"
            clock.joined_by_or = before == "ou" or before.endswith(" ou")
        # "14 h à 16 h", "14h-16h" (the dash became a space): a window without "entre"/"de".
        between = masked.text[previous_end:start].split() if previous_end >= 0 else None
        if between in (["a"], [], ["jusqu", "a"]) and reading.clocks and reading.clocks[-1].role is None:
            reading.clocks[-1].role = "window_start"
        masked.consume(match.start(), end)
        reading.clocks.append(clock)
        previous_end = end


def _advance(text: str, position: int, collapsed_words: str) -> int:
    """The offset in ``text`` just after ``collapsed_words`` (single-spaced) read from ``position``."""
    for word in collapsed_words.split():
        position = text.index(word, position) + len(word)
    return position


# ----------------------------------------------------------------------------------------- parts of day

_PART_PATTERNS = tuple((re.compile(rf"\b(?:{pattern})\b"), part) for pattern, part in PARTS_OF_DAY)


def _read_part_of_day(masked: _Masked, reading: Reading) -> None:
    """The first part of day said; saying two ("ce soir ou demain matin") makes the answer ambiguous."""
    found: list[tuple[int, PartOfDay, bool]] = []
    for pattern, part in _PART_PATTERNS:  # most specific first, each consuming its words
        for match in masked.finditer(pattern):
            found.append((match.start(), part, match.group(0).startswith(("ce ", "cet ", "cette "))))
            masked.consume(match.start(), match.end())
    if not found:
        return
    found.sort(key=lambda item: item[0])
    if reading.part is None:
        _, reading.part, reading.part_today = found[0]
    if len({part for _, part, _ in found}) > 1 or (reading.part is LUNCH and found[0][1] is not LUNCH):
        reading.ambiguous = True
        reading.notes.append("plusieurs moments de la journée cités, le premier est retenu")


# ------------------------------------------------------------------------------------------------- days

_WEEKDAY_RE = re.compile(
    r"\b(?P<this>ce |cette )?(?P<weekday>" + "|".join(WEEKDAYS) + r")"
    r"(?: (?P<number>\d{1,2}|1er|premier)(?! \d)"
    r"(?: (?P<month>" + "|".join(MONTHS) + r"))?(?: (?P<year>20\d\d))?)?"
    r"(?: (?P<modifier>prochaine?|qui vient|qui arrive|d apres|de la semaine prochaine|de la semaine d apres"
    r"|en 8|en huit|en 15|en quinze|dernier|derniere|passe|de cette semaine))?\b"
)
_DATE_RE = re.compile(
    r"\b(?:le |du |au |pour le |ce )?(?P<number>\d{1,2}|1er|premier) (?P<month>" + "|".join(MONTHS) + r")"
    r"(?: (?P<year>20\d\d))?\b"
    r"|\ble (?P<alone>\d{1,2}|1er|premier)\b(?! \d)"
)
_RELATIVE_DAYS: tuple[tuple[re.Pattern[str], int, str], ...] = tuple(
    (re.compile(rf"\b(?:{pattern})\b"), days, label)
    for pattern, days, label in (
        (r"avant hier", -2, "avant-hier"),
        (r"apres apres demain", 3, "après-après-demain"),
        (r"apres demain", 2, "après-demain"),
        (r"demain", 1, "demain"),
        (r"hier", -1, "hier"),
        (r"aujourd hui en (?:8|huit)", 7, "dans une semaine"),
        (r"aujourd hui|ce jour", 0, "aujourd'hui"),
    )
)
_NEGATED = re.compile(r"\b(?:pas|sauf)$")


def _read_day(masked: _Masked, today: date, reading: Reading) -> None:
    found: list[DayMention] = [reading.day] if reading.day is not None else []
    for pattern, days, label in _RELATIVE_DAYS:
        for match in masked.finditer(pattern):
            if not _NEGATED.search(masked.before(match.start())):  # "pas demain, après-demain"
                found.append(DayMention(today + timedelta(days=days), label, explicit_today=days == 0))
            masked.consume(match.start(), match.end())
    for match in masked.finditer(_WEEKDAY_RE):
        if not _NEGATED.search(masked.before(match.start())):
            found.append(_weekday(match, today))
        masked.consume(match.start(), match.end())
    for match in masked.finditer(_DATE_RE):
        mention = _calendar_date(match, today)
        masked.consume(match.start(), match.end())
        if mention is not None:
            found.append(mention)
    found.extend(_read_week_words(masked, today))
    if not found:
        return
    # "j'ai appelé hier, rappelez-moi demain": the past day is context, the future one the answer.
    future = [day for day in found if day.date >= today] or found
    reading.day = future[0]
    if len({day.date for day in future}) > 1:
        reading.ambiguous = True
        reading.notes.append("plusieurs jours cités, le premier est retenu")


def _day_number(value: str) -> int:
    return 1 if value in {"1er", "premier"} else int(value)


def _weekday(match: re.Match[str], today: date) -> DayMention:
    weekday = WEEKDAYS.index(match["weekday"])
    name = match["weekday"]
    said = match["modifier"] or ""
    modifier = {"prochaine": "prochain", "qui vient": "", "qui arrive": ""}.get(said, said)
    ahead = (weekday - today.weekday()) % 7
    next_monday = today + timedelta(days=7 - today.weekday())
    if match["number"]:
        return _weekday_with_number(match, today, weekday)
    if modifier in {"dernier", "derniere", "passe"}:
        return DayMention(today - timedelta(days=(today.weekday() - weekday) % 7 or 7), f"{name} dernier")
    if modifier == "de la semaine prochaine":
        return DayMention(next_monday + timedelta(days=weekday), f"{name} de la semaine prochaine")
    if modifier == "de la semaine d apres":
        return DayMention(next_monday + timedelta(days=7 + weekday), f"{name} de la semaine d'après")
    if modifier == "de cette semaine":
        return DayMention(today + timedelta(days=weekday - today.weekday()), f"{name} de cette semaine")
    first = today + timedelta(days=ahead or 7)
    if modifier in {"en 8", "en huit", "d apres"}:
        return DayMention(first + timedelta(days=7), f"{name} en huit", ambiguous=modifier == "d apres")
    if modifier in {"en 15", "en quinze"}:
        return DayMention(first + timedelta(days=14), f"{name} en quinze")
    if match["this"] and ahead == 0:
        return DayMention(today, f"ce {name}", explicit_today=True)
    if modifier == "prochain":
        if ahead in {0, 1}:
            note = (
                f"« {name} prochain » dit un {WEEKDAYS[today.weekday()]} : compris comme le "
                f"{short_date(first)}, ou bien le {short_date(first + timedelta(days=7))} ?"
            )
            return DayMention(first, f"{name} prochain", ambiguous=True, note=note)
        return DayMention(first, f"{name} prochain")
    if ahead == 0:
        note = f"« {name} » dit un {name} : compris comme le {short_date(first)}, pas aujourd'hui"
        return DayMention(first, name, ambiguous=True, note=note)
    return DayMention(first, name)


def _weekday_with_number(match: re.Match[str], today: date, weekday: int) -> DayMention:
    number = _day_number(match["number"])
    resolved = _calendar_day(number, match["month"], match["year"], today)
    if resolved is None:
        return DayMention(today - timedelta(days=1), "date impossible")  # resolves to None: in the past
    if resolved.weekday() != weekday:
        note = f"le {number} n'est pas un {match['weekday']} : le {short_date(resolved)} est retenu"
        return DayMention(resolved, match.group(0), ambiguous=True, note=note)
    return DayMention(resolved, match.group(0))


def _calendar_date(match: re.Match[str], today: date) -> DayMention | None:
    number = _day_number(match["number"] or match["alone"])
    resolved = _calendar_day(number, match["month"], match["year"], today)
    return None if resolved is None else DayMention(resolved, match.group(0).strip())


def _calendar_day(number: int, month_name: str | None, year_text: str | None, today: date) -> date | None:
    """The date with that day number: in the month and year when said, else the next one from today.

    A date with its month but no year that passed in the last two months is returned as it is (in the
    past: "le 22 novembre" said on the 23rd is not next year's); an impossible date gives None.
    """
    if not 1 <= number <= 31:
        return None
    if month_name:
        month = MONTHS.index(month_name) + 1
        years = [int(year_text)] if year_text else [today.year, today.year + 1]
        for year in years:
            if number > calendar.monthrange(year, month)[1]:
                continue
            candidate = date(year, month, number)
            if year_text or candidate >= today or (today - candidate).days <= _RECENT_PAST_DAYS:
                return candidate
        return None
    for months_ahead in range(13):
        first = add_months(today.replace(day=1), months_ahead)
        if number <= calendar.monthrange(first.year, first.month)[1] and first.replace(day=number) >= today:
            return first.replace(day=number)
    return None


def _read_week_words(masked: _Masked, today: date) -> list[DayMention]:
    monday = today - timedelta(days=today.weekday())
    next_monday = monday + timedelta(days=7)
    # Friday (or Saturday, said on a Saturday) of this week; said on a Sunday, next week's Friday.
    end_of_week = {5: today, 6: next_monday + timedelta(days=4)}.get(today.weekday(), monday + timedelta(4))
    weekend = max(today, monday + timedelta(days=5))
    next_month = add_months(today.replace(day=1), 1)
    # (words, first day, label, ambiguous, how many more days the span covers)
    next_month_days = calendar.monthrange(next_month.year, next_month.month)[1]
    friday_next_week = next_monday + timedelta(days=4)
    rules: tuple[tuple[str, date, str, bool, int], ...] = (
        (
            r"(?:en |au )?debut de (?:la )?semaine prochaine",
            next_monday,
            "en début de semaine prochaine",
            True,
            1,
        ),
        (
            r"(?:en |a la )?fin de (?:la )?semaine prochaine",
            friday_next_week,
            "en fin de semaine prochaine",
            True,
            1,
        ),
        (r"(?:la )?semaine (?:prochaine|d apres|qui vient)", next_monday, "la semaine prochaine", True, 6),
        (r"(?:ce |le )?week end prochain", friday_next_week + timedelta(1), "le week-end prochain", True, 1),
        (
            r"(?:en |a la )?fin de (?:la |cette )?semaine",
            end_of_week,
            "en fin de semaine",
            True,
            5 - end_of_week.weekday(),
        ),
        (r"(?:ce |le )week end|ce weekend", weekend, "ce week-end", False, 6 - weekend.weekday()),
        (r"cette semaine|dans la semaine", today, "cette semaine", True, 6 - today.weekday()),
        (r"(?:le )?mois prochain", next_month, "le mois prochain", True, next_month_days - 1),
    )
    found: list[DayMention] = []
    for pattern, first, label, ambiguous, span in rules:
        match = re.search(rf"\b(?:{pattern})\b", masked.text)
        if match is not None:
            masked.consume(match.start(), match.end())
            found.append(DayMention(first, label, ambiguous=ambiguous, span_days=span))
    return found
