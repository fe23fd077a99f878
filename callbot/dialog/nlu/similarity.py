"""Word-level tools that let a matcher see through recognition errors and inflection.

Three layers, cheapest first, all over normalised (lowercase, accent-free) words:
- ``light_stem`` folds French inflection and derivation that a recogniser confuses because they sound
  alike: rappeler / rappelé / rappelez / rappelle / rappel → "rappel", conseiller / conseillère /
  conseillé → "conseil", horaire / horaires → "horair".
- ``phonetic_key`` folds spellings that sound the same ("horraire"/"oraire", "comande", "fermeture"/
  "fermetures", "ph"/"f", "qu"/"k"), so that a homophone the recogniser picked still matches.
- ``trigram_similarity`` (Dice coefficient over character trigrams of the padded word) scores the
  remaining misspellings ("commende" vs "commande" 0.62, "livre" vs "libre" 0.4).
"""

from __future__ import annotations

import re
from functools import lru_cache

from callbot.dialog.nlu.french_words import is_french_word


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Words that carry grammar (and greetings), not meaning. They still count in matching, with a small
# weight, because short answers are made of them ("c est ca", "pas du tout"). Negations ("pas", "ne",
# "non", "sans", "jamais", "rien"), "ou" ("où" once accents are gone) and "ca" ("c'est ça") are
# deliberately absent: they flip meanings, ask questions, give answers.
STOP_WORDS = _word_set(
    """
    a ai al alors as au aux avec avez avons c ce ceci cela celle celui ces cet cette chez d dans de des du
    elle elles en est et etait etes eu il ils j je l la le les leur leurs lui m ma me mes moi mon n nos
    notre nous on ont par pour qu que quel quelle quelles quels qui s sa se ses si son sont sur t ta te tes
    toi ton tu un une vos votre vous y ete etre avoir fait faire plait sera serait seront serai suis es
    sommes etais etaient aura aurai aurait avait avaient va vais vas vont donc puis bon
    bonjour bonsoir allo madame monsieur mademoiselle
    """
)
# Words that frame any request ("je voudrais savoir si...", "je vous appelle parce que...", "je suis très
# pressé"): intensifiers included, which say how, not what; "client", which says who calls ("je suis
# cliente chez vous": only the example "le service client" had it, so "Je suis client." was a transfer);
# "vrai" ("C'est vrai." was a person asked for, from "une vraie personne"). A handful of examples may use
# them in one intent only, which would make them look discriminative; they are given a fixed low weight
# instead.
GENERIC_WORDS = _word_set(
    """
    veux veut voulez voudrais voudrait voudrions voulais voulait souhaite souhaiterais souhaitais souhaitons
    aimerais aimerait savoir sais sait saurais connaitre peux peut pouvez pourriez pourrais pourrait
    demander demande dire besoin question appelle appele appeler parce car comme aussi juste tres vraiment
    client cliente clients clientes vrai vraie vrais vraies
    """
)
# Hesitations a recogniser transcribes; they carry nothing and are dropped before matching.
FILLERS = _word_set("euh heu hum hmm mmh mh bah ben hein beh eh voila")

# Suffixes folded by light_stem, longest first: derivations (which must leave a stem of at least four
# letters, so that "relation" is not cut to "rel"), then verb endings, then plural and feminine marks
# (which may leave three letters).
_DERIVATION_SUFFIXES = (
    "issements",
    "issement",
    "ements",
    "ement",
    "ations",
    "ation",
    "aisons",
    "aison",
    "atrices",
    "atrice",
    "ateurs",
    "ateur",
    "etures",
    "eture",
    "ures",
    "ure",
    "euses",
    "euse",
    "eurs",
    "eur",
    "ments",
    "ment",
)
_INFLECTION_SUFFIXES = (
    "eraient",
    "erions",
    "eriez",
    "erais",
    "erait",
    "erai",
    "eras",
    "era",
    "erons",
    "erez",
    "eront",
    "aient",
    "ait",
    "ais",
    "ions",
    "iez",
    "eres",
    "ere",
    "ers",
    "ees",
    "ee",
    "es",
    "er",
    "ez",
    "e",
    "s",
    "x",
)
_MIN_STEM = 3
_MIN_DERIVED_STEM = 4
_DOUBLED_FINAL = re.compile(r"([bcdfglmnprst])\1$")


@lru_cache(maxsize=65536)
def light_stem(word: str) -> str:
    """Fold inflection so that forms a recogniser mixes up meet: "rappelé"/"rappeler"/"rappel" → "rappel".

    Deliberately lighter than Snowball: one suffix (derivation such as "-ation", "-eur", "-ement", or else
    a verb ending, a plural or a feminine mark), then a doubled final consonant of a stem of at least five
    letters ("rappell" → "rappel", "conseill" → "conseil", but "pass" stays apart from "pas"). Digits are
    returned unchanged.
    """
    if len(word) <= _MIN_STEM or word.isdigit():
        return word
    stem = word
    for suffixes, shortest in ((_DERIVATION_SUFFIXES, _MIN_DERIVED_STEM), (_INFLECTION_SUFFIXES, _MIN_STEM)):
        suffix = next((s for s in suffixes if stem.endswith(s) and len(stem) - len(s) >= shortest), None)
        if suffix is not None:
            stem = stem[: -len(suffix)]
            break
    if len(stem) >= 5:
        stem = _DOUBLED_FINAL.sub(r"\1", stem)
    return stem


_PHONETIC_RULES = (
    (re.compile(r"ph"), "f"),
    (re.compile(r"qu|q|ck|k"), "k"),
    (re.compile(r"c(?=[eiy])"), "s"),
    (re.compile(r"c"), "k"),
    (re.compile(r"g(?=[eiy])"), "j"),
    (re.compile(r"gu(?=[eiy])"), "g"),
    (re.compile(r"eau|au"), "o"),
    (re.compile(r"ai|ei"), "e"),
    (re.compile(r"(?<=[aeiou])s(?=[aeiou])"), "z"),
    (re.compile(r"y"), "i"),
    (re.compile(r"h"), ""),
    (re.compile(r"(.)\1+"), r"\1"),
    (re.compile(r"(?<=.)(?:e|es|er|ez|ee|ees|ent|s|t|x|d)$"), ""),
)


@lru_cache(maxsize=65536)
def phonetic_key(word: str) -> str:
    """A rough French sound key: words that sound alike share it ("horraire"/"oraire", "comande")."""
    key = word
    for pattern, replacement in _PHONETIC_RULES:
        key = pattern.sub(replacement, key)
    return key or word


# On an 8 kHz line a consonant's voicing is often lost or gained ("adresse" → "attresse", "bougie" →
# "pougie"): words whose sound keys differ only there are near-homophones, when the keys are long
# enough not to meet by chance and one of them is no French word.
_DEVOICED = str.maketrans("dbgvz", "tpkfs")
_MIN_DEVOICED = 5


@lru_cache(maxsize=65536)
def devoiced_key(word: str) -> str:
    """``phonetic_key`` with voiced consonants folded onto their voiceless pairs (d/t, b/p, g/k, v/f,
    z/s), and doubled letters that folding makes (ttr) collapsed."""
    return re.sub(r"(.)\1+", r"\1", phonetic_key(word).translate(_DEVOICED))


def _same_devoiced(left: str, right: str) -> bool:
    """Same `devoiced_key` of five sounds or more (shorter keys meet by chance: "faire" and "verre" are
    both "fer"), and one of the two is no French word: "vendue" and "fendu", "rendre" and "rentre" are
    two words, not one misheard."""
    key = devoiced_key(left)
    if len(key) < _MIN_DEVOICED or key != devoiced_key(right):
        return False
    return not (is_french_word(left) and is_french_word(right))


@lru_cache(maxsize=65536)
def _trigrams(word: str) -> frozenset[str]:
    padded = f"#{word}#"
    return frozenset(padded[i : i + 3] for i in range(len(padded) - 2))


@lru_cache(maxsize=65536)
def trigram_similarity(left: str, right: str) -> float:
    """Dice coefficient of the two words' padded character trigrams, in [0, 1]."""
    if left == right:
        return 1.0
    a, b = _trigrams(left), _trigrams(right)
    if not a or not b:
        return 0.0
    return 2.0 * len(a & b) / (len(a) + len(b))


# Below this trigram similarity two different words are not the same word misheard; short words share
# trigrams by chance ("par"/"paris"), so they need more.
FUZZY_FLOOR = 0.55
DEVOICED_SIMILARITY = 0.85
_SHORT_WORD = 4
_SHORT_FUZZY_FLOOR = 0.7


@lru_cache(maxsize=65536)
def word_similarity(left: str, right: str) -> float:
    """How likely two normalised words are the same word, in [0, 1].

    1.0 for equal words; 0.95 for equal stems (inflection); 0.9 for equal sound keys (homophones); 0.85 for
    sound keys equal once voicing is folded (`devoiced_key`, keys of five sounds or more, one of the two
    no French word) or when one
    stem of at least five letters starts the other ("rembours" / "remboursement"); otherwise the
    trigram similarity when it reaches FUZZY_FLOOR (0.7 when a word has four letters or fewer), else 0.
    Numbers only ever match themselves.
    """
    if left == right:
        return 1.0
    if left.isdigit() or right.isdigit():
        return 0.0
    stem_left, stem_right = light_stem(left), light_stem(right)
    if stem_left == stem_right:
        return 0.95
    if min(len(left), len(right)) >= 3 and phonetic_key(left) == phonetic_key(right):
        return 0.9
    if min(len(left), len(right)) >= _MIN_DEVOICED and _same_devoiced(left, right):
        return DEVOICED_SIMILARITY
    shorter, longer = sorted((stem_left, stem_right), key=len)
    if len(shorter) >= 5 and longer.startswith(shorter):
        return 0.85
    similarity = max(trigram_similarity(left, right), trigram_similarity(stem_left, stem_right))
    floor = _SHORT_FUZZY_FLOOR if min(len(left), len(right)) <= _SHORT_WORD else FUZZY_FLOOR
    return similarity if similarity >= floor else 0.0
