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
# A word several aliases of one entry share counts as that entry's own only when it is a long one
# ("filament"): "part" and "dieu" of "Part-Dieu", "bureau" of "lampe de bureau" are everyday words too
# ("de la part de mon mari", "je suis au bureau").
_OWN_WORD_MIN_LETTERS = 7
# Words of place and product names that callers also say for themselves: "un grand magasin", "la place",
# "les frais de port", "en centre-ville". Heard alone, they name nothing.
_COMMON_NAME_WORDS = frozenset(
    {
        "grand", "grande", "petit", "petite", "place", "rue", "avenue", "boulevard", "quai", "centre",
        "ville", "port", "gare", "vieux", "vieille", "nouveau", "nouvelle", "saint", "sainte", "haut", "bas",
        "bon", "bonne", "led", "noir", "noire", "blanc", "blanche", "mini", "maxi", "pro", "plus",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class EntityScore:
    """How well ``name`` is found in an utterance: ``score`` is the weighted share of its words heard."""

    name: str
    score: float
    matched_weight: float


def _query_words(text: str) -> list[tuple[str, bool]]:
    """The utterance's words, then the pairs glued together ("x 200" → "x200", "part dieu" →
    "partdieu"), each with whether it is such a pair."""
    words = [word for word in canonical_words(normalize(text).split()) if word not in FILLERS]
    return [(word, False) for word in words] + [
        (left + right, True) for left, right in itertools.pairwise(words)
    ]


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
    # and the words a call opens and answers with.
    | {"bonjour", "salut", "oui", "non", "merci"}
)
#: "Allô" as the recogniser writes it: the call's own word even where a name is written the same
#: ("Allô, bonjour." named the plafonnier Halo).
_CALL_WORDS = frozenset({"allo", "alo", "halo"})


def _name_similarity(name_word: str, heard: str, glued: bool = False) -> float:
    if heard in _CALL_WORDS or (heard in _GRAMMAR_HEARD and heard != name_word):
        return 0.0
    similarity = word_similarity(name_word, heard)
    # Two words glued share a long consonant skeleton with many names by chance ("miroir soleil" and
    # "Marseille" are both m-r-s-l): only their spelling counts.
    if similarity >= _SAME_CONSONANTS or heard.isdigit() or name_word.isdigit() or glued:
        return similarity
    skeleton = _consonants(name_word)
    same = len(skeleton) >= 3 and skeleton == _consonants(heard) and name_word[0] == heard[0]
    return _SAME_CONSONANTS if same else similarity


def rank_entities(text: str, names: Sequence[str], entries: Sequence[str] | None = None) -> list[EntityScore]:
    """Every name with its score for ``text``, best first (ties keep the order of ``names``).

    A name's words are weighted by how rare they are among the entries named (``1 + ln(N / df)``: "part
    dieu" tells Lyon stores apart, "lyon" does not), model codes with digits at half weight. ``entries``
    gives each name's entry when several names are aliases of one entry ("ampoule à filament" and
    "ampoule LED à filament"): a word all the aliases of one entry share is still that entry's own word,
    not a common one. The score is the
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
    if entries is not None and len(entries) != len(names):
        raise ValueError("entries must give one entry per name")
    owners = list(entries) if entries is not None else list(names)
    tokenised = [_name_words(name) for name in names]
    entries_with: dict[str, set[str]] = {}
    names_with: dict[str, int] = {}
    for owner, words in zip(owners, tokenised, strict=True):
        for stem in {light_stem(word) for word in words}:
            entries_with.setdefault(stem, set()).add(owner)
            names_with[stem] = names_with.get(stem, 0) + 1
    entry_count = len(set(owners))
    scores: list[EntityScore] = []
    for name, words in zip(names, tokenised, strict=True):
        total = matched = 0.0
        unique_word_heard = False
        for word in words:
            frequency = len(entries_with[light_stem(word)])
            weight = 1.0 + math.log(entry_count / frequency)
            is_code = any(char.isdigit() for char in word)
            if is_code:
                weight *= _CODE_WEIGHT_SHARE
            similarity = max(
                (_name_similarity(word, candidate, glued) for candidate, glued in heard), default=0.0
            )
            total += weight
            matched += weight * similarity
            unique_word_heard |= (
                frequency == 1
                and not is_code
                and word not in _COMMON_NAME_WORDS
                and (names_with[light_stem(word)] == 1 or len(word) >= _OWN_WORD_MIN_LETTERS)
                and similarity >= _UNIQUE_WORD_MATCH
            )
        share = matched / total if total else 0.0
        if unique_word_heard and entry_count > 1:
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


# --- a name heard across word boundaries --------------------------------------------------------------
# On the line Whisper cuts a name it does not know into other words: "Vieux-Port" → "vie report", "Grand
# Place" → "grande classe". Word by word nothing matches; said aloud, the words sound like the name. The
# name's content words and each span of the utterance's words are compared as one sound string.

#: A span must sound this close to the name (1 − weighted edit distance ÷ the longer length).
SOUND_ALIKE_THRESHOLD = 0.75
#: Only names this long as sounds: a short key ("lil", "pari") is found by chance in any sentence.
_SOUND_ALIKE_MIN_KEY = 6
#: The best entry must lead any other entry by this much.
_SOUND_ALIKE_MARGIN = 0.1
_KEY_VOWELS = frozenset("aeiouy")


def _sound_key(words: Sequence[str]) -> str:
    # "z" only marks an "s" between vowels in the key: "place" and "classe" end the same to the ear.
    return "".join(phonetic_key(word) for word in words).replace("z", "s")


def _substitution_cost(left: str, right: str) -> float:
    if left == right:
        return 0.0
    # Vowels are what an 8 kHz line blurs most ("vie" for "vieux"): half an edit.
    return 0.5 if left in _KEY_VOWELS and right in _KEY_VOWELS else 1.0


def sound_similarity(left: str, right: str) -> float:
    """1 − the weighted edit distance of two sound keys ÷ the longer one's length, in [0, 1]."""
    if not left or not right:
        return 0.0
    previous = [float(index) for index in range(len(right) + 1)]
    for row, left_char in enumerate(left, start=1):
        current = [float(row)]
        for column, right_char in enumerate(right, start=1):
            current.append(
                min(
                    previous[column] + 1.0,
                    current[column - 1] + 1.0,
                    previous[column - 1] + _substitution_cost(left_char, right_char),
                )
            )
        previous = current
    return max(0.0, 1.0 - previous[-1] / max(len(left), len(right)))


def spoken_similarity(heard: str, said: str) -> float:
    """How alike two short phrases sound as said, articles and elisions included ("l'huile" and
    "Lille" are both /l…il/): `sound_similarity` of their sound keys."""
    return sound_similarity(
        _sound_key(canonical_words(normalize(heard).split())),
        _sound_key(canonical_words(normalize(said).split())),
    )


#: Articles and prepositions Whisper elides onto the next word: "de Rivoli" written "d'Orifolie".
_ELIDED = frozenset({"d", "l"})


def _span_keys(span: Sequence[str], before: str) -> list[str]:
    """The sound key of `span`, and after an elided "d'"/"l'" whose word starts with a vowel, the key
    without that vowel too: "de Rivoli" came back "d'Orifolie", the "de" written as "d'O" (two
    development calls)."""
    keys = [_sound_key(span)]
    stripped = span[0].lstrip("aeiouy")
    if before in _ELIDED and stripped and stripped != span[0]:
        keys.append(_sound_key([stripped, *span[1:]]))
    return keys


def sounds_like(text: str, names: Sequence[str], entries: Sequence[str] | None = None) -> str | None:
    """The entry whose name the words of ``text`` sound like, heard across word boundaries ("le magasin
    du vie report" → "Vieux-Port"), or None when no name of at least six sounds comes within
    ``SOUND_ALIKE_THRESHOLD`` or two entries come close. A second chance, after ``rank_entities``."""
    owners = list(entries) if entries is not None else list(names)
    words = canonical_words(normalize(text).split())
    best: dict[str, float] = {}
    for name, owner in zip(names, owners, strict=True):
        name_words = _name_words(name)
        key = _sound_key(name_words)
        if len(key) < _SOUND_ALIKE_MIN_KEY:
            continue
        longest = len(name_words) + 1
        for start in range(len(words)):
            for end in range(start + 1, min(len(words), start + longest) + 1):
                span = words[start:end]
                if span[0] in _NAME_STOP_WORDS and len(span) > 1:
                    continue  # the article before a name is not part of its sound
                for heard in _span_keys(span, words[start - 1] if start else ""):
                    if heard[:1] != key[:1]:
                        continue  # a name is heard from its first sound: "atelier" is not "Châtelet"
                    similarity = sound_similarity(heard, key)
                    if similarity > best.get(owner, 0.0):
                        best[owner] = similarity
    ranked = sorted(best.items(), key=lambda item: -item[1])
    if not ranked or ranked[0][1] < SOUND_ALIKE_THRESHOLD:
        return None
    if len(ranked) > 1 and ranked[0][1] - ranked[1][1] < _SOUND_ALIKE_MARGIN:
        return None
    return ranked[0][0]
