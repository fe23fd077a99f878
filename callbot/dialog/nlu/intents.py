"""Intent matching from a handful of example sentences per intent, robust to recognition errors.

No model to train and nothing to download: a flow author writes about six sentences per intent and the
matcher generalises to paraphrases and misheard words through stemming, sound keys, character trigrams
and a small synonym lexicon, with word weights learnt from the examples themselves.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from callbot.dialog.nlu.french_words import is_french_word
from callbot.dialog.nlu.lexicon import Lexicon, canonical_words
from callbot.dialog.nlu.normalize import normalize
from callbot.dialog.nlu.similarity import FILLERS, GENERIC_WORDS, STOP_WORDS, light_stem, phonetic_key

# On the retail set of tests/test_nlu_intents.py (10 intents, 6 examples each), unseen paraphrases with
# recognition errors score 0.43 to 1.0 (median 0.73) and unrelated sentences at most about 0.33; a
# threshold of 0.6 would turn away one paraphrase in five.
DEFAULT_THRESHOLD = 0.4
# Weight of a grammar word, against 1.0 for a content word that every intent uses.
_STOP_WEIGHT = 0.15
# Weight of a word that frames any request ("voudrais", "savoir").
_GENERIC_WEIGHT = 0.5
# Blend of the three signals (they sum to 1; see IntentMatcher).
_EXAMPLE_WEIGHT = 0.6
_VOCABULARY_WEIGHT = 0.25
_CHARACTER_WEIGHT = 0.15
# Recall matters more than precision: callers wrap a request in greetings and explanations.
_RECALL_BETA = 1.5
_KEYWORD_BOOST = 0.15
# A word no example uses weighs this share of the rarest known word's weight.
_UNKNOWN_WEIGHT_SHARE = 0.6
# "j'ai reçu" and "je n'ai pas reçu" share every content word but mean the opposite: an example whose
# polarity differs from the utterance's counts for this share of its score.
_NEGATION_WORDS = frozenset({"ne", "n", "pas", "non", "jamais", "aucun", "aucune", "rien", "sans"})
_POLARITY_MISMATCH = 0.7
# Keywords are an intent's salient words (the flow lists them). A sentence whose keywords (heard with at
# least this similarity) point to one intent, for at least this share of the evidence, is a weak guess of
# that intent even when the sentence as a whole matches poorly (long, wrapped in context, misheard
# around the key word).
_SALIENT_SIMILARITY = 0.9
_SALIENT_SHARE = 0.75
# A keyword heard across a word boundary ("ma livraison" → "les malives raisons": the sounds "liv" +
# "rezon" of two words hold "livrezon") counts as heard this well. Only keywords of this many sounds: a
# short key ("stok", "rapel") turns up in two glued words by chance.
_GLUED_SIMILARITY = 0.9
_GLUED_MIN_KEY = 7


@dataclass(frozen=True, slots=True)
class IntentMatch:
    """The best intent and its closest rival; a small gap means the dialog should ask, not guess.

    `weak`: the sentence as a whole matched no intent well enough; only words that belong to this intent
    alone were heard in it ("… aucune nouvelle de ma livraison"). The dialog confirms such a guess
    before acting on it.
    """

    intent: str
    score: float
    runner_up: str | None
    runner_up_score: float
    weak: bool = False

    @property
    def margin(self) -> float:
        """How far ahead of the runner-up the best intent is."""
        return self.score - self.runner_up_score


@dataclass(frozen=True, slots=True)
class IntentScore:
    """One intent's score for an utterance and the example that scored best (for debugging flows)."""

    intent: str
    score: float
    best_example: str


@dataclass(frozen=True, slots=True)
class _Term:
    word: str
    weight: float


@dataclass(frozen=True, slots=True)
class _Example:
    text: str
    terms: tuple[_Term, ...]
    trigrams: frozenset[str]
    negated: bool


def _words(text: str) -> list[str]:
    """The words that say what is asked: hesitations and numbers left out. A number is a value, not a
    request ("ma commande numéro 4 5 8 1 2": five unknown words drowned "ma commande" to a guess); the
    dialog reads it through its slots, and a number alone implies the request that takes it."""
    return canonical_words(
        word for word in normalize(text).split() if word not in FILLERS and not word.isdigit()
    )


def _content(words: Sequence[str]) -> list[str]:
    content = [word for word in words if word not in STOP_WORDS]
    return content or list(words)


#: "Je ne sais pas" as a whole answer: no request. It matched complaints (0.70: "ne … pas", as in "ça ne
#: marche pas") and sent a caller who did not know their order number to the complaints queue; "je sais
#: pas" matched a no.
#: "Je ne l'ai pas", "je ne le trouve pas" (the number asked for) likewise: they too were complaints.
_DONT_KNOW = re.compile(
    r"(?:(?:euh|bah|ben|alors|oh|ah|non|oui|hm) )*(?:(?:le|mon|ce) numero )?"
    r"(?:je (?:ne )?(?:le |l )?sai[st]? (?:pas|plus|rien)|j en sai[st]? rien|aucune idee"
    r"|je (?:ne )?(?:m en |me |m )?(?:souviens|rappelle) (?:pas|plus)"
    r"|je (?:ne )?(?:l |le |la )?(?:ai|trouve|retrouve|vois) (?:pas|plus))"
    r"(?: du tout| trop)?(?: (?:sous la main|sur moi|ici))?(?: (?:le|mon|ce) numero)?"
    r"(?: (?:desole|desolee|franchement))?"
)


def says_dont_know(text: str) -> bool:
    """The whole answer is "je ne sais pas" (or "aucune idée", "je ne m'en souviens plus", "je ne l'ai
    pas sous la main")."""
    return bool(_DONT_KNOW.fullmatch(normalize(text).strip()))


def _says_something(words: Sequence[str]) -> bool:
    """Whether the words hold more than grammar and request framing: "bonjour, je voudrais" (a sentence
    cut at the caller's pause) matched "je voudrais être rappelé" well enough to book a call-back."""
    return any(word not in STOP_WORDS and word not in GENERIC_WORDS for word in words)


def _trigram_set(words: Sequence[str]) -> frozenset[str]:
    padded = f" {' '.join(words)} "
    return frozenset(padded[i : i + 3] for i in range(len(padded) - 2))


class IntentMatcher:
    """Find which intent a French utterance expresses, given a few example sentences per intent.

    Text on both sides goes through ``normalize`` (case, accents, elisions, numbers), hesitations ("euh")
    are dropped and spoken variants are rewritten ("ouais" → "oui", "dispo" → "disponible").
    Scoring of an utterance U against an intent I (every part in [0, 1]):

    * Word weights. A grammar word (``STOP_WORDS``) weighs 0.15, a request-framing word
      (``GENERIC_WORDS``: "voudrais", "savoir", "pouvez") 0.5. A content word weighs its inverse
      document frequency over intents, ``1 + ln(N / df)``, df being the number of intents whose examples
      use the word's stem: "horaires" (one intent) outweighs "voudrais" (many). A misheard or synonymous
      known word takes that word's weight; a word no example knows weighs 0.6 × the rarest word's weight,
      so unexplained content lowers every score without drowning the request.
    * Soft word match (``Lexicon.similarity``): 1 same word; 0.95 same stem ("rappelé"/"rappeler"); 0.9
      same sound key ("horraire"/"oraire"); 0.85 the same key but for a consonant's voicing
      ("attresse"/"adresse", keys of five sounds or more), or one stem prefixing the other; 0.8 synonyms
      ("souci"/"problème"); else character-trigram similarity when at least 0.55 ("commende"/"commande");
      else 0.
    * Example score (60 %): for each example E of I, precision = weighted share of U's words found in E,
      recall = weighted share of E's words found in U, combined as F-beta with beta = 1.5 (recall counts
      more: callers wrap requests in greetings and context). When exactly one of U and E contains a
      negation ("pas", "ne", "non", "jamais", "rien", "sans"...), E's score is multiplied by 0.7: "j'ai
      reçu" is not "je n'ai pas reçu". The best example counts.
    * Vocabulary score (25 %): the weighted share of U's content words found anywhere in I's examples,
      so that a paraphrase mixing words of two examples still scores.
    * Character score (15 %): Dice similarity of the character trigrams of U's content words and the best
      example's, which catches words the recogniser split or glued ("rendez vous"/"rendezvous").
    * Keyword boost: +0.15 (capped at 1) when U contains one of the intent's optional ``keywords``.
    * Weak guess: when no intent reaches the threshold but U's keywords point to one intent, that
      intent is returned as a ``weak`` match, for the dialog to confirm ("Vous appelez pour … ?").

    Words of grammar and request framing alone ("bonjour, je voudrais") match no intent.

    The best intent is returned when its score reaches ``threshold``, with the runner-up and its score so
    that the dialog can ask "vous voulez X ou Y ?" when ``margin`` is small. Pure arithmetic over the
    inputs: the same utterance always gets the same answer.
    """

    def __init__(
        self,
        examples: Mapping[str, Sequence[str]],
        threshold: float = DEFAULT_THRESHOLD,
        keywords: Mapping[str, Sequence[str]] | None = None,
        synonyms: Sequence[Sequence[str]] = (),
    ) -> None:
        if isinstance(examples, str) or not isinstance(examples, Mapping) or not examples:
            raise ValueError("IntentMatcher needs a mapping of intent name → list of example sentences")
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {threshold!r}")
        self.threshold = threshold
        self._lexicon = Lexicon(synonyms)
        tokenised: dict[str, list[tuple[str, list[str]]]] = {}
        for intent, sentences in examples.items():
            if isinstance(sentences, str):
                raise ValueError(f"intent {intent!r}: examples must be a list of sentences, not one string")
            usable = [(sentence, _words(sentence)) for sentence in sentences]
            usable = [(sentence, words) for sentence, words in usable if words]
            if not usable:
                raise ValueError(f"intent {intent!r} has no usable example sentence (empty or punctuation)")
            tokenised[intent] = usable
        self._weights = self._learn_weights(tokenised)
        self._unknown_weight = _UNKNOWN_WEIGHT_SHARE * (1.0 + math.log(len(tokenised)))
        self._examples: dict[str, tuple[_Example, ...]] = {
            intent: tuple(
                _Example(sentence, self._terms(words), _trigram_set(_content(words)), _negated(words))
                for sentence, words in usable
            )
            for intent, usable in tokenised.items()
        }
        self._vocabulary: dict[str, frozenset[str]] = {
            intent: frozenset(term.word for example in intent_examples for term in example.terms)
            for intent, intent_examples in self._examples.items()
        }
        self._keywords: dict[str, tuple[str, ...]] = {}
        for intent, words in (keywords or {}).items():
            if intent not in self._examples:
                raise ValueError(
                    f"keywords given for unknown intent {intent!r}; known: {sorted(self._examples)}"
                )
            self._keywords[intent] = tuple(word for keyword in words for word in _content(_words(keyword)))

    def knows(self, words: str) -> bool:
        """Whether `words` hold content words (not grammar) and the examples use every one of them
        ("ouverture", "d'ouverture"), whatever the intent."""
        content = [word for word in _words(words) if word not in STOP_WORDS]
        return bool(content) and all(
            any(word in vocabulary for vocabulary in self._vocabulary.values()) for word in content
        )

    @property
    def intents(self) -> tuple[str, ...]:
        """The intent names, in the order given."""
        return tuple(self._examples)

    @staticmethod
    def _learn_weights(tokenised: Mapping[str, list[tuple[str, list[str]]]]) -> dict[str, float]:
        intents_using: dict[str, set[str]] = {}
        for intent, usable in tokenised.items():
            for _, words in usable:
                for word in words:
                    intents_using.setdefault(light_stem(word), set()).add(intent)
        count = len(tokenised)
        return {stem: 1.0 + math.log(count / len(users)) for stem, users in intents_using.items()}

    def salient_guess(self, text: str) -> str | None:
        """The one intent whose keywords `text` contains, or None (none heard, or several intents')."""
        evidence: dict[str, float] = {}
        words = [word for word in _content(_words(text)) if word not in STOP_WORDS]
        for intent, keywords in self._keywords.items():
            for keyword in keywords:
                similarity = self._keyword_heard(keyword, words)
                if similarity >= _SALIENT_SIMILARITY:
                    evidence[intent] = evidence.get(intent, 0.0) + similarity
        if not evidence:
            return None
        best = max(evidence, key=lambda intent: evidence[intent])
        return best if evidence[best] >= _SALIENT_SHARE * sum(evidence.values()) else None

    def _keyword_heard(self, keyword: str, words: Sequence[str]) -> float:
        """How well `keyword` is heard among `words`: the best word's similarity, or `_GLUED_SIMILARITY`
        when the sounds of two or three adjacent words hold the keyword's across their boundary
        (`_GLUED_MIN_KEY` sounds at least) and one of them is no French word, the recogniser having cut
        it elsewhere ("les malives raisons" for "ma livraison")."""
        best = self._lexicon.best(keyword, words)
        if best >= _GLUED_SIMILARITY:
            return best
        key = phonetic_key(keyword)
        if len(key) < _GLUED_MIN_KEY:
            return best
        keys = [phonetic_key(word) for word in words]
        for start in range(len(keys) - 1):
            for end in (start + 2, start + 3):
                if (
                    end <= len(keys)
                    and key in "".join(keys[start:end])
                    # across a boundary: not "couvertures" holding "ouverture"
                    and not any(key in one for one in keys[start:end])
                    # a word cut wrong leaves no French word: "faudrait contacter" is no "recontacter",
                    # "demain dommage" no "endommagé"
                    and not all(is_french_word(word) for word in words[start:end])
                ):
                    return _GLUED_SIMILARITY
        return best

    def _weight(self, word: str) -> float:
        if word in STOP_WORDS:
            return _STOP_WEIGHT
        if word in GENERIC_WORDS:
            return _GENERIC_WEIGHT
        known = self._weights.get(light_stem(word))
        if known is not None:
            return known
        # A misheard or synonymous known word keeps that word's weight.
        best_stem, best = None, 0.0
        for stem in self._weights:
            similarity = self._lexicon.similarity(light_stem(word), stem)
            if similarity > best:
                best_stem, best = stem, similarity
        if best_stem is not None and best >= 0.7:
            return self._weights[best_stem]
        return self._unknown_weight

    def _terms(self, words: Sequence[str]) -> tuple[_Term, ...]:
        return tuple(_Term(word, self._weight(word)) for word in words)

    def top(self, text: str, n: int = 3) -> list[IntentScore]:
        """The ``n`` best intents for ``text`` with their scores and best examples, best first."""
        words = _words(text)
        if not words or n <= 0:
            return []
        terms = self._terms(words)
        trigrams = _trigram_set(_content(words))
        negated = _negated(words)
        scored = [self._score_intent(intent, terms, trigrams, negated) for intent in self._examples]
        scored.sort(key=lambda item: (-item.score, item.intent))
        return scored[:n]

    def match(self, text: str) -> IntentMatch | None:
        """The intent of ``text``, or None when none reaches the threshold (the bot did not understand)
        and no salient word points to one intent (then a `weak` match of that intent)."""
        ranked = self.top(text, 2)
        if not ranked or not _says_something(_words(text)) or says_dont_know(text):
            return None
        if ranked[0].score < self.threshold:
            guess = self.salient_guess(text)
            if guess is None:
                return None
            rival = next((r for r in self.top(text, 3) if r.intent != guess), None)
            return IntentMatch(
                intent=guess,
                score=round(max(self.top_score(text, guess), 0.0), 4),
                runner_up=rival.intent if rival else None,
                runner_up_score=round(rival.score, 4) if rival else 0.0,
                weak=True,
            )
        best = ranked[0]
        runner_up = ranked[1] if len(ranked) > 1 else None
        return IntentMatch(
            intent=best.intent,
            score=round(best.score, 4),
            runner_up=runner_up.intent if runner_up else None,
            runner_up_score=round(runner_up.score, 4) if runner_up else 0.0,
        )

    def top_score(self, text: str, intent: str) -> float:
        """The score of one intent for ``text``."""
        return next((r.score for r in self.top(text, len(self._examples)) if r.intent == intent), 0.0)

    def _coverage(self, source: Sequence[_Term], target: Sequence[_Term] | frozenset[str]) -> float:
        """Weighted share of ``source``'s words found (softly) among ``target``'s words."""
        total = sum(term.weight for term in source)
        if not total:
            return 0.0
        words = target if isinstance(target, frozenset) else [term.word for term in target]
        return sum(term.weight * self._lexicon.best(term.word, words) for term in source) / total

    def _score_intent(
        self, intent: str, terms: Sequence[_Term], trigrams: frozenset[str], negated: bool
    ) -> IntentScore:
        best_example, best_score = self._examples[intent][0], -1.0
        for example in self._examples[intent]:
            score = _f_beta(self._coverage(terms, example.terms), self._coverage(example.terms, terms))
            if example.negated != negated:
                score *= _POLARITY_MISMATCH
            if score > best_score:
                best_example, best_score = example, score
        content = [term for term in terms if term.word not in STOP_WORDS] or list(terms)
        vocabulary_score = self._coverage(content, self._vocabulary[intent])
        character_score = _dice(trigrams, best_example.trigrams)
        score = (
            _EXAMPLE_WEIGHT * best_score
            + _VOCABULARY_WEIGHT * vocabulary_score
            + _CHARACTER_WEIGHT * character_score
        )
        keywords = self._keywords.get(intent, ())
        if keywords and any(
            self._keyword_heard(keyword, [t.word for t in terms]) >= 0.9 for keyword in keywords
        ):
            score += _KEYWORD_BOOST
        return IntentScore(intent, min(score, 1.0), best_example.text)


def _negated(words: Sequence[str]) -> bool:
    return any(word in _NEGATION_WORDS for word in words)


def _f_beta(precision: float, recall: float) -> float:
    if precision <= 0.0 or recall <= 0.0:
        return 0.0
    beta2 = _RECALL_BETA * _RECALL_BETA
    return (1 + beta2) * precision * recall / (beta2 * precision + recall)


def _dice(left: frozenset[str], right: frozenset[str]) -> float:
    if not left or not right:
        return 0.0
    return 2.0 * len(left & right) / (len(left) + len(right))
