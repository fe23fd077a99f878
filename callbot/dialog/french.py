"""Dates, times and lists written in natural French, the way prompts are written ("mardi 24 novembre à
15 h 30"). The TTS normaliser turns "15 h 30" into words, so this module writes the short written form.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, time

from callbot.calendar_fr import MONTHS, WEEKDAYS

#: A name's leading article: "le Vieux-Port", "la Part-Dieu", "l'Opéra".
ARTICLE = re.compile(r"^(les(?=\s)|le(?=\s)|la(?=\s)|l')\s*", re.IGNORECASE)


def clock(moment: time | datetime) -> str:
    """'15 h', '9 h 30', '12 h 05'."""
    return f"{moment.hour} h" if moment.minute == 0 else f"{moment.hour} h {moment.minute:02d}"


def day_and_month(day: date) -> str:
    """'24 novembre', '1er décembre'."""
    number = "1er" if day.day == 1 else str(day.day)
    return f"{number} {MONTHS[day.month - 1]}"


def full_date(day: date, today: date) -> str:
    """'mardi 24 novembre' (with the year when it is not this year's)."""
    text = f"{WEEKDAYS[day.weekday()]} {day_and_month(day)}"
    return text if day.year == today.year else f"{text} {day.year}"


def relative_day(day: date, today: date) -> str:
    """'aujourd'hui', 'demain, mardi 24 novembre,' … 'jeudi 26 novembre': a day a caller can check.

    'demain' alone is not enough to confirm a call-back: the weekday and date let the caller catch a
    misunderstanding ("lundi prochain" heard on a Monday), so they are always said.
    """
    delta = (day - today).days
    if delta == 0:
        return "aujourd'hui"
    if delta == 1:
        return f"demain, {full_date(day, today)},"
    return full_date(day, today)


def moment(when: datetime, now: datetime) -> str:
    """'demain, mardi 24 novembre, à 15 h', 'aujourd'hui à 17 h 30', 'jeudi 26 novembre à 10 h'."""
    return f"{relative_day(when.date(), now.date())} à {clock(when)}"


def on_date(day: date, today: date) -> str:
    """'le jeudi 26 novembre', or 'hier' / "aujourd'hui" / 'demain' next to today (delivery dates)."""
    near = {-1: "hier", 0: "aujourd'hui", 1: "demain"}.get((day - today).days)
    if near is not None:
        return near
    return f"le {full_date(day, today)}"


def join(items: Sequence[str], last: str = "et") -> str:
    """'a', 'a et b', 'a, b et c'."""
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


def euros(amount: float) -> str:
    """'24,90 €', '289 €' (French decimal comma)."""
    if float(amount).is_integer():
        return f"{int(amount)} €"
    return f"{amount:.2f} €".replace(".", ",")


def of(form: str) -> str:
    """ "de" before a name, contracted as French says it: "de Lyon", "du Vieux-Port", "de la Part-Dieu",
    "des Halles", "d'Annecy" (not before an h: some are aspirated)."""
    article = ARTICLE.match(form)
    rest = form[article.end() :] if article else form
    match article.group(1).lower() if article else "":
        case "le":
            return f"du {rest}"
        case "les":
            return f"des {rest}"
        case "la" | "l'" if article is not None:  # kept as written: "de La Rochelle", "de la Part-Dieu"
            return f"de {form}"
    return f"d'{rest}" if rest[:1].lower() in "aeiouyéèêâîôû" and rest[:1] else f"de {rest}"
