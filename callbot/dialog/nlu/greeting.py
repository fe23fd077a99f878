"""Telling a bare greeting ("allô, bonjour ?") or a "hold on" from a request the bot did not understand.

Callers often open with a greeting while the bot is still speaking, or once it has asked its question.
Answering "Pardon, je n'ai pas compris" to "Bonjour" sounds rude and counts a misunderstanding that did
not happen; the dialog greets back and asks its question again instead.
"""

from __future__ import annotations

import re

from callbot.dialog.nlu.normalize import normalize

_GREETINGS = frozenset({"bonjour", "bonsoir", "allo", "salut", "hello", "bonjours"})
_FILLERS = frozenset({"oui", "ouais", "madame", "monsieur", "euh", "eh", "ben", "alors", "re", "la", "et"})


def is_greeting(text: str) -> bool:
    """True when the words are only greetings and fillers, at least one a greeting."""
    words = normalize(text).split()
    return (
        bool(words)
        and any(w in _GREETINGS for w in words)
        and all(w in _GREETINGS or w in _FILLERS for w in words)
    )


# "Attendez, je cherche le numéro": the caller goes to look for what was asked. Only what that says, with
# politeness and the thing looked for: "je cherche une lampe" is a request.
_HOLD = (
    r"(?:attende?z?|attends|patientez|bougez pas|ne quittez pas|un (?:petit )?(?:instant|moment)"
    r"|une (?:petite )?(?:seconde|minute)|deux (?:secondes|minutes)|je (?:vais )?(?:le |la )?regarde[rz]?"
    r"|je (?:vais )?(?:le |la )(?:cherche|chercher|retrouve|retrouver)|je (?:vais )?cherche[rz]?"
    r"(?= (?:le|mon|ma|la|mes|dans)\b|$)|je vais voir)"
)
_HOLD_ALSO = (
    r"(?:oui|ok|alors|euh|d accord|s il vous plait|svp|merci|excusez moi|pardon|le numero|mon numero"
    r"|le numero de commande|mon numero de commande|ma commande|dans mes (?:mails|e mails|papiers)"
    r"|le mail|l e mail|la facture|ma facture|je l ai|je l ai la)"
)
_HOLD_RE = re.compile(rf"(?:(?:{_HOLD}|{_HOLD_ALSO}) ?)+")
_HOLD_WORD_RE = re.compile(rf"\b{_HOLD}\b")


def asks_to_hold(text: str) -> bool:
    """True when the caller only asks the bot to wait while they look ("Attendez, je cherche le
    numéro.", "Un instant s'il vous plaît."), at least one word of it a hold."""
    said = normalize(text).strip()
    return bool(said) and bool(_HOLD_RE.fullmatch(said)) and bool(_HOLD_WORD_RE.search(said))
