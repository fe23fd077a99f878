"""Does the caller ask for a person? Checked on every turn, whatever the dialog state, so that a caller
who wants a human is never trapped in the bot."""

from __future__ import annotations

import re

from callbot.dialog.nlu.lexicon import canonical_words
from callbot.dialog.nlu.normalize import normalize

_PEOPLE = (
    r"(?<!me )(?<!nous )(?<!te )conseill(?:er|ere|eres|ers)",
    # "un conseillé" is a misheard "un conseiller"; "je vous conseille" is advice.
    r"(?:un|une|le|la|au|aux|des|les|votre|vos|d) conseill(?:e|es|ez|ee|ees)",
    r"(?<!mon )(?<!d )operat(?:eur|eurs|rice|rices)(?! (?:telephonique|mobile|internet|fixe))",
    r"(?<!de l )agents?(?! (?:immobilier|de securite|d entretien))",
    r"humains?",
    r"humaines?",
    r"standardistes?",
    r"(?:le|au) standard",
    r"vendeu(?:r|rs|se|ses)",
    r"interlocut(?:eur|eurs|rice|rices)",
    r"techniciens?",
    r"techniciennes?",
    r"(?:au|le|un|une|la) (?:responsable|directeur|directrice|manager|superviseur|superviseuse|chef)",
    # The bot answers for customer service: only asking to be put through to it is a request.
    r"(?:parler|passer|passez|joindre|veux|voudrais|avoir) (?:moi )?(?:au|le|a) service "
    r"(?:client|clients|clientele|apres vente)",
    r"(?:une|cette) (?:vraie )?personne",
    r"vraies? personnes?",
    r"personnes? (?:physique|physiques|reelle|reelles|humaine|humaines)",
    r"(?:un vrai|une vraie|des vrais|de vrais)$",
    r"en chair et en os",
    r"(?:mettre|mettez|mets|mettiez|mis|mise) (?:moi )?en (?:relation|contact|communication)",
    r"(?:me|moi|nous) transf[ae]r\w*",
    r"transf[ae]r\w* (?:moi|nous)",
    r"parler a (?:un|une) conseil",
)
# A person named as the subject of a story is not asked for: "le conseiller m'a dit que...", "un agent
# devait me rappeler", "un conseiller peut me rappeler ?" (a call-back, not a transfer).
_NARRATIVE_AFTER = re.compile(
    r"^ (?:m|ma|mas|qui|que|nous|l|les|lui|leur|avait|avaient|a|ont|est|etait|sont|devait|doit|devrait|va|"
    r"vont|peut|peu|pourrait|pourra|pourrez|me|ne|n|etaient|aurait|dit|disait|rappel\w*)\b"
)
# "j'aimerais qu'un conseiller me rappelle": the person is the subject of what is wished, a call-back
# ("je veux qu'un conseiller me parle" is a person asked for).
_CALLS_BACK_AFTER = re.compile(
    r"^ (?:me |m |nous )?(?:(?:peut|pourrait|puisse|puissent) (?:me |m |nous )?)?"
    r"(?:rappel\w*|telephon\w*|appel\w*|recontact\w*|contact\w*)\b"
    # "qu'un conseiller m'appelle tout de suite": a person now, not a call-back
    r"(?!.*\b(?:tout de suite|de suite|maintenant|immediatement|tout a l heure)\b)"
)
_SUBORDINATE_SUBJECT = re.compile(r"\bqu(?:e)? (?:(?:un|une|le|la|l|mon|ma|votre|vos|des|les) )?$")
_REQUEST_BEFORE = re.compile(
    r"\b(?:parler|parle|passer|passez|passe|joindre|veux|voudrais|voulais|souhaite|souhaiterais|aimerais|"
    r"besoin|mettre|mettez|transferer|transferez|demande|exige)\b"
)
# "quelqu'un" asks for a person only when it is the object of a request ("parler à quelqu'un",
# "passez-moi quelqu'un", or the whole answer), not in "quelqu'un m'a appelé".
_SOMEONE = re.compile(r"\bquelqu un\b")
_SOMEONE_REQUEST = re.compile(
    r"\b(?:parler|parle|passer|passez|passe|avoir|joindre|veux|voudrais|voulais|souhaite|souhaiterais|"
    r"aimerais|besoin|mettre|mettez|transferer|transferez|faut|cherche|demande|plutot)\b(?: \w+){0,3} $"
)
_SOMEONE_QUALIFIED = re.compile(r"^ de (?:reel|vrai|humain|physique|competent|qualifie|serieux|du service)")
# Rejecting the machine is asking for a person: "pas à un robot", "j'en ai marre de ce robot".
_ROBOT = (
    r"(?:robots?|machines?|ordinateurs?|repondeur|serveur vocal|automates?|bot|intelligence artificielle)"
)
_REJECT_MACHINE = re.compile(
    rf"\b(?:pas (?:a |avec )?(?:un |une |le |la |ce |cette |votre |des |les |de |d )?{_ROBOT}"
    rf"|marre (?:de |du |des |d )?(?:ce |cette |votre |vos |la |le |les )?{_ROBOT}"
    rf"|(?:veux|voudrais|souhaite|aime|supporte) (?:plus|pas) (?:\w+ ){{0,3}}{_ROBOT}"
    rf"|(?:pas|plus) envie (?:\w+ ){{0,4}}{_ROBOT}"
    rf"|(?:arretez|arrete|stop|stoppez) (?:le |la |ce |cette |votre )?{_ROBOT})\b"
)
_PEOPLE_RE = re.compile(r"\b(?:" + "|".join(_PEOPLE) + r")\b")

# Negation scope: what precedes a request, back to the start of its clause.
_CLAUSE_BREAK = re.compile(
    r"\b(?:mais|plutot|par contre|sinon|je veux|je voudrais|je prefere|je souhaite|donc)\b"
)
_NEGATION = re.compile(r"\b(?:pas|jamais|sans|aucun|aucune|inutile|nul besoin)\b")
# "je n'arrive pas à joindre un conseiller" is a complaint about reaching one: still a request.
_INABILITY = re.compile(
    r"\b(?:arrive|arrivons|reussi|reussis|pu|peux|pouvons|parviens|parvenu|joindre|eu|obtenu|impossible|"
    r"repond|repondu|toujours)\b"
)
_NEGATION_WINDOW_WORDS = 7


def _negated(prefix: str) -> bool:
    """Whether the clause that ends where a request starts negates it ("je ne veux pas de ...")."""
    breaks = list(_CLAUSE_BREAK.finditer(prefix))
    clause = prefix[breaks[-1].end() :] if breaks else prefix
    window = " ".join(clause.split()[-_NEGATION_WINDOW_WORDS:])
    return bool(_NEGATION.search(window)) and not _INABILITY.search(window)


def wants_human(text: str) -> bool:
    """True when the caller asks to speak to a person rather than to the bot.

    Requests: "un conseiller" / "une conseillère" (also as misheard: "un conseillé"), "un humain",
    "une (vraie) personne", "un agent", "un opérateur", "le standard", "un vendeur", "le responsable",
    "le service client", "parler à quelqu'un", "passez-moi quelqu'un", "un vrai" (at the end), "mettez-moi
    en relation", "transférez-moi", and rejecting the machine ("pas à un robot", "marre de ce robot",
    "je ne veux pas parler à une machine", "j'ai pas envie de parler à un robot").

    A request is cancelled by a negation earlier in its clause ("je ne veux pas de conseiller", "pas
    besoin d'un conseiller", "sans conseiller"), unless the negation says the caller could not reach one
    ("je n'arrive pas à joindre un conseiller" is still a request). A new clause ("mais", "plutôt",
    "je veux") ends the negation: "pas de robot, je veux un conseiller" asks for a person. "Personne"
    alone is the pronoun ("personne ne répond") and does not count, nor does a person who is the subject
    of a story or of a call-back question ("le conseiller m'a dit que…", "un conseiller peut me
    rappeler ?") unless a request verb comes first ("je veux parler au conseiller qui m'a appelé"), nor
    one wished to call back ("j'aimerais qu'un conseiller me rappelle", not "… m'appelle tout de suite").
    """
    normalized = " ".join(canonical_words(normalize(text).split()))
    if not normalized:
        return False
    padded = f" {normalized} "
    if _REJECT_MACHINE.search(normalized):
        return True
    for match in _PEOPLE_RE.finditer(normalized):
        before = normalized[: match.start()]
        after = padded[match.end() + 1 :]
        if _NARRATIVE_AFTER.match(after) and not _REQUEST_BEFORE.search(before):
            continue
        if _SUBORDINATE_SUBJECT.search(before) and _CALLS_BACK_AFTER.match(after):
            continue
        if not _negated(before):
            return True
    for match in _SOMEONE.finditer(normalized):
        before, after = padded[: match.start() + 1], padded[match.end() + 1 :]
        is_request = (
            _SOMEONE_REQUEST.search(before) or _SOMEONE_QUALIFIED.match(after) or len(normalized.split()) <= 4
        )
        if is_request and not _negated(normalized[: match.start()]):
            return True
    return False
