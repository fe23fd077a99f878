"""French words for dates and times, as they reach ``parse_when`` after ``normalize``.

Every pattern is written against normalised text: lowercase, no accents, no punctuation, numbers as
digits ("quatorze heures trente" → "14 heures 30", "14h30" → "14 h 30").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, time

from callbot.calendar_fr import MONTHS as MONTH_LABELS
from callbot.calendar_fr import WEEKDAYS
from callbot.dialog.nlu.french_words import is_french_word

MONTHS = tuple(unicodedata.normalize("NFKD", m).encode("ascii", "ignore").decode() for m in MONTH_LABELS)
# Spellings a recogniser produces for month names.
MONTH_VARIANTS = {
    "fevier": "fevrier",
    "fevrie": "fevrier",
    "out": "aout",
    "juilet": "juillet",
    "decembr": "decembre",
}

# The long weekday names Whisper writes a letter off on an 8 kHz line ("Mertredi à 15h30.", "Merredi",
# "Merdredi" for "mercredi"), which would otherwise leave a bare time, read as today.
_LONG_WEEKDAYS = tuple(day for day in WEEKDAYS if len(day) >= 8)


def weekday_spelling(word: str) -> str:
    """`word`, or the long weekday it is one letter away from (one letter changed, added or dropped)
    when it is no French word itself: "mertredi", "merredi" → "mercredi"; "vendredis" stays a plural
    the normaliser keeps, "merci" stays "merci"."""
    if len(word) < 7 or word in WEEKDAYS or not word.isalpha() or is_french_word(word):
        return word
    return next((day for day in _LONG_WEEKDAYS if _one_edit_apart(word, day)), word)


def _one_edit_apart(left: str, right: str) -> bool:
    if abs(len(left) - len(right)) > 1 or left == right:
        return False
    start = 0
    while start < min(len(left), len(right)) and left[start] == right[start]:
        start += 1
    end = 0
    while end < min(len(left), len(right)) - start and left[-1 - end] == right[-1 - end]:
        end += 1
    return max(len(left), len(right)) - start - end <= 1


# What Whisper writes for a weekday said alone on an 8 kHz line: "jeudi" → "je dis" ("Je dis à 14h30",
# "rappelez-moi je dis"), "jédis"; "samedi" → "ça me dit". Taken for the day only where a day fits: at
# the end, or before a time or a part of the day; never where the words are the sentence's own ("je dis
# ce que je pense", "c'est pas ce que je dis", "comme je dis", "oui ça me dit", "si ça me dit").
_A_TIME_WORD = r"(?:a|vers|matin|apres midi|soir|prochain|en fin|en debut|dans l|\d)\b"
_BEFORE_A_TIME = r"(?= " + _A_TIME_WORD + ")"
# "ce que je dis", "que ça me dit": the verb's own object, even before a time.
_SAID_OF_ITS_OWN = r"(?<!\bque )(?<!\bqu )(?<!\bce )"
# At the end, also "comme je dis", "oui ça me dit", "si ça me dit" ("oui, jeudi à 16 h" keeps its day).
_ENDS_OF_ITS_OWN = _SAID_OF_ITS_OWN + r"(?<!\bcomme )(?<!\bsi )(?<!\boui )(?<!\bouais )"
# At the start of a sentence that names no day, right before a clock time (a time primed into Whisper,
# `Conversation.primer`, brings these out): "demain à quatorze heures" → "Je demande à 14 heures." ("Il
# demande…", "J'ai demandé…"), "demain à seize heures" → "Dommage à 16 heures.", "mercredi vers treize
# heures" → "Merci d'hiver 13h." (development answers). Never "vendredi matin, je demande 10 minutes",
# "non, dommage, à 17 h je travaille" or "je demande 2 choses".
_NO_DAY_NAMED = r"^(?!.*\b(?:" + "|".join((*WEEKDAYS, "demain", "aujourd hui")) + r")\b)"
_BEFORE_A_CLOCK = r"(?= (?:a |vers )?\d+ ?(?:h|heures?)\b)"
DAY_SOUND_ALIKES = (
    (re.compile(_SAID_OF_ITS_OWN + r"\bje dis" + _BEFORE_A_TIME), "jeudi"),
    (re.compile(_ENDS_OF_ITS_OWN + r"\bje dis$"), "jeudi"),
    (re.compile(r"\bjedis?\b"), "jeudi"),
    (re.compile(_SAID_OF_ITS_OWN + r"\b(?:ca|sa) me dit" + _BEFORE_A_TIME), "samedi"),
    (re.compile(_ENDS_OF_ITS_OWN + r"\b(?:ca|sa) me dit$"), "samedi"),
    (re.compile(_NO_DAY_NAMED + r"(?:je |il |j ai )?demande" + _BEFORE_A_CLOCK), "demain"),
    (re.compile(_NO_DAY_NAMED + r"dommage" + _BEFORE_A_CLOCK), "demain"),
    (re.compile(_NO_DAY_NAMED + r"merci d hiver" + _BEFORE_A_CLOCK), "mercredi vers"),
    # "après-demain en début d'après-midi" → "… après de nous en début d'après-midi." (a noisy line)
    (re.compile(r"\bapres de nous(?= " + _A_TIME_WORD + "|$)"), "apres demain"),
)


@dataclass(frozen=True, slots=True)
class PartOfDay:
    """A stretch of the day a caller names ("en fin de matinée"), with the time the bot proposes."""

    label: str
    start: time
    end: time
    representative: time


# Most specific first: "fin de matinée" must be found before "matinée". The representative time is the
# one a call-back is booked at: the start of the window, except for the morning (10:00: after the
# morning rush) and the end of the afternoon (17:00).
PARTS_OF_DAY: tuple[tuple[str, PartOfDay], ...] = (
    (
        r"(?:en |au )?debut (?:de |d )?(?:la )?matinee|(?:tot|de bonne heure) le matin|de bon matin"
        r"|(?:a|de) la premiere heure|des l ouverture|a l ouverture",
        PartOfDay("en début de matinée", time(9), time(10), time(9)),
    ),
    (
        r"(?:en |au )?milieu (?:de |d )?(?:la )?matinee",
        PartOfDay("en milieu de matinée", time(10), time(11), time(10)),
    ),
    (
        r"(?:en |a la )?fin (?:de |d )?(?:la )?matinee|(?:en |a la )?fin de matin(?:ee)?",
        PartOfDay("en fin de matinée", time(11), time(12), time(11)),
    ),
    (
        r"(?:a l heure du |pendant la pause |a la pause |pause )dejeuner|entre midi et (?:2|14 h|14 heures)"
        r"|(?:sur le temps|a l heure) de midi",
        PartOfDay("à l'heure du déjeuner", time(12), time(14), time(12)),
    ),
    (
        r"(?:en |au )?debut (?:d |de l )?apres midi",
        PartOfDay("en début d'après-midi", time(13, 30), time(15), time(14)),
    ),
    (
        r"(?:en |au )?milieu (?:d |de l )?apres midi",
        PartOfDay("en milieu d'après-midi", time(15), time(16), time(15)),
    ),
    (
        r"(?:en |a la )?fin (?:d |de l )?apres midi",
        PartOfDay("en fin d'après-midi", time(16), time(18), time(17)),
    ),
    (
        r"(?:en |au )?debut (?:de |d )?(?:la )?journee",
        PartOfDay("en début de journée", time(9), time(10), time(9)),
    ),
    (
        r"(?:en |a la )?fin (?:de |d )?(?:la )?journee",
        PartOfDay("en fin de journée", time(17), time(19), time(17)),
    ),
    (
        r"(?:en |au )?debut (?:de |d )?(?:la )?soiree",
        PartOfDay("en début de soirée", time(18), time(19, 30), time(18)),
    ),
    (
        r"(?:en |a la )?fin (?:de |d )?(?:la )?soiree",
        PartOfDay("en fin de soirée", time(20), time(22), time(20)),
    ),
    (
        r"(?:dans l |cet |l |en |d )?apres midi",
        PartOfDay("l'après-midi", time(14), time(18), time(14)),
    ),
    (
        r"(?:dans la |en |la |le |au |ce |cette |du )?(?:matinee|matin)",
        PartOfDay("le matin", time(9), time(12), time(10)),
    ),
    (
        r"(?:dans la |en |la |le |ce |cette |du )?(?:soiree|soir)",
        PartOfDay("le soir", time(18), time(21), time(18)),
    ),
    (r"(?:dans la |en |la |cette )?nuit", PartOfDay("la nuit", time(21), time(23), time(21))),
    (r"(?:dans la |en |la |toute la )journee", PartOfDay("dans la journée", time(9), time(18), time(9))),
)
# "ce midi", "demain midi", "lundi midi": lunchtime, not the stroke of noon ("à midi").
LUNCH = PartOfDay("à l'heure du déjeuner", time(12), time(14), time(12))
# The window of a day named without a time ("jeudi"), used for earliest/latest and the proposed time.
WORKING_DAY = PartOfDay("dans la journée", time(9), time(18), time(9))

_UNIT_WORDS = (
    r"minutes?|mn|min|secondes?|jours?|semaines?|mois|ans?|annees?|euros?|fois|h|heures?|er|eme|ieme"
    r"|personnes?|articles?|produits?|commandes?|pour ?cent|" + "|".join(MONTHS)
)
# A clock time: "14 h", "14 heures 30", "9 heures et demie", "10 heures moins le quart", "midi et quart",
# "minuit"; or a bare hour after a preposition ("à 10", "entre 14 et 16 h", "vers 3").
TIME_RE = re.compile(
    r"\b(?:"
    r"(?P<h>\d{1,2}|une) (?:h|heures?)(?: (?P<m>\d{1,2})(?! (?:h|heures?)\b)(?: (?:minutes?|mn|min))?)?"
    r"(?: (?P<frac>et quart|et demie?|moins le quart|moins quart|moins (?P<mm>\d{1,2})(?: minutes?)?))?"
    r"|(?<!apres )(?P<named>midi|minuit)(?: (?P<nm>\d{1,2})(?! (?:h|heures?)\b))?"
    r"(?: (?P<nfrac>et quart|et demie?|moins le quart|moins quart|moins (?P<nmm>\d{1,2})))?"
    r"|(?P<prep>a|vers|pour|des|apres|avant|entre|et|de|jusqu a|environ|ou) (?P<bare>\d{1,2})"
    rf"(?: (?P<bm>[0-5]\d))?(?! (?:{_UNIT_WORDS})\b)(?! \d)"
    r")\b"
)
# Words just before a time that make it approximate ("vers 14 h") or a bound ("après 18 h").
APPROXIMATE_BEFORE = re.compile(
    r"\b(?:vers|environ|aux alentours de|autour de|a peu pres|sur les coups de|dans les|plus ou moins|"
    r"approximativement|grosso modo)(?: les?)? ?$"
)
APPROXIMATE_AFTER = re.compile(r"^ (?:environ|a peu pres|plus ou moins|approximativement)\b")
EARLIEST_BEFORE = re.compile(
    r"\b(?:apres|a partir de|des|pas avant|au plus tot a|plus tard que)(?: les?)? ?$"
)
LATEST_BEFORE = re.compile(r"\b(?:avant|jusqu a|au plus tard a|au plus tard|pas apres|d ici)(?: les?)? ?$")
WINDOW_START_BEFORE = re.compile(r"\b(?:entre|de)(?: les?)? ?$")
# "j'ai attendu 2 heures", "depuis 3 heures": durations, not clock times.
DURATION_BEFORE = re.compile(r"\b(?:pendant|depuis|durant|attendu|patiente|ca fait|cela fait|il y a)$")
MERIDIEM_AFTER = re.compile(
    r"^ (?P<word>du matin|de la matinee|de l apres midi|de l aprem|du soir|de la soiree|de la nuit)\b"
)
# Right now, as said ("tout de suite", "à l'instant"): the immediate call-back, or the moment the caller
# cannot talk (NOT_NOW_RE).
_RIGHT_NOW = r"(?:tout de suite|maintenant|immediatement|des maintenant|a l instant)"
IMMEDIATE_RE = re.compile(
    rf"\b(?<!pas )(?:{_RIGHT_NOW}|des que possible|au plus vite|au plus tot|le plus tot possible|"
    r"le plus vite possible|rapidement|sur le champ)\b"
)
# "j'ai pas (trop) le temps maintenant", "je ne suis pas disponible tout de suite", "je suis occupé à
# l'instant": now is when the caller cannot talk, not the time asked for ("je suis disponible
# maintenant" is).
NOT_NOW_RE = re.compile(
    r"\b(?:(?:pas|plus)(?: \w+){0,2} (?:le temps|dispo|disponible)|occupe|occupee)\b(?: \w+){0,3}? "
    rf"{_RIGHT_NOW}\b"
)
# "dans 2 heures", "dans une demi heure", "d ici 30 minutes", "dans 15 jours", "il y a 2 heures".
RELATIVE_RE = re.compile(
    r"\b(?P<kind>dans|d ici|il y a)(?: (?:environ|a peu pres|approximativement|genre|juste))?"
    r" (?P<amount>\d+|une?|quelques|une demi|un quart d|1 demi|1 quart d)"
    r" ?(?P<unit>minutes?|mn|min|heures?|h|jours?|semaines?|mois)\b"
    r"(?: (?P<extra>et demie?|et quart|\d{1,2}(?: minutes?)?))?"
)
WITHIN_THE_HOUR_RE = re.compile(r"\bdans l heure\b")
# A call that already happened, with the time it happened: "vous m'avez appelé ce matin", "un conseiller
# devait me rappeler hier à 10 h", "j'ai manqué votre appel de ce matin". That time is no call-back time:
# at 10:30, "ce matin" read as one booked a call-back between 10 h 30 and 12 h. "Être rappelé demain"
# is the request, so "été" counts only after its auxiliary ("j'ai été rappelé").
_HAVE = r"(?:ai|as|a|avons|avez|ont|avais|avait|aviez|avaient)"
_PAST_CALL = (
    rf"\b(?:(?:{_HAVE}|(?:ai|a|avons|avez|ont) ete)(?: (?:deja|bien|pas))?"
    r" (?:r?appelee?s?|telephone|(?:re)?contactee?s?|joint|jointe)"
    rf"|{_HAVE} (?:essaye|tente|cherche) (?:de|d|a) (?:me |m |nous |vous )?"
    r"(?:appeler|rappeler|joindre|contacter|telephoner)"
    rf"|{_HAVE} laisse (?:un |des )?messages?"
    r"|(?:devait|deviez|devais|devaient|devions|aurait du|auriez du|aurais du|etait cense|etiez cense)"
    r" (?:me |m |nous |vous )?(?:rappeler|appeler|telephoner|contacter|recontacter)"
    r"|(?:manque|rate|loupe|recu|eu) (?:votre |un |l |vos |des |mon |son )?appels?"
    r"(?: (?:manques?|en absence|de votre part|de chez vous|de vous))*(?: de| d| du)?"
    r"|appels? (?:manques?|en absence)(?: de| d| du)?)"
)
_WEEKDAY = "(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)"


def _past_clock(n: int) -> str:
    """A clock time, optional, as the `n`th of a pattern: its words and its hour are named groups."""
    clock = r"(?: \d{1,2}| et demie| et quart)?"
    return rf"(?P<clock{n}> (?:(?:vers|a|environ) )?(?P<hour{n}>\d{{1,2}}) (?:h|heures?){clock})?"


#: When such a call came: a day phrase and a clock time, either or both, in either order ("hier à 16 h",
#: "à 9 h ce matin").
PAST_CALL_TIME_RE = re.compile(
    _PAST_CALL
    + _past_clock(1)
    + r"(?P<day> (?:hier|avant hier|ce matin|cet apres midi|ce midi|ce soir|tout a l heure"
    + rf"|la semaine (?:derniere|passee)|{_WEEKDAY}(?: dernier)?)(?: (?:matin|apres midi|midi|soir))?)?"
    + _past_clock(2)
    + r"\b"
)
#: The hours a past call said with a part of the day can have come at, on a 24-hour clock ("ce matin à
#: 16 h" is two times; "hier soir à 8 h" is 20 h).
PAST_PART_HOURS = {  # "après-midi" before "midi"
    "apres midi": range(12, 20),
    "matin": range(5, 13),
    "midi": range(11, 15),
    "soir": range(17, 24),
}
#: A clause after a past call that asks for a time of its own ("…, lundi à 14 h ça m'irait").
REQUEST_CUE_RE = re.compile(
    r"\b(?:ca m (?:irait|arrange|arrangerait)|ca (?:me )?(?:va|irait)|c est possible|si possible|plutot|"
    r"rappel\w*|ce serait (?:bien|mieux)|je prefere\w*|mieux|je suis (?:disponible|dispo|libre)|pouvez|"
    r"pourriez|voudrais|aimerais|souhaite)\b"
)
LATER_TODAY_RE = re.compile(r"\b(?:tout a l heure|plus tard dans la journee|un peu plus tard|tantot)\b")

# ------------------------------------------------------------------------------- French for the explanation


def short_date(day: date) -> str:
    """ "mardi 1er décembre"."""
    number = "1er" if day.day == 1 else str(day.day)
    return f"{WEEKDAYS[day.weekday()]} {number} {MONTH_LABELS[day.month - 1]}"


def describe_day(day: date, today: date) -> str:
    """ "demain, mardi 24 novembre", "jeudi 3 décembre", "vendredi 1er janvier 2027"."""
    label = short_date(day)
    if day.year != today.year:
        label += f" {day.year}"
    relative = {0: "aujourd'hui", 1: "demain", 2: "après-demain"}.get((day - today).days)
    return f"{relative}, {label}" if relative else label


def clock_words(moment: time) -> str:
    """ "14 h", "9 h 30", "midi", "minuit"."""
    if moment == time(12):
        return "midi"
    if moment == time(0):
        return "minuit"
    return f"{moment.hour} h" if moment.minute == 0 else f"{moment.hour} h {moment.minute:02d}"
