"""One canonical form for French recogniser output, shared by every NLU function.

Whisper writes "J'aimerais être rappelé demain à 14h30, au 06 12 34 56 78." while Vosk writes
"j aimerais être rappelé demain à quatorze heures trente au zéro six douze trente quatre cinquante six
soixante dix huit". Both must reach the matchers and slot extractors as the same string, so that every rule
is written once, against one spelling.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from text_to_num import alpha2digit

_APOSTROPHES = re.compile(r"[’‘`´ʼ′]")
_DASHES = re.compile(r"[-‐‑‒–—―]")
_PLUS_BEFORE_DIGIT = re.compile(r"\+\s*(?=\d)")
_BARE_ZERO = re.compile(r"\bzero\b")
# "14h30", "14 h 30", "14:30" and "14h" all become "14 h 30" / "14 h": one spelling for the time parser.
_CLOCK_COLON = re.compile(r"\b(\d{1,2})\s*[:h]\s*(\d{2})\b")
_CLOCK_H = re.compile(r"\b(\d{1,2})h\b")
_NON_WORD = re.compile(r"[^a-z0-9]+")

# text2num converts isolated numbers only from this value up: "deux heures" → "2 heures" while a lone
# "un"/"une" stays a word ("un conseiller", "une personne"). Inside a run of numbers "un" is converted
# ("quatre cinq un" → "4 5 1"), which is what digit-by-digit dictation needs.
_ISOLATED_NUMBER_THRESHOLD = 2


def strip_accents(text: str) -> str:
    """Remove diacritics: "être rappelé à Besançon" → "etre rappele a Besancon"."""
    decomposed = unicodedata.normalize("NFKD", text)
    folded = "".join(char for char in decomposed if not unicodedata.combining(char))
    return folded.replace("œ", "oe").replace("æ", "ae").replace("Œ", "OE").replace("Æ", "AE")


@lru_cache(maxsize=4096)
def normalize(text: str) -> str:
    """Return the canonical form of a French utterance; every NLU rule is written against it.

    Steps, in order:
    1. Unicode NFKC and lowercase; typographic apostrophes (’ ‘ ` ´) become "'".
    2. Elisions and hyphens are split: "j'aimerais" → "j aimerais", "qu'on" → "qu on",
       "aujourd'hui" → "aujourd hui", "Part-Dieu" → "part dieu", "dix-huit" → "dix huit".
    3. A "+" before digits becomes the word "plus" ("+33 6" → "plus 33 6"), as if spoken.
    4. Number words become digits with text2num (``alpha2digit(text, "fr")``): "quatorze heures trente" →
       "14 heures 30", "zéro six douze" → "06 12" (also when the recogniser wrote "zero" without its
       accent). Isolated "un"/"une" stay words ("un conseiller", "dans une heure"); "deux" and up are
       converted even alone ("dans deux heures" → "dans 2 heures"). Groups the speaker separated stay
       separated ("45 81 29"): joining them is the slot extractors' job.
    5. Accents are stripped ("rappelé" → "rappele", "ça" → "ca").
    6. Clock times get one spelling: "14h30", "14:30", "14 h 30" → "14 h 30"; "14h" → "14 h".
    7. Everything that is not a letter or a digit becomes a space; spaces are collapsed.

    Words are otherwise kept as spoken (no stemming, no stop-word removal): that is left to the matchers,
    which need the raw words to read negations ("pas", "ne") and small function words ("c est ca").
    """
    lowered = unicodedata.normalize("NFKC", text).lower()
    lowered = _APOSTROPHES.sub("'", lowered).replace("'", " ")
    lowered = _DASHES.sub(" ", lowered)
    lowered = _PLUS_BEFORE_DIGIT.sub(" plus ", lowered)
    # text2num only knows "zéro" with its accent; recognisers often drop it.
    lowered = _BARE_ZERO.sub("zéro", lowered)
    converted = alpha2digit(lowered, "fr", threshold=_ISOLATED_NUMBER_THRESHOLD)
    folded = strip_accents(converted)
    folded = _CLOCK_COLON.sub(r"\1 h \2", folded)
    folded = _CLOCK_H.sub(r"\1 h", folded)
    return " ".join(_NON_WORD.sub(" ", folded).split())


def tokens(text: str) -> list[str]:
    """The words of ``normalize(text)``."""
    return normalize(text).split()
