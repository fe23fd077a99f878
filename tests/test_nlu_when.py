"""Spoken French call-back times resolved against fixed reference clocks (Europe/Paris).

References: Monday 23 November 2026 10:30 (the main one), Sunday 22 November 19:00 and Friday 20 November
18:45 (evenings, and the "lundi prochain" ambiguity), and the two 2026 daylight-saving changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from callbot.dialog.nlu import When, parse_when

PARIS = ZoneInfo("Europe/Paris")
MONDAY = datetime(2026, 11, 23, 10, 30, tzinfo=PARIS)
SUNDAY_EVENING = datetime(2026, 11, 22, 19, 0, tzinfo=PARIS)
FRIDAY_EVENING = datetime(2026, 11, 20, 18, 45, tzinfo=PARIS)


def paris(text: str) -> datetime:
    """ "2026-11-24 14:00" in Paris."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=PARIS)


@dataclass(frozen=True)
class Case:
    said: str
    at: datetime
    precision: str
    ambiguous: bool
    earliest: datetime | None
    latest: datetime | None


def C(said: str, at: str, precision: str, window: str = "") -> Case:
    """One row: ``at`` as "MM-DD HH:MM" (2026, or "YYYY-MM-DD HH:MM"); a trailing "?" on the precision
    means ambiguous; ``window`` is "earliest..latest", each side "HH:MM" (same day as ``at``), a full
    date-time, or empty for no bound."""

    def moment(text: str) -> datetime:
        text = text if text.count("-") == 2 else f"2026-{text}"
        return paris(text)

    at_moment = moment(at)

    def bound(text: str) -> datetime | None:
        if not text:
            return None
        return moment(f"{at_moment:%Y-%m-%d} {text}") if len(text) == 5 else moment(text)

    earliest, _, latest = window.partition("..")
    return Case(
        said, at_moment, precision.rstrip("?"), precision.endswith("?"), bound(earliest), bound(latest)
    )


def check(result: When | None, case: Case) -> None:
    assert result is not None, f"{case.said!r} gave None"
    got = (result.at, result.precision, result.ambiguous, result.earliest, result.latest)
    want = (case.at, case.precision, case.ambiguous, case.earliest, case.latest)
    assert got == want, f"{case.said!r}: {result.explanation}"
    assert result.at.utcoffset() == case.at.utcoffset()


MONDAY_CASES = [
    # Days and clock times, spoken or written.
    C("demain à quatorze heures", "11-24 14:00", "minute"),
    C("demain à 14 heures", "11-24 14:00", "minute"),
    C("Demain à 14h.", "11-24 14:00", "minute"),
    C("DEMAIN A QUATORZE HEURE", "11-24 14:00", "minute"),
    C("demain à quinze heures", "11-24 15:00", "minute"),
    C("14 h 30 demain", "11-24 14:30", "minute"),
    C("après-demain à neuf heures et demie", "11-25 09:30", "minute"),
    C("dans 2 jours à 14 h", "11-25 14:00", "minute"),
    C("le 3 décembre à 10h", "12-03 10:00", "minute"),
    C("mercredi 2 décembre à 15 h", "12-02 15:00", "minute"),
    C("jeudi 10h", "11-26 10:00", "minute"),
    C("quatorze heures trente", "11-23 14:30", "minute"),
    C("à 16h30", "11-23 16:30", "minute"),
    C("à 16:30", "11-23 16:30", "minute"),
    C("midi", "11-23 12:00", "minute"),
    C("demain à midi et demi", "11-24 12:30", "minute"),
    C("minuit", "11-24 00:00", "minute"),
    # Quarters and halves.
    C("à neuf heures et quart", "11-24 09:15", "minute"),
    C("à dix heures moins le quart", "11-24 09:45", "minute"),
    C("à 10 h moins 10", "11-24 09:50", "minute"),
    C("à une heure et demie", "11-23 13:30", "minute"),
    # Afternoon rule: 1 to 7 o'clock without "du matin" is pm.
    C("à 3 heures", "11-23 15:00", "minute"),
    C("vers 3", "11-23 15:00", "hour", "14:30..15:30"),
    C("demain à 3 heures du matin", "11-24 03:00", "minute"),
    C("ce soir à 8 heures", "11-23 20:00", "minute"),
    C("à 7 heures du soir", "11-23 19:00", "minute"),
    # A past time without a day is tomorrow; a morning hour could also have meant tonight.
    C("à 8 heures", "11-24 08:00", "minute?"),
    C("rappelez-moi à 10", "11-24 10:00", "minute"),
    # Approximations, bounds and windows.
    C("demain vers 14h", "11-24 14:00", "hour", "13:30..14:30"),
    C("après-demain vers midi", "11-25 12:00", "hour", "11:30..12:30"),
    C("demain aux alentours de 16 h", "11-24 16:00", "hour", "15:30..16:30"),
    C("ce soir après dix-huit heures", "11-23 18:00", "part_of_day", "18:00..21:00"),
    C("après 17 h", "11-23 17:00", "part_of_day", "17:00.."),
    C("avant midi", "11-23 10:30", "part_of_day", "10:30..12:00"),
    C("demain avant 10 h", "11-24 09:00", "part_of_day", "09:00..10:00"),
    C("entre 14 h et 16 h", "11-23 14:00", "part_of_day", "14:00..16:00"),
    C("entre 2 et 4", "11-23 14:00", "part_of_day", "14:00..16:00"),
    C("demain de 9 h à 11 h", "11-24 09:00", "part_of_day", "09:00..11:00"),
    C("demain à 14 h ou 15 h", "11-24 14:00", "part_of_day?", "14:00..15:00"),
    C("demain 14h-16h", "11-24 14:00", "part_of_day", "14:00..16:00"),
    C("0 h 30", "11-24 00:30", "minute"),
    # Parts of the day.
    C("en fin de matinée", "11-23 11:00", "part_of_day", "11:00..12:00"),
    C("ce soir", "11-23 18:00", "part_of_day", "18:00..21:00"),
    C("cet après-midi", "11-23 14:00", "part_of_day", "14:00..18:00"),
    C("cet aprem", "11-23 14:00", "part_of_day", "14:00..18:00"),
    C("ce matin", "11-23 10:30", "part_of_day", "10:30..12:00"),
    C("demain matin", "11-24 10:00", "part_of_day", "09:00..12:00"),
    C("demain dans la matinée", "11-24 10:00", "part_of_day", "09:00..12:00"),
    C("en début d'après-midi", "11-23 14:00", "part_of_day", "13:30..15:00"),
    C("demain en fin d'après-midi", "11-24 17:00", "part_of_day", "16:00..18:00"),
    C("ce midi", "11-23 12:00", "part_of_day", "12:00..14:00"),
    C("demain entre midi et deux", "11-24 12:00", "part_of_day", "12:00..14:00"),
    C("demain à la première heure", "11-24 09:00", "part_of_day", "09:00..10:00"),
    C("rappelez-moi jeudi après-midi", "11-26 14:00", "part_of_day", "14:00..18:00"),
    # Days without a time: booked at 09:00 (now, for today) within the working day.
    C("jeudi", "11-26 09:00", "day", "09:00..18:00"),
    C("aujourd'hui", "11-23 10:30", "day", "10:30..18:00"),
    C("le premier décembre", "12-01 09:00", "day", "09:00..18:00"),
    C("le 3", "12-03 09:00", "day", "09:00..18:00"),
    C("le 1er janvier", "2027-01-01 09:00", "day", "09:00..18:00"),
    C("jeudi de la semaine prochaine", "12-03 09:00", "day", "09:00..18:00"),
    C("lundi en huit", "12-07 09:00", "day", "09:00..18:00"),
    C("dans 15 jours", "12-07 09:00", "day", "09:00..18:00"),
    C("la semaine prochaine", "11-30 09:00", "day?", "09:00..12-06 18:00"),
    C("ce week-end", "11-28 09:00", "day", "09:00..11-29 18:00"),
    C("j'ai appelé hier, rappelez-moi demain", "11-24 09:00", "day", "09:00..18:00"),
    C("pas demain, après-demain", "11-25 09:00", "day", "09:00..18:00"),
    # "prochain" and weekdays said on the same weekday are ambiguous.
    C("lundi prochain", "11-30 09:00", "day?", "09:00..18:00"),
    C("lundi prochain en fin de matinée", "11-30 11:00", "part_of_day?", "11:00..12:00"),
    C("lundi", "11-30 09:00", "day?", "09:00..18:00"),
    C("mardi prochain", "11-24 09:00", "day?", "09:00..18:00"),
    C("jeudi prochain à 14 h", "11-26 14:00", "minute"),
    # Weekdays as Whisper writes them on an 8 kHz line, where a day fits.
    C("Je dis à 14h30", "11-26 14:30", "minute"),
    C("j'aimerais être rappelé je dis.", "11-26 09:00", "day", "09:00..18:00"),
    C("plutôt jédis", "11-26 09:00", "day", "09:00..18:00"),
    C("ça me dit à 10 heures", "11-28 10:00", "minute"),
    C("oui je dis à 16h", "11-26 16:00", "minute"),
    # Long weekdays written a letter off ("Mertredi à 15h30." for "Mercredi à quinze heures trente").
    C("Mertredi à 15h30.", "11-25 15:30", "minute"),
    C("Merredi à 15h30.", "11-25 15:30", "minute"),
    C("vandredi à 10 heures", "11-27 10:00", "minute"),
    C("Merci d'y à 15h30.", "11-23 15:30", "minute"),  # "merci" stays a French word: today
    # "demain" and "mercredi" before a clock time, as Whisper writes them with a time primed.
    C("Je demande à 14 heures.", "11-24 14:00", "minute"),
    C("Je demande à 14h30.", "11-24 14:30", "minute"),
    C("Il demande à 14 heures.", "11-24 14:00", "minute"),
    C("J'ai demandé à 15 heures.", "11-24 15:00", "minute"),
    C("Dommage à 16 heures.", "11-24 16:00", "minute"),
    C("après de nous en début d'après-midi", "11-25 14:00", "part_of_day", "13:30..15:00"),
    C("Merci d'hiver 13h.", "11-25 13:00", "hour", "12:30..13:30"),
    C("Merci d'hiver 15h30.", "11-25 15:30", "hour", "15:00..16:00"),
    C("jeudi 27", "11-27 09:00", "day?", "09:00..18:00"),
    # Offsets from now, and right now.
    C("dans une heure", "11-23 11:30", "minute"),
    C("dans deux heures", "11-23 12:30", "minute"),
    C("dans 30 minutes", "11-23 11:00", "minute"),
    C("dans un quart d'heure", "11-23 10:45", "minute"),
    C("dans une demi-heure", "11-23 11:00", "minute"),
    C("dans une heure et demie", "11-23 12:00", "minute"),
    C("d'ici 20 minutes", "11-23 10:50", "minute", "10:30..10:50"),
    C("tout de suite", "11-23 10:30", "minute", "10:30.."),
    C("maintenant", "11-23 10:30", "minute", "10:30.."),
    C("dès que possible", "11-23 10:30", "minute", "10:30.."),
    C("dans l'heure", "11-23 11:00", "hour", "10:30..11:30"),
    # Recogniser noise around the time.
    C("euh demain euh vers quatorze heures", "11-24 14:00", "hour", "13:30..14:30"),
    C("rappelez-moi au 06 12 34 56 78 demain à 14 h", "11-24 14:00", "minute"),
]


@pytest.mark.parametrize("case", MONDAY_CASES, ids=lambda case: case.said)
def test_monday_morning(case: Case) -> None:
    check(parse_when(case.said, MONDAY), case)


SUNDAY_EVENING_CASES = [
    # Said on a Sunday, "lundi prochain" may be tomorrow or the Monday after: the nearest, flagged.
    C("lundi prochain", "11-23 09:00", "day?", "09:00..18:00"),
    C("lundi", "11-23 09:00", "day", "09:00..18:00"),
    C("lundi de la semaine prochaine", "11-23 09:00", "day", "09:00..18:00"),
    C("ce soir", "11-22 19:00", "part_of_day", "19:00..21:00"),
    C("ce soir après dix-huit heures", "11-22 19:00", "part_of_day", "19:00..21:00"),
    C("en fin de matinée", "11-23 11:00", "part_of_day", "11:00..12:00"),
    C("midi", "11-23 12:00", "minute"),
    C("dans 30 minutes", "11-22 19:30", "minute"),
    C("la semaine prochaine", "11-23 09:00", "day?", "09:00..11-29 18:00"),
    C("dimanche", "11-29 09:00", "day?", "09:00..18:00"),
]

FRIDAY_EVENING_CASES = [
    C("lundi prochain", "11-23 09:00", "day", "09:00..18:00"),
    C("lundi prochain en fin de matinée", "11-23 11:00", "part_of_day", "11:00..12:00"),
    C("à 8 heures", "11-21 08:00", "minute?"),
    C("ce soir", "11-20 18:45", "part_of_day", "18:45..21:00"),
    C("dans un quart d'heure", "11-20 19:00", "minute"),
    C("ce week-end", "11-21 09:00", "day", "09:00..11-22 18:00"),
    C("demain matin", "11-21 10:00", "part_of_day", "09:00..12:00"),
]


@pytest.mark.parametrize("case", SUNDAY_EVENING_CASES, ids=lambda case: case.said)
def test_sunday_evening(case: Case) -> None:
    check(parse_when(case.said, SUNDAY_EVENING), case)


@pytest.mark.parametrize("case", FRIDAY_EVENING_CASES, ids=lambda case: case.said)
def test_friday_evening(case: Case) -> None:
    check(parse_when(case.said, FRIDAY_EVENING), case)


def test_prochain_ambiguity_is_explained_with_both_dates() -> None:
    result = parse_when("lundi prochain", SUNDAY_EVENING)
    assert result is not None
    assert "lundi 23 novembre" in result.explanation and "lundi 30 novembre" in result.explanation


@pytest.mark.parametrize(
    "said",
    [
        "hier",
        "jeudi dernier",
        "ce matin à 9 h",
        "aujourd'hui à 9 h",
        "le 22 novembre",
        "le 31 février",
        "bonjour",
        "je voudrais être rappelé",
        "plus tard",
        "j'ai attendu 2 heures",
        "pas maintenant",
        "je dis ce que je pense",
        "je demande à parler à un conseiller",
        "je demande 2 choses",
        "c'est dommage",
        "merci d'hiver",
        "venez après de nous voir",
        "non c'est pas ce que je dis",
        "comme je dis",
        "oui ça me dit",
        "je ne suis pas disponible maintenant",
        "je n'ai pas le temps tout de suite",
        "j'ai pas trop le temps maintenant",
        "je suis occupée à l'instant",
        "si ça me dit",
        "ça me dit rien",
        "j'ai pas le temps maintenant vous pouvez me recontacter",
        "je suis occupé maintenant, rappelez-moi",
        "dans 100000 jours",
        "dans 99999999999 heures",
        "",
    ],
)
def test_past_or_absent_times_give_none(said: str) -> None:
    assert parse_when(said, MONDAY) is None


@pytest.mark.parametrize(
    "said",
    [
        "vous m'avez appelé ce matin",
        "un conseiller devait me rappeler ce matin",
        "j'ai été rappelé ce matin mais j'étais absent",
        "je voudrais être rappelé, j'ai manqué votre appel de ce matin",
        "on m'a appelé cet après-midi vers 15 heures",
        "vous avez essayé de m'appeler ce matin",
        "vous m'avez laissé un message ce matin",
        "j'ai eu un appel en absence ce matin à 9 h",
        "vous m'avez appelé hier, vers 16 h",  # the clock after a comma is still the call's
        "vous m'avez appelé ce matin, à 9 h 15, j'étais en réunion",
        "vous m'avez appelé à 9 h ce matin",
        "vous m'avez appelé hier soir à 8 h",  # 20 h
        "vous m'avez appelé hier après-midi vers 3 h",
    ],
)
def test_when_an_earlier_call_came_is_no_call_back_time(said: str) -> None:
    """At 10:30, "ce matin" is still bookable: read from "vous m'avez appelé ce matin", it offered a
    call-back between 10 h 30 and 12 h to a caller who only said when the last call came."""
    assert parse_when(said, MONDAY) is None


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("vous m'avez rappelé hier à 15 heures, rappelez-moi jeudi à 11 heures", "2026-11-26 11:00"),
        ("j'ai eu un appel manqué de votre part à 9 h, rappelez-moi demain à 10 h", "2026-11-24 10:00"),
        ("je voudrais être rappelé ce soir à 18 heures", "2026-11-23 18:00"),
        ("je voudrais un appel demain à 10 heures", "2026-11-24 10:00"),
        # the clause after the call, or a clock the part of day said does not hold, is the request
        ("vous m'avez appelé ce matin, à 16 h c'est possible", "2026-11-23 16:00"),
        ("vous m'avez appelé ce matin à 16 h c'est possible", "2026-11-23 16:00"),
        ("vous m'avez contacté lundi dernier, mardi ça m'arrange", "2026-11-24 09:00"),
        ("j'ai raté votre appel, lundi à 14 h ça m'irait", "2026-11-30 14:00"),
        ("j'ai eu un appel de votre part, à 14 h je suis disponible", "2026-11-23 14:00"),
        ("j'ai raté votre appel, à 10 h demain si possible", "2026-11-24 10:00"),
        ("j'ai manqué l'appel, la semaine prochaine c'est mieux", "2026-11-30 09:00"),
    ],
)
def test_the_time_asked_for_is_read_beside_an_earlier_call(said: str, expected: str) -> None:
    when = parse_when(said, MONDAY)
    assert when is not None and when.at == paris(expected)


def test_a_part_of_day_already_over_is_none_when_today_was_said() -> None:
    assert parse_when("cet après-midi", SUNDAY_EVENING) is None
    assert parse_when("ce midi", SUNDAY_EVENING) is None


SPRING_FORWARD_EVE = datetime(2026, 3, 28, 10, 0, tzinfo=PARIS)  # Saturday; clocks go 02:00 → 03:00 Sunday
FALL_BACK_EVE = datetime(2026, 10, 24, 20, 0, tzinfo=PARIS)  # Saturday; clocks go 03:00 → 02:00 Sunday


def test_daylight_saving_day_keeps_wall_clock_times() -> None:
    spring = parse_when("demain à 14 h", SPRING_FORWARD_EVE)
    autumn = parse_when("demain à 10 h", FALL_BACK_EVE)
    assert spring is not None and spring.at == paris("2026-03-29 14:00")
    assert spring.at.utcoffset() == timedelta(hours=2)
    assert autumn is not None and autumn.at == paris("2026-10-25 10:00")
    assert autumn.at.utcoffset() == timedelta(hours=1)


def test_offsets_count_real_elapsed_time_across_daylight_saving() -> None:
    day_later = parse_when("dans 24 heures", SPRING_FORWARD_EVE)
    assert day_later is not None and day_later.at == paris("2026-03-29 11:00")  # 23 wall-clock hours
    night = parse_when("dans 10 heures", FALL_BACK_EVE)
    assert night is not None and night.at == paris("2026-10-25 05:00")  # 11 wall-clock hours
    # Same-zone subtraction in Python is wall-clock; elapsed time is measured in UTC.
    assert (night.at.astimezone(UTC) - FALL_BACK_EVE.astimezone(UTC)).total_seconds() == 10 * 3600
    early = parse_when("dans une heure", datetime(2026, 3, 29, 1, 30, tzinfo=PARIS))
    assert early is not None and early.at == paris("2026-03-29 03:30")


def test_clock_times_that_do_not_exist_or_exist_twice_are_flagged() -> None:
    skipped = parse_when("demain à 2 h 30 du matin", SPRING_FORWARD_EVE)
    assert skipped is not None and skipped.ambiguous and skipped.at == paris("2026-03-29 03:30")
    doubled = parse_when("demain à 2 h 30 du matin", FALL_BACK_EVE)
    assert doubled is not None and doubled.ambiguous
    assert doubled.at.utcoffset() == timedelta(hours=2)  # the first 02:30, still summer time


def test_now_in_another_zone_is_read_in_paris() -> None:
    utc_now = MONDAY.astimezone(UTC)
    result = parse_when("demain à 14 h", utc_now)
    assert result is not None and result.at == paris("2026-11-24 14:00") and result.at.tzinfo == PARIS


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_when("demain à 14 h", datetime(2026, 11, 23, 10, 30))


def test_explanation_reads_the_date_back_in_french() -> None:
    result = parse_when("demain à quatorze heures trente", MONDAY)
    assert result is not None and result.explanation == "demain, mardi 24 novembre à 14 h 30"


def test_same_input_same_answer() -> None:
    said = "lundi prochain en fin de matinée"
    assert parse_when(said, MONDAY) == parse_when(said, MONDAY)
