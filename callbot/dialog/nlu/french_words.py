"""Whether a word is French: what the line garbles mostly comes out as no word at all ("attresse" for
"adresse"), while two French words that differ by one sound ("vendue", "fendu") are two meanings.

The word list is pyspellchecker's French frequency list (140 000 words from film subtitles), read once,
in the accent-free lower case the matchers compare words in; an entry with an apostrophe or a hyphen
("aujourd'hui", "peut-être") gives its parts, as `normalize` splits them.
"""

from __future__ import annotations

import re
import threading
import unicodedata

_LOCK = threading.Lock()
_WORDS: frozenset[str] | None = None


def _plain(word: str) -> str:
    decomposed = unicodedata.normalize("NFD", word.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def french_words() -> frozenset[str]:
    """The list, read on first use (0.2–0.4 s; `SpeechStack.warm_closed_sets` reads it before calls)."""
    global _WORDS
    with _LOCK:
        if _WORDS is None:
            from spellchecker import SpellChecker

            entries = SpellChecker(language="fr").word_frequency.dictionary
            _WORDS = frozenset(
                part for entry in entries for part in re.split(r"['’\-.]", _plain(entry)) if part
            )
        return _WORDS


def is_french_word(word: str) -> bool:
    """Whether `word` (any case, accents or not) is a French word."""
    return _plain(word) in french_words()
