"""Whether a word is French: what the line garbles mostly comes out as no word at all ("attresse" for
"adresse"), while two French words that differ by one sound ("vendue", "fendu") are two meanings.

The word list is pyspellchecker's French frequency list (140 000 words from film subtitles), read once,
in the accent-free lower case the matchers compare words in.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache


def _plain(word: str) -> str:
    decomposed = unicodedata.normalize("NFD", word.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


@lru_cache(maxsize=1)
def _french_words() -> frozenset[str]:
    from spellchecker import SpellChecker  # 0.15 s to read: only when a word is first looked up

    return frozenset(_plain(word) for word in SpellChecker(language="fr").word_frequency.dictionary)


def is_french_word(word: str) -> bool:
    """Whether `word` (any case, accents or not) is a French word."""
    return _plain(word) in _french_words()
