"""Who answered a call-back? A voicemail greeting, the wrong person, or someone who no longer needs it.

Heard on the outbound call the dispatcher places (callbot/dialog/callback_call.py). Each answer changes
what the dispatcher does next: a voicemail is tried again later, a wrong number is not, and a request
the person cancels is closed.
"""

from __future__ import annotations

import re

from callbot.dialog.nlu.normalize import normalize

_VOICEMAIL = re.compile(
    r"\b(?:messagerie|boite vocale|repondeur|laissez (?:moi |nous )?(?:un |votre )?message|"
    r"apres le (?:bip|signal)|signal sonore|au bip|n est pas disponible pour le moment|"
    r"(?:ne|n) (?:est|suis|sommes) pas joignable|actuellement indisponible|votre correspondant)\b"
)
_WRONG_PERSON = re.compile(
    r"\b(?:(?:mauvais|faux) numero|erreur de numero|(?:trompe|trompez|trompes) de numero|"
    r"(?:ce n est|c est) pas (?:moi|le bon numero)|vous faites erreur|je n ai (?:rien|jamais) demande|"
    r"(?:connais|connait) pas (?:cette personne|ce monsieur|cette dame)|personne de ce nom)\b"
)
_NO_LONGER_NEEDED = re.compile(
    r"\b(?:plus besoin|(?:n )?ai plus besoin|c est (?:regle|bon maintenant|resolu)|deja (?:regle|resolu)|"
    r"probleme (?:est )?(?:regle|resolu)|annule[rz]?|annulation|ne (?:me )?rappelez pas|"
    r"pas la peine de (?:me )?rappeler)\b"
)


def sounds_like_voicemail(text: str) -> bool:
    """'Vous êtes bien sur la messagerie de…, laissez un message après le bip.'"""
    return bool(_VOICEMAIL.search(normalize(text)))


def wrong_person(text: str) -> bool:
    """'Vous vous trompez de numéro', 'ce n'est pas moi', 'je n'ai rien demandé'."""
    return bool(_WRONG_PERSON.search(normalize(text)))


def no_longer_needed(text: str) -> bool:
    """'Plus besoin, c'est réglé', 'vous pouvez annuler'."""
    return bool(_NO_LONGER_NEEDED.search(normalize(text)))
