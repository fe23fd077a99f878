"""Written French → words a speech engine reads right.

Engines read "14h30", "23/11/2026", "12,50 €" or "06 12 34 56 78" badly or not at all, and a caller must be
able to write down what the bot says. `speakable` rewrites those forms as French words; everything else is
left as written. Choices, so that prompts sound the same everywhere:

- Times use the 24-hour clock as written: "12 h" → "douze heures", "0 h 15" → "zéro heure quinze". Text
  that says "midi"/"minuit" keeps saying it; a digit form is never turned into midi/minuit, because the
  caller reads the same figure on a confirmation message.
- Full dates gain their weekday ("23/11/2026" → "lundi vingt-trois novembre deux mille vingt-six") so the
  caller can check the day; a date without a year ("23/11") gets none. "d/m" with two one-digit parts
  ("3/4") is a fraction, not a date, and stays as written.
- Prices: "douze euros cinquante"; under ten cents "deux euros et cinq centimes" (so 2,05 € is never heard
  as 2,50 €); "0,99 €" → "quatre-vingt-dix-neuf centimes"; "1 000 000 €" → "un million d'euros".
- Phone numbers (French, national or +33/0033) are read in pairs as the caller would dial them, with the
  national 0: "+33 6 12 34 56 78" → "zéro six, douze, trente-quatre, cinquante-six, soixante-dix-huit".
- Order numbers are read digit by digit in groups of three ("quatre cinq huit, un deux neuf"): a caller
  can write each digit as it comes and leading zeros survive. What counts as an order number is a regular
  expression (`ORDER_NUMBER_PATTERN`, replaceable per call) with a group named ``digits``.
- Other integers become words; an integer with a leading zero or more than nine digits is read digit by
  digit, because nobody can take down "quatre milliards…".

Numbers are spelled with the traditional rules (hyphens under a hundred, "et" in 21…71, "quatre-vingts" and
"deux cents" plural only at the end), written out here rather than pulled from a library: the rules are
short and the tests check them against text2num's parser.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from callbot.calendar_fr import MONTHS, WEEKDAYS

_UNITS: tuple[str, ...] = (
    "zéro",
    "un",
    "deux",
    "trois",
    "quatre",
    "cinq",
    "six",
    "sept",
    "huit",
    "neuf",
    "dix",
    "onze",
)
_UNITS += ("douze", "treize", "quatorze", "quinze", "seize", "dix-sept", "dix-huit", "dix-neuf")
_TENS = {2: "vingt", 3: "trente", 4: "quarante", 5: "cinquante", 6: "soixante"}

_SPACE = "[ \u00a0\u202f]"  # ordinary, non-breaking and narrow non-breaking spaces all appear in prices


# --- numbers ---------------------------------------------------------------------------------------------


def number_to_words(n: int, *, feminine: bool = False) -> str:
    """French words for an integer: 71 → "soixante et onze", 80 → "quatre-vingts", 200 → "deux cents".

    `feminine` turns a final "un" into "une" (une heure, vingt et une heures).
    """
    if n < 0:
        return "moins " + number_to_words(-n, feminine=feminine)
    if n == 0:
        return "zéro"
    words: list[str] = []
    for size, noun in ((10**9, "milliard"), (10**6, "million")):
        count, n = divmod(n, size)
        if count:
            # million and milliard are nouns: they take an s, and so does "cents"/"quatre-vingts" before them
            words.append(f"{_big_count(count)} {noun}{'s' if count > 1 else ''}")
    thousands, n = divmod(n, 1000)
    if thousands == 1:
        words.append("mille")
    elif thousands:
        # "mille" is invariable and stops the plural of cent/quatre-vingt: deux cent mille, quatre-vingt mille
        words.append(f"{_below_1000(thousands, plural=False, feminine=False)} mille")
    if n:
        words.append(_below_1000(n, plural=True, feminine=feminine))
    return " ".join(words)


def _big_count(count: int) -> str:
    return _below_1000(count, plural=True, feminine=False) if count < 1000 else number_to_words(count)


def _below_1000(n: int, *, plural: bool, feminine: bool) -> str:
    hundreds, rest = divmod(n, 100)
    words = []
    if hundreds == 1:
        words.append("cent")
    elif hundreds:
        words.append(f"{_UNITS[hundreds]} cent{'s' if plural and not rest else ''}")
    if rest:
        words.append(_below_100(rest, plural=plural, feminine=feminine))
    return " ".join(words)


def _below_100(n: int, *, plural: bool, feminine: bool) -> str:
    one = "une" if feminine else "un"
    if n < 20:
        return one if n == 1 else _UNITS[n]
    tens, unit = divmod(n, 10)
    if tens == 7:
        return "soixante et onze" if unit == 1 else f"soixante-{_UNITS[10 + unit]}"
    if tens == 8:
        if unit == 0:
            return "quatre-vingts" if plural else "quatre-vingt"
        return f"quatre-vingt-{one if unit == 1 else _UNITS[unit]}"
    if tens == 9:
        return f"quatre-vingt-{_UNITS[10 + unit]}"
    if unit == 0:
        return _TENS[tens]
    if unit == 1:
        return f"{_TENS[tens]} et {one}"
    return f"{_TENS[tens]}-{_UNITS[unit]}"


def ordinal_to_words(n: int, *, feminine: bool = False) -> str:
    """1 → "premier"/"première", 2 → "deuxième", 21 → "vingt et unième", 80 → "quatre-vingtième"."""
    if n == 1:
        return "première" if feminine else "premier"
    words = number_to_words(n)
    if words.startswith(("un million", "un milliard")):
        words = words[3:]  # millionième, not "un millionième"
    if words.endswith(("cents", "vingts", "millions", "milliards")):
        words = words[:-1]
    if words.endswith("cinq"):
        return words + "uième"
    if words.endswith("neuf"):
        return words[:-1] + "vième"
    if words.endswith("e"):
        return words[:-1] + "ième"
    return words + "ième"


def digits_to_words(digits: str) -> str:
    """One word per digit: "045" → "zéro quatre cinq"."""
    return " ".join(_UNITS[int(d)] for d in digits)


def _digit_groups(digits: str) -> list[str]:
    """Groups of three, never a lone last digit: 7 digits → 3+2+2, 8 → 3+3+2, 4 → 2+2."""
    groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    if len(groups) > 1 and len(groups[-1]) == 1:
        tail = groups[-2] + groups[-1]
        groups[-2:] = [tail[:2], tail[2:]]
    return groups


def _read_digit_groups(digits: str) -> str:
    return ", ".join(digits_to_words(group) for group in _digit_groups(digits))


def _pair_to_words(pair: str) -> str:
    """A phone-number pair: "06" → "zéro six", "00" → "zéro zéro", "78" → "soixante-dix-huit"."""
    if pair[0] == "0":
        return digits_to_words(pair)
    return number_to_words(int(pair))


def _integer_words(text: str, *, feminine: bool = False) -> str:
    """Words for an integer as written; "1 000 000" is a quantity, "0045" or "123456789012" a code."""
    digits = re.sub(_SPACE, "", text)
    grouped = digits != text
    if (len(digits) > 1 and digits[0] == "0") or (len(digits) > 9 and not grouped):
        return _read_digit_groups(digits)
    return number_to_words(int(digits), feminine=feminine)


# --- prompt helpers --------------------------------------------------------------------------------------


def format_time_fr(moment: dt.time | dt.datetime) -> str:
    """The written form used in prompts: 14:30 → "14 h 30", 9:00 → "9 h", 9:05 → "9 h 05"."""
    if moment.minute:
        return f"{moment.hour} h {moment.minute:02d}"
    return f"{moment.hour} h"


def format_date_fr(day: dt.date, *, with_year: bool = False) -> str:
    """The written form used in prompts: "lundi 23 novembre", "mardi 1er décembre" (+ " 2026")."""
    number = "1er" if day.day == 1 else str(day.day)
    text = f"{WEEKDAYS[day.weekday()]} {number} {MONTHS[day.month - 1]}"
    return f"{text} {day.year}" if with_year else text


def _spoken_date(day: dt.date, *, weekday: bool, year: bool) -> str:
    words = [WEEKDAYS[day.weekday()]] if weekday else []
    words += [ordinal_to_words(1) if day.day == 1 else number_to_words(day.day), MONTHS[day.month - 1]]
    if year:
        words.append(number_to_words(day.year))
    return " ".join(words)


def _spoken_time(hours: int, minutes: int) -> str:
    words = f"{number_to_words(hours, feminine=True)} heure{'s' if hours > 1 else ''}"
    return f"{words} {number_to_words(minutes, feminine=True)}" if minutes else words


# --- rewriting rules -------------------------------------------------------------------------------------

#: Default order-number pattern: a label (commande, CMD, référence, réf., dossier, optionally "n°"/"numéro")
#: then 4–12 digits, written together ("458129") or one by one ("4 5 8 1 2 9").
ORDER_NUMBER_PATTERN = re.compile(
    r"(?P<label>\b(?:commande|cmd|r[ée]f[ée]rence|r[ée]f\.?|dossier)"
    r"(?:[ \u00a0]+(?:n[°º]|num[ée]ro|no\.?))?)[ \u00a0]*[-:#]?[ \u00a0]*"
    r"(?P<digits>\d(?: \d){3,11}|\d{4,12})(?!\d)",
    re.IGNORECASE,
)

_PHONE = re.compile(
    rf"(?<![\d+])(?:(?:\+|00)33{_SPACE}?(?:\(0\){_SPACE}?)?|0)([1-9])((?:[ \u00a0.-]?\d{{2}}){{4}})(?!\d)"
)
_FULL_DATE = re.compile(r"\b(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})\b")
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_SHORT_DATE = re.compile(r"(?<![\d/])(\d{1,2})/(\d{1,2})(?![\d/])")
_FIRST_OF_MONTH = re.compile(rf"\b1(?:er)?(?={_SPACE}+(?:{'|'.join(MONTHS)})\b)", re.IGNORECASE)
_ROUND_THE_CLOCK = re.compile(rf"\b24{_SPACE}?h{_SPACE}?/{_SPACE}?24\b|\b7{_SPACE}?j{_SPACE}?/{_SPACE}?7\b")
_H_TIME = re.compile(rf"\b([01]?\d|2[0-4]){_SPACE}?[hH](?:{_SPACE}?([0-5]\d)(?:{_SPACE}?(min)\b\.?)?)?(?!\w)")
_COLON_TIME = re.compile(r"\b([01]?\d|2[0-3]):([0-5]\d)(?!:?\d)")
_PRICE = re.compile(
    rf"(?<![\d,.])(\d{{1,3}}(?:[ \u00a0\u202f.]\d{{3}})+|\d+)(?:[,.](\d{{1,2}}))?{_SPACE}?"
    r"(?:€(?:(\d{2})(?!\d))?|(?i:EUR|euros?)\b)"
)
_PERCENT = re.compile(rf"\b(\d+)(?:,(\d+))?{_SPACE}?%")
_MINUTES = re.compile(rf"\b(\d+){_SPACE}?(?:min|mn)\b\.?")
_ORDINAL = re.compile(r"\b(\d+)(ère|ere|er|re|ème|eme|e|nde|nd)\b")
_DECIMAL = re.compile(r"(?<![\w,])(\d+),(\d+)(?![\w,])")
_INTEGER = re.compile(r"(?<![\w,.])(\d{1,3}(?:[\u00a0\u202f ]\d{3})+|\d+)(?!\w)")
# Feminine nouns often counted in prompts: "1 heure" is "une heure", "21 personnes" "vingt et une".
_FEMININE_NOUN = re.compile(
    r"[ \u00a0]+(?:heure|minute|seconde|semaine|journée|nuit|année|fois|personne|place|commande|option|"
    r"touche|étape|étoile)s?\b",
    re.IGNORECASE,
)

_ABBREVIATIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bM\.(?=[ \u00a0]+[A-ZÀ-Ý])"), "monsieur"),
    (re.compile(r"\bMM\.(?=[ \u00a0]+[A-ZÀ-Ý])"), "messieurs"),
    (re.compile(r"\bMmes\b\.?"), "mesdames"),
    (re.compile(r"\bMme\b\.?"), "madame"),
    (re.compile(r"\bMlle\b\.?"), "mademoiselle"),
    (re.compile(r"\bDr\b\.?(?=[ \u00a0]+[A-ZÀ-Ý])"), "docteur"),
    (re.compile(r"\b[nN][°º]"), "numéro "),
    (re.compile(r"\b[rR][ée]f\.(?!\w)|\b[rR][ée]f\b"), "référence"),
    (re.compile(r"\b[tT]él\.(?!\w)|\b[tT]él\b"), "téléphone"),
    (re.compile(r"\b(?:RDV|rdv)\b"), "rendez-vous"),
    (re.compile(r"\betc\.(?!\w)"), "et cetera"),
    (re.compile(r"\s*&\s*"), " et "),
)


def _phone(match: re.Match[str]) -> str:
    pairs = ["0" + match[1], *re.findall(r"\d{2}", match[2])]
    return ", ".join(_pair_to_words(pair) for pair in pairs)


def _date_or_none(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _says_weekday_before(text: str, start: int) -> bool:
    previous = text[max(0, start - 16) : start].split()
    return bool(previous) and previous[-1].lower().strip(",") in WEEKDAYS


def _full_date(match: re.Match[str]) -> str:
    year = int(match[4]) + (2000 if len(match[4]) == 2 else 0)
    day = _date_or_none(year, int(match[3]), int(match[1]))
    if day is None:
        return match[0]
    return _spoken_date(day, weekday=not _says_weekday_before(match.string, match.start()), year=True)


def _iso_date(match: re.Match[str]) -> str:
    day = _date_or_none(int(match[1]), int(match[2]), int(match[3]))
    if day is None:
        return match[0]
    return _spoken_date(day, weekday=not _says_weekday_before(match.string, match.start()), year=True)


def _short_date(match: re.Match[str]) -> str:
    if len(match[1]) == 1 and len(match[2]) == 1:
        return match[0]  # "3/4" reads as a fraction
    day = _date_or_none(2000, int(match[2]), int(match[1]))  # a leap year, so 29/02 is accepted
    return match[0] if day is None else _spoken_date(day, weekday=False, year=False)


def _round_the_clock(match: re.Match[str]) -> str:
    return "vingt-quatre heures sur vingt-quatre" if match[0].startswith("24") else "sept jours sur sept"


def _time(match: re.Match[str]) -> str:
    hours, minutes = int(match[1]), int(match[2] or 0)
    if hours == 24 and minutes:
        return match[0]
    spoken = _spoken_time(hours, minutes)
    return f"{spoken} minute{'s' if minutes > 1 else ''}" if match.lastindex == 3 else spoken


def _price(match: re.Match[str]) -> str:
    euros = int(re.sub(r"[ \u00a0\u202f.]", "", match[1]))
    cents_text = match[2] or match[3]
    cents = int(cents_text.ljust(2, "0")) if cents_text else 0
    if euros == 0 and cents:
        return f"{number_to_words(cents)} centime{'s' if cents > 1 else ''}"
    amount = number_to_words(euros)
    if amount.endswith(("million", "millions", "milliard", "milliards")):
        spoken = f"{amount} d'euros"
    else:
        spoken = f"{amount} euro{'s' if euros > 1 else ''}"
    if cents >= 10:
        return f"{spoken} {number_to_words(cents)}"
    if cents:
        return f"{spoken} et {number_to_words(cents)} centime{'s' if cents > 1 else ''}"
    return spoken


def _decimal_words(integer: str, fraction: str) -> str:
    zeros = len(fraction) - len(fraction.lstrip("0"))
    rest = fraction.lstrip("0")
    fraction_words = " ".join(["zéro"] * zeros + ([_integer_words(rest)] if rest else []))
    return f"{number_to_words(int(integer))} virgule {fraction_words}"


def _percent(match: re.Match[str]) -> str:
    amount = _decimal_words(match[1], match[2]) if match[2] else _integer_words(match[1])
    return f"{amount} pour cent"


def _minutes(match: re.Match[str]) -> str:
    count = int(match[1])
    return f"{number_to_words(count, feminine=True)} minute{'s' if count > 1 else ''}"


def _ordinal(match: re.Match[str]) -> str:
    n, suffix = int(match[1]), match[2]
    if suffix in ("nd", "nde"):
        return "second" if suffix == "nd" else "seconde"
    feminine = suffix in ("re", "ère", "ere")
    return ordinal_to_words(n, feminine=feminine)


def _integer(match: re.Match[str]) -> str:
    feminine = _FEMININE_NOUN.match(match.string, match.end()) is not None
    return _integer_words(match[1], feminine=feminine)


def _order_number_rule(pattern: re.Pattern[str]) -> Callable[[str], str]:
    if "digits" not in pattern.groupindex:
        raise ValueError(f"order-number pattern {pattern.pattern!r} needs a group named 'digits'")

    def rewrite(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match["digits"])
        start, end = match.span("digits")
        before = match.string[match.start() : start].rstrip(" \u00a0-:#")
        after = match.string[end : match.end()]
        return f"{before} {_read_digit_groups(digits)}{after}".lstrip()

    return lambda text: pattern.sub(rewrite, text)


def speakable(text: str, *, order_number_pattern: re.Pattern[str] | str | None = ORDER_NUMBER_PATTERN) -> str:
    """Rewrite times, dates, prices, phone and order numbers, integers and abbreviations as French words.

    `order_number_pattern` picks out order references (it must have a group named ``digits``); None turns
    that rule off. Text with nothing to rewrite comes back unchanged apart from collapsed white space.
    """
    if order_number_pattern is not None:
        if isinstance(order_number_pattern, str):
            order_number_pattern = re.compile(order_number_pattern, re.IGNORECASE)
        text = _order_number_rule(order_number_pattern)(text)
    for pattern, words in _ABBREVIATIONS:
        text = pattern.sub(words, text)
    text = _PHONE.sub(_phone, text)
    text = _FULL_DATE.sub(_full_date, text)
    text = _ISO_DATE.sub(_iso_date, text)
    text = _SHORT_DATE.sub(_short_date, text)
    text = _FIRST_OF_MONTH.sub(ordinal_to_words(1), text)
    text = _ROUND_THE_CLOCK.sub(_round_the_clock, text)
    text = _H_TIME.sub(_time, text)
    text = _COLON_TIME.sub(_time, text)
    text = _PRICE.sub(_price, text)
    text = _PERCENT.sub(_percent, text)
    text = _MINUTES.sub(_minutes, text)
    text = _ORDINAL.sub(_ordinal, text)
    text = _DECIMAL.sub(lambda m: _decimal_words(m[1], m[2]), text)
    text = _INTEGER.sub(_integer, text)
    text = re.sub(r"[ \t\u00a0\u202f]+", " ", text)
    return re.sub(r" +([,.])", r"\1", text).strip()
