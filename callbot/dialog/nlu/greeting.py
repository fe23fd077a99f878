"""Telling a bare greeting ("allô, bonjour ?") from a request the bot did not understand.

Callers often open with a greeting while the bot is still speaking, or once it has asked its question.
Answering "Pardon, je n'ai pas compris" to "Bonjour" sounds rude and counts a misunderstanding that did
not happen; the dialog greets back and asks its question again instead.
"""

from __future__ import annotations

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
