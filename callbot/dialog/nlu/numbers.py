"""Order numbers and phone numbers, spoken digit by digit, in pairs, or as one big number.

``normalize`` has already turned number words into digits ("quatre cinq huit" → "4 5 8", "quatre cent
cinquante-huit mille cent vingt-neuf" → "458129", "zéro six douze" → "06 12"); what is left is to join the
groups the speaker paused between and to pick the right run when the sentence holds several numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import phonenumbers

from callbot.dialog.nlu.normalize import normalize
from callbot.dialog.nlu.similarity import FILLERS

# Words that may sit between two groups of one dictated number without ending it.
_SEPARATORS = FILLERS | frozenset({"tiret", "slash", "barre", "espace", "puis", "ensuite"})
# A reference read with its letters ("CMD458129", "A458129"): the digits are the number, and an order
# prefix says what it is.
_PREFIXED_DIGITS = re.compile(r"^([a-z]{1,4})(\d+)$")
_ORDER_PREFIXES = frozenset({"cmd", "cde", "com", "ref", "no", "n", "num"})
# Words shortly before a number that say what it is: an order ("commande", "référence") or a phone line.
_ORDER_CUES = frozenset(
    {"commande", "commandes", "reference", "references", "ref", "cmd", "dossier", "facture"}
)
_NUMBER_CUES = frozenset({"numero", "num", "no", "n"})
_PHONE_CUES = frozenset(
    {"telephone", "portable", "mobile", "fixe", "joindre", "joignable", "appeler", "rappeler", "ligne"}
)
_CUE_LOOKBACK = 3
_NATIONAL_DIGITS = 10
# Numbers on these regions are domestic for a French line (overseas departments share the national plan).
_DOMESTIC_REGIONS = {"FR": frozenset({"FR", "RE", "GP", "MQ", "GF", "YT", "PM", "BL", "MF"})}


@dataclass(frozen=True, slots=True)
class _Run:
    """Consecutive digit groups, as spoken, and the words just before them."""

    groups: tuple[str, ...]
    before: tuple[str, ...]

    @property
    def after_plus(self) -> bool:
        return bool(self.before) and self.before[-1] == "plus"

    @property
    def order_cue(self) -> int:
        """2 after an order word, 1 after a bare "numéro", -1 after a phone word, else 0."""
        if any(word in _ORDER_CUES for word in self.before):
            return 2
        if any(word in _PHONE_CUES for word in self.before):
            return -1
        return 1 if any(word in _NUMBER_CUES for word in self.before) else 0

    @property
    def digits(self) -> str:
        return "".join(self.groups)


# What a recogniser writes for a digit said alone on a phone line ("quatre cette deux" for "quatre sept
# deux", "cinq oui un" for "cinq huit un"): taken for that digit only between two digits said one by one.
_DIGIT_SOUND_ALIKES = {
    "cette": "7",
    "cet": "7",
    "set": "7",
    "sete": "7",
    "oui": "8",
    "wi": "8",
    "huite": "8",
    "si": "6",
    "sis": "6",
    "scie": "6",
    "sein": "5",
    "saint": "5",
    "de": "2",
    "deu": "2",
    "noeud": "9",
}


def _dictated_digit(words: list[str], index: int) -> str | None:
    """The digit a misheard word stands for, between two digits dictated one by one ("4 cette 2")."""
    digit = _DIGIT_SOUND_ALIKES.get(words[index])
    if digit is None or not 0 < index < len(words) - 1:
        return None
    around = (words[index - 1], words[index + 1])
    return digit if all(len(word) == 1 and word.isdigit() for word in around) else None


def _digit_runs(text: str) -> list[_Run]:
    """Runs of digit groups; hesitations and "tiret" inside a run do not end it, any other word does."""
    runs: list[_Run] = []
    groups: list[str] = []
    before: tuple[str, ...] = ()
    words: list[str] = []
    said = normalize(text).split()
    for index, word in enumerate(said):
        prefixed = _PREFIXED_DIGITS.match(word)
        digits = word if word.isdigit() else (prefixed.group(2) if prefixed else _dictated_digit(said, index))
        if digits is not None:
            if not groups:
                before = tuple(words[-_CUE_LOOKBACK:])
                if prefixed and prefixed.group(1) in _ORDER_PREFIXES:
                    before += ("cmd",)
            groups.append(digits)
            continue
        if word in _SEPARATORS:
            continue
        if groups:
            runs.append(_Run(tuple(groups), before))
            groups = []
        words.append(word)
    if groups:
        runs.append(_Run(tuple(groups), before))
    return runs


def extract_order_number(text: str, min_digits: int = 6, max_digits: int = 10) -> str | None:
    """The order number in ``text`` as a string of digits, or None.

    Handles "ma commande numéro quatre cinq huit un deux neuf", "4 5 8 1 2 9", "45 81 29", "CMD 458129",
    "CMD-458129" and "quatre cent cinquante-huit mille cent vingt-neuf" → "458129". Groups separated by
    spaces or hesitations ("4 5 8 euh 1 2 9") are joined. Among several runs of the right length, the one
    shortly after "commande"/"référence" wins, then one after "numéro", and one after "téléphone"/
    "portable" loses; then the longest, then the first. Leading zeros are kept ("012345").
    """
    if min_digits < 1 or max_digits < min_digits:
        raise ValueError(
            f"need 1 <= min_digits <= max_digits, got min_digits={min_digits}, max_digits={max_digits}"
        )
    candidates = [run for run in _digit_runs(text) if min_digits <= len(run.digits) <= max_digits]
    if not candidates:
        return None
    best = max(candidates, key=lambda run: (run.order_cue, len(run.digits), -candidates.index(run)))
    return best.digits


def number_cut_short(text: str, min_digits: int, asked: bool = False) -> bool:
    """Whether ``text`` stops inside a number still being said: it ends on digit groups that make fewer
    than ``min_digits`` digits, while such a number is ``asked`` for, or else right after an order or
    number word ("… ma commande numéro 4", "… de la commande 4, 7, 1, 9, 4", the last digit still to
    come after a pause). Not "j'ai commandé 2", nor, unless a number is asked, a time ("à 14 30"), a
    price or a count."""
    said = normalize(text).split()
    while said and said[-1] in _SEPARATORS:
        said.pop()
    if not said or not (said[-1].isdigit() or _PREFIXED_DIGITS.match(said[-1])):
        return False
    if len(_digit_runs(text)[-1].digits) >= min_digits:
        return False
    if asked:
        return True
    start = len(said)
    while start and _in_a_run(said[start - 1]):
        start -= 1
    prefixed = _PREFIXED_DIGITS.match(said[start])
    if prefixed and prefixed.group(1) in _ORDER_PREFIXES:
        return True  # "CMD458"
    before = said[max(0, start - 2) : start]
    if before and (before[-1] in _NUMBER_CUES or before[-1] in _ORDER_PREFIXES):
        return True  # "numéro 4", "CMD 458"
    return len(before) == 2 and before[-1] in _ORDER_CUES and before[0] in _BEFORE_AN_ORDER_WORD


#: What says "an order's" before an order word ("ma commande", "de la commande", "votre référence"):
#: "j'ai commandé 2" is no order number.
_BEFORE_AN_ORDER_WORD = frozenset(
    {"ma", "la", "votre", "une", "de", "du", "sa", "cette", "mon", "le", "notre", "leur", "numero"}
)


def _in_a_run(word: str) -> bool:
    """Whether `word` may be part of a number said in groups: digits, a hesitation, a digit misheard."""
    return (
        word.isdigit()
        or word in _SEPARATORS
        or word in _DIGIT_SOUND_ALIKES
        or bool(_PREFIXED_DIGITS.match(word))
    )


@dataclass(frozen=True, slots=True)
class NumberWritten:
    """Where a recogniser's sentence holds a number: the words before it ("C'est le"), the number as
    written with what follows it ("4, 108, 1, 2, 9."), and what follows it alone (".")."""

    prefix: str
    heard: str
    rest: str

    def reading(self, number: str) -> str:
        """The sentence with `number` (digits) in place of the number heard."""
        return f"{self.prefix} {number}{self.rest}".strip()


# What a recogniser writes between the groups of one number ("4, 108, 1", "45-29-29", "458.030"), and
# between the halves of "soixante et onze" written as two ("460 et 11.942" for 471942).
_BETWEEN_GROUPS = re.compile(r"[\s.,;:/\-–]*")
_SPLIT_TENS = re.compile(r"[\s,]*et[\s,]+")
_DIGIT_GROUP = re.compile(r"\d+")


def number_written(text: str, digits: str) -> NumberWritten | None:
    """Where the digit groups that make `digits` (as `extract_order_number` read them) are written in
    `text`, a group joined to them by "et" included; None when they are not written as digits."""
    groups = list(_DIGIT_GROUP.finditer(text))

    def between(index: int) -> str:  # the characters between group `index - 1` and group `index`
        return text[groups[index - 1].end() : groups[index].start()]

    for first in range(len(groups)):
        joined = ""
        for last in range(first, len(groups)):
            if last > first and not _BETWEEN_GROUPS.fullmatch(between(last)):
                break
            joined += groups[last].group()
            if joined == digits:
                start = first
                while start and _tens_split(groups[start - 1].group(), between(start), groups[start].group()):
                    start -= 1
                begin = groups[start].start()
                return NumberWritten(text[:begin].rstrip(), text[begin:], text[groups[last].end() :])
            if not digits.startswith(joined):
                break
    return None


#: One word a recogniser wrote in place of a digit said alone ("4, puis 1, 2, 0, 7." for "quatre, six,
#: un, deux, zéro, sept"; "4 qui, 1, 2, 0, 7."): letters only, with what separates groups around it.
_WORD_FOR_A_DIGIT = re.compile(r"[\s.,;:/\-–]*[^\W\d_]{1,8}[\s.,;:/\-–]*")


def number_short_or_broken(text: str, min_digits: int) -> tuple[str, NumberWritten] | None:
    """A number dictated digit by digit that came out one digit short (`min_digits` - 1 digits), as
    written ("C'est le cas 1, 8, 1, 3, 0." for "quatre, cinq, huit, un, trois, zéro") or once one word
    between two digits written alone is left out ("4, puis 1, 2, 0, 7." for "quatre, six, un, deux,
    zéro, sept"): its digits and where it is written; the first such number, or None.
    `extract_order_number` finds neither: too short, or two runs. A run that is whole once its word is
    left out may be a known order, not a near one: it is not taken. What the digits stand for is for the
    turn's audio to say (`Conversation.order_in_the_turn`)."""
    groups = list(_DIGIT_GROUP.finditer(text))
    first = 0
    while first < len(groups):
        joined, broken, last = groups[first].group(), False, first
        while last + 1 < len(groups):
            between = text[groups[last].end() : groups[last + 1].start()]
            dictated = len(groups[last].group()) == 1 and len(groups[last + 1].group()) == 1
            if _BETWEEN_GROUPS.fullmatch(between):
                pass
            elif not broken and dictated and _WORD_FOR_A_DIGIT.fullmatch(between):
                broken = True
            else:
                break
            last += 1
            joined += groups[last].group()
        if len(joined) == min_digits - 1:
            begin, end = groups[first].start(), groups[last].end()
            return joined, NumberWritten(text[:begin].rstrip(), text[begin:], text[end:])
        first = last + 1
    return None


def _tens_split(before: str, between: str, after: str) -> bool:
    """Whether two digit groups are the halves of a number whose tens take "et" ("460 et 11" for "quatre
    cent soixante et onze", "20 et 1" for "vingt et un"): tens before, a one or an eleven after. "2 et
    458129" is two numbers."""
    return before.endswith("0") and after.startswith("1") and bool(_SPLIT_TENS.fullmatch(between))


def written_forms(digits: str) -> tuple[str, ...]:
    """How a recogniser writes a number a caller reads digit by digit ("4, 5, 8, 1, 2, 9"), in pairs
    ("45, 81, 29"), in threes ("458, 129") or whole ("458 129"): the phrases scored for it."""

    def grouped(size: int) -> str:
        return ", ".join(digits[index : index + size] for index in range(0, len(digits), size))

    whole = f"{int(digits):,d}".replace(",", " ") if digits[0] != "0" else digits
    return tuple(dict.fromkeys((grouped(1), grouped(2), grouped(3), whole)))


@dataclass(frozen=True, slots=True)
class PhoneNumber:
    """A validated phone number: ``e164`` to dial ("+33612345678"), ``national`` to read back
    ("06 12 34 56 78"; the international format for a number abroad)."""

    e164: str
    national: str


def _candidates(run: _Run) -> Iterator[tuple[str, bool]]:
    """Numbers a run may hold: the whole run; when it is too long for a French national number, also every
    span of whole spoken groups that makes ten digits starting with 0 (the caller said more than the
    number)."""
    yield run.digits, run.after_plus
    if run.after_plus or len(run.digits) <= _NATIONAL_DIGITS:
        return
    groups = run.groups
    for start in range(len(groups)):
        for end in range(start + 1, len(groups) + 1):
            span = "".join(groups[start:end])
            if len(span) == _NATIONAL_DIGITS and span.startswith("0"):
                yield span, False


def extract_phone_number(
    text: str, region: str = "FR", allow_premium: bool = False, allow_international: bool = False
) -> PhoneNumber | None:
    """The phone number in ``text``, validated with ``phonenumbers``, or None.

    Reads "zéro six douze trente-quatre cinquante-six soixante-dix-huit", "06 12 34 56 78",
    "06.12.34.56.78", "+33 6 12 34 56 78", "plus trente-trois six douze ..." and "00 33 6 ...". Only
    numbers that ``phonenumbers`` says are valid for their plan come back. Premium-rate numbers
    (PREMIUM_RATE, e.g. 08 9x) are refused unless ``allow_premium``; numbers of another country than
    ``region`` (for "FR", overseas departments count as domestic) unless ``allow_international``; a
    refused number is never cut down to a shorter one that would pass. When a run of digits is longer
    than a national number, a span of whole spoken groups making a valid "0X XX XX XX XX" is taken.
    """
    region = region.upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"unknown phone region {region!r}: use a two-letter ISO country code such as 'FR'")
    domestic = _DOMESTIC_REGIONS.get(region, frozenset({region}))
    for run in _digit_runs(text):
        for digits, international in _candidates(run):
            number = _parse(digits, international, region, domestic)
            if number is None:
                continue
            number_region = phonenumbers.region_code_for_number(number)
            premium = phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.PREMIUM_RATE
            if (premium and not allow_premium) or (number_region not in domestic and not allow_international):
                break  # a real number, refused: never fall back to a part of it
            national_format = (
                phonenumbers.PhoneNumberFormat.NATIONAL
                if number_region in domestic
                else phonenumbers.PhoneNumberFormat.INTERNATIONAL
            )
            return PhoneNumber(
                e164=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
                national=phonenumbers.format_number(number, national_format),
            )
    return None


def _parse(
    digits: str, international: bool, region: str, domestic: frozenset[str]
) -> phonenumbers.PhoneNumber | None:
    if not 8 <= len(digits) <= 15:
        return None
    candidate = f"+{digits}" if international else digits
    # Overseas French numbers are dialled like mainland ones ("0692 ..."): try their plans too.
    for parse_region in [region] if international else [region, *sorted(domestic - {region})]:
        try:
            number = phonenumbers.parse(candidate, parse_region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return number
    return None
