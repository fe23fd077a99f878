"""Yes/no answers to a confirmation question ("C'est bien demain à 14 h ?")."""

from __future__ import annotations

import re

from callbot.dialog.nlu.lexicon import canonical_words
from callbot.dialog.nlu.normalize import normalize

# Each cue is a regular expression over the normalised, canonical text, with its polarity and strength.
# Negative cues are found first and blank what they cover, so that "pas d accord" is not also read as
# "d accord" and "c est pas ca" not as "c est ca".
_NEGATIVE_STRONG = (
    r"non",
    r"pas du tout",
    r"(?:absolument|surtout|certainement|vraiment|evidemment|bien sur|clairement) pas",
    r"pas (?:vraiment|exactement|tout a fait|forcement|d accord|ca|correct|bon|juste|le bon|la bonne"
    r"|possible)",
    r"(?:c|ce|ca) (?:n )?(?:est|etait) (?:pas|plus)(?: du tout)?"
    r"(?: (?:ca|sa|exact|correct|bon|juste|le bon|la bonne))?",
    r"(?:ca|cela) (?:ne )?(?:me )?(?:va|convient|marche|arrange|correspond) pas",
    r"(?:j|je) (?:n )?(?:en )?(?:veux|voudrais|souhaite) pas",
    r"(?:je )?(?:ne )?(?:crois|pense) pas",
    r"(?:je )?(?:ne )?(?:suis )?pas d accord",
    r"negatif",
    r"jamais",
    r"aucunement",
    r"nullement",
    r"c est faux",
    r"faux",
    r"erreur",
    r"pas (?:la peine|besoin|maintenant|aujourd hui)",
    r"inutile",
)
_POSITIVE_STRONG = (
    r"oui",
    r"exactement",
    r"exact",
    r"tout a fait",
    r"absolument",
    r"bien sur",
    # "sa": the recogniser's homophone for "ça".
    r"(?:c|ce) (?:est|etait) (?:bien )?(?:ca|sa|exact|correct|juste|cela|le bon|la bonne|parfait)",
    r"c est bien",
    r"d accord",
    r"parfait",
    r"affirmatif",
    r"(?:je )?confirme",
    r"correct",
    r"certainement",
    r"evidemment",
    r"effectivement",
    r"tout a fait",
    r"avec plaisir",
    r"volontiers",
)
_POSITIVE_WEAK = (
    r"ok",
    r"c est bon",
    r"ca (?:me )?(?:va|marche|convient|roule)",
    r"entendu",
    r"super",
    r"impeccable",
    r"nickel",
    r"tres bien",
    r"(?:allez|vas) y",
    r"carrement",
    r"pourquoi pas",
)
# Answers that say "I don't know": never a yes or a no, whatever else they contain.
_UNDECIDED = (
    r"(?:je )?(?:ne )?(?:sais|saurais) pas",
    r"(?:je )?(?:ne )?suis pas (?:sur|certain|certaine)",
    r"peut etre",
    r"aucune idee",
    r"je (?:ne )?(?:me )?rappelle (?:plus|pas)",
)


def _compile(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(sorted(patterns, key=len, reverse=True)) + r")\b")


_NEGATIVE_STRONG_RE = _compile(_NEGATIVE_STRONG)
_POSITIVE_STRONG_RE = _compile(_POSITIVE_STRONG)
_POSITIVE_WEAK_RE = _compile(_POSITIVE_WEAK)
_UNDECIDED_RE = _compile(_UNDECIDED)
# "exactement" that sharpens a question ("Et elle arrive quand exactement ?", "C'est quoi exactement ?",
# "Où, exactement ?") asks something: it is no yes. Not after "qui" ("Qui, exactement." is how "Oui,
# exactement." may come back), and after "où" only with its accent ("ou" is "or").
_SHARPENED = r"(?:exactement|exact|precisement|au juste)"
_BETWEEN = r"(?:ca |c est |est ce |il |elle )?"
_QUESTION_EXACTLY_RE = re.compile(
    r"\b(?:quand|comment|combien|pourquoi|quoi|quel|quelle|quels|quelles|laquelle|lequel|c est qui) "
    + _BETWEEN
    + _SHARPENED
    + r"\b"
)
_WHERE_EXACTLY_RE = re.compile(
    r"\boù\W+(?:(?:ça|ca|c'est|est-ce|il|elle)\W+)?(?:exactement|exact|précisément|au juste)\b", re.IGNORECASE
)
_WHERE_EXACTLY_PLAIN_RE = re.compile(r"\bou " + _BETWEEN + _SHARPENED + r"\b")
# "si", "voilà" and "bon" only mean yes as the whole answer ("mais si", "voilà", "bon ben d'accord"),
# never as "if" / "here is" / "good". "Bon" alone is also how a telephone recogniser often hears a short
# "oui" on an 8 kHz line.
# "On sait ça.", "On s'est ça.": how the line gives back "Oui, c'est ça." (five development calls, each
# time for that yes), as the whole answer only: "non, c'est ma fille qui sait ça" is no yes.
_WHOLE_ANSWER_YES = re.compile(
    r"^(?:(?:mais )?si(?: si)*|voila(?: voila)*|(?:bon|ben)(?: bon| ben)*"
    r"|(?:(?:oui|on|bon|ben|bah|voila|ah) )*(?:sait|s est) (?:ca|sa)(?: merci)?)$"
)


def asks_something(text: str) -> bool:
    """The caller asks a question of their own, sharpened by "exactement" ("Et elle arrive quand
    exactement ?", "C'est où exactement ?"), and says neither yes nor no: that "exactement" answers
    nothing ("Autre chose ?")."""
    if parse_yes_no(text) is not None:
        return False
    canonical = " ".join(canonical_words(normalize(text).split()))
    return bool(_WHERE_EXACTLY_RE.search(text) or _QUESTION_EXACTLY_RE.search(canonical))


def parse_yes_no(text: str) -> bool | None:
    """True for a yes, False for a no, None when the answer is neither (or says "je ne sais pas").

    Yes: "oui", "ouais", "c'est ça", "exactement", "d'accord", "tout à fait", "parfait", "bien sûr",
    "je confirme", and weaker ones ("ok", "ça marche", "c'est bon"; "si", "voilà" and "bon" as a whole
    answer).
    No: "non", "pas du tout", "c'est pas ça", "ce n'est pas ça", "non merci", "absolument pas",
    "pas vraiment", "pas d'accord", "ça ne me va pas".

    Rules: negative phrases are read first and hide what they contain ("pas d'accord" is not "d'accord").
    When strong cues of both kinds appear, the last one wins ("non non, c'est ça" → True, "oui enfin non"
    → False). A weak yes never overrides a no ("non c'est bon" → False). "Je ne sais pas", "peut-être" and
    anything without a cue give None, so that the dialog asks again.
    """
    normalized = " ".join(canonical_words(normalize(text).split()))
    if not normalized:
        return None
    if _WHOLE_ANSWER_YES.match(normalized):
        return True
    if _UNDECIDED_RE.search(normalized):
        return None
    if _WHERE_EXACTLY_RE.search(text):
        normalized = _WHERE_EXACTLY_PLAIN_RE.sub(lambda match: " " * len(match.group(0)), normalized)
    normalized = _QUESTION_EXACTLY_RE.sub(lambda match: " " * len(match.group(0)), normalized)
    cues = [(match.start(), False) for match in _NEGATIVE_STRONG_RE.finditer(normalized)]
    # Blank the negative phrases (keeping offsets) so that their words cannot also read as a yes.
    remaining = _NEGATIVE_STRONG_RE.sub(lambda match: " " * len(match.group(0)), normalized)
    cues.extend((match.start(), True) for match in _POSITIVE_STRONG_RE.finditer(remaining))
    if cues:
        return max(cues)[1]
    if _POSITIVE_WEAK_RE.search(remaining):
        return True
    return None
