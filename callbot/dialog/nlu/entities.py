"""Find which of a known list of names (stores, products, cities) the caller mentioned."""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from callbot.dialog.nlu.lexicon import canonical_words
from callbot.dialog.nlu.normalize import normalize
from callbot.dialog.nlu.similarity import FILLERS, light_stem, phonetic_key, word_similarity

DEFAULT_ENTITY_THRESHOLD = 0.6
# Only articles and prepositions: in a name, "bon" or "grand" are part of what the caller says.
_NAME_STOP_WORDS = frozenset(
    {"le", "la", "les", "l", "de", "du", "des", "d", "a", "au", "aux", "et", "en", "un", "une"}
)
# Model codes ("X200", "V8") are rarely said, and misrecognised when they are: missing one costs less.
_CODE_WEIGHT_SHARE = 0.5
# A word heard that belongs to one name only ("Confluence", "Marseille") points at that name even when
# the rest of it was not said: the score becomes 0.5 + 0.5 × the share heard.
_UNIQUE_WORD_FLOOR = 0.5
_UNIQUE_WORD_MATCH = 0.85


@dataclass(frozen=True, slots=True)
class EntityScore:
    """How well ``name`` is found in an utterance: ``score`` is the weighted share of its words heard."""

    name: str
    score: float
    matched_weight: float


def _query_words(text: str) -> list[str]:
    words = [word for word in canonical_words(normalize(text).split()) if word not in FILLERS]
    # Also the pairs glued together: "x 200" → "x200", "part dieu" → "partdieu".
    return words + [left + right for left, right in itertools.pairwise(words)]


def _name_words(name: str) -> list[str]:
    words = normalize(name).split()
    content = [word for word in words if word not in _NAME_STOP_WORDS]
    return content or words


# On an 8 kHz line vowels are what Whisper gets wrong in names ("Rivali" for "Rivoli"): two words with the
# same first letter and the same consonants in the same order (at least three) are taken for the same
# name word, less surely ("implier" is not "ampoule").
_SAME_CONSONANTS = 0.75
_VOWELS = re.compile(r"[aeiouy]+")


def _consonants(word: str) -> str:
    return re.sub(r"(.)\1+", r"\1", _VOWELS.sub("", phonetic_key(word)))


# Grammar words that sound like a name's word ("vers" / "verre", "sans" / "cent", "sur" / "sûr"): heard in
# "un magasin vers chez moi", they are the sentence's grammar, never a partial mention of the name.
_GRAMMAR_HEARD = frozenset(
    {"vers", "pour", "sur", "sans", "dans", "chez", "avec", "mais", "donc", "car", "quand", "comme", "ou"}
)


def _name_similarity(name_word: str, heard: str) -> float:
    if heard in _GRAMMAR_HEARD and heard != name_word:
        return 0.0
    similarity = word_similarity(name_word, heard)
    if similarity >= _SAME_CONSONANTS or heard.isdigit() or name_word.isdigit():
        return similarity
    skeleton = _consonants(name_word)
    same = len(skeleton) >= 3 and skeleton == _consonants(heard) and name_word[0] == heard[0]
    return _SAME_CONSONANTS if same else similarity


def rank_entities(text: str, names: Sequence[str]) -> list[EntityScore]:
    """Every name with its score for ``text``, best first (ties keep the order of ``names``).

    A name's words are weighted by how rare they are among the names (``1 + ln(N / df)``: "part dieu"
    tells Lyon stores apart, "lyon" does not), model codes with digits at half weight. The score is the
    weighted share of the name's words found in the utterance, each word matched with
    ``word_similarity`` (same stem, same sound, or close spelling: "par dieu" finds "Part-Dieu"). When a
    word that only this name has is heard ("Confluence", "Marseille"), the score is raised to
    0.5 + 0.5 × that share: the caller named it, even without its other words.
    """
    if isinstance(names, str):
        raise ValueError("names must be a list of names, not one string")
    heard = _query_words(text)
    if not heard or not names:
        return []
    tokenised = [_name_words(name) for name in names]
    document_frequency: dict[str, int] = {}
    for words in tokenised:
        for stem in {light_stem(word) for word in words}:
            document_frequency[stem] = document_frequency.get(stem, 0) + 1
    scores: list[EntityScore] = []
    for name, words in zip(names, tokenised, strict=True):
        total = matched = 0.0
        unique_word_heard = False
        for word in words:
            frequency = document_frequency[light_stem(word)]
            weight = 1.0 + math.log(len(names) / frequency)
            is_code = any(char.isdigit() for char in word)
            if is_code:
                weight *= _CODE_WEIGHT_SHARE
            similarity = max((_name_similarity(word, candidate) for candidate in heard), default=0.0)
            total += weight
            matched += weight * similarity
            unique_word_heard |= frequency == 1 and not is_code and similarity >= _UNIQUE_WORD_MATCH
        share = matched / total if total else 0.0
        if unique_word_heard and len(names) > 1:
            share = _UNIQUE_WORD_FLOOR + (1.0 - _UNIQUE_WORD_FLOOR) * share
        scores.append(EntityScore(name, share, matched))
    order = {name: index for index, name in enumerate(names)}
    scores.sort(key=lambda entity: (-round(entity.score, 6), -entity.matched_weight, order[entity.name]))
    return scores


def match_entity(text: str, names: Sequence[str], threshold: float = DEFAULT_ENTITY_THRESHOLD) -> str | None:
    """The name from ``names`` the caller mentioned, or None if none reaches ``threshold`` or two tie.

    "le magasin de lyon part dieu" → "Lyon Part-Dieu"; "un aspirateur robot" → "Aspirateur robot X200"
    when no other name has both words. When two names score the same ("lyon" with two Lyon stores, if it
    reached the threshold), None: the dialog should ask which one (``rank_entities`` lists them).
    """
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], got {threshold!r}")
    ranked = rank_entities(text, names)
    if not ranked or ranked[0].score < threshold:
        return None
    best = ranked[0]
    if len(ranked) > 1:
        second = ranked[1]
        if math.isclose(second.score, best.score, abs_tol=1e-6) and math.isclose(
            second.matched_weight, best.matched_weight, abs_tol=1e-6
        ):
            return None
    return best.name


#: A word of the utterance this close to a word of the name it mentions is part of the mention.
_MENTION_WORD = 0.85


def without_mention(text: str, names: Sequence[str], threshold: float = DEFAULT_ENTITY_THRESHOLD) -> str:
    """``text`` (normalised) without the words of the name it mentions, if it mentions one.

    What a caller asks is in the words around a store or product name, not in the name: "est-ce que vous
    en avez au magasin de Paris Rivoli" asks about stock whatever the store. Removing the name keeps
    its words from diluting the request when intents are matched.
    """
    found = match_entity(text, names, threshold)
    words = normalize(text).split()
    if found is None:
        return " ".join(words)
    name_words = _name_words(found)
    kept = [
        word
        for word in words
        if max((word_similarity(word, part) for part in name_words), default=0.0) < _MENTION_WORD
    ]
    return " ".join(kept)
