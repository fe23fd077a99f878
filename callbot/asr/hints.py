"""Phrase hints for a dialog state: soft (bias, never restrict) or a grammar (restrict, where supported).

Plain hints passed to `Recognizer.start_turn` are *soft*: Whisper puts them in its prompt, Vosk ignores
them, and free speech is always recognised. A state that only expects a closed answer (yes/no, a digit)
may pass `GrammarHints`: a Vosk model with runtime-grammar support then recognises only those phrases
(anything else comes back empty), which is far more robust for short answers on a phone line. Engines that
cannot restrict (Whisper, big Vosk models) treat `GrammarHints` as soft hints, so a grammar can never make
an engine fail — at worst it does not help.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


class GrammarHints(tuple[str, ...]):
    """The only phrases expected in this turn (lower-case words in the model's vocabulary)."""

    __slots__ = ()

    def __new__(cls, phrases: Iterable[str]) -> GrammarHints:
        cleaned = (" ".join(p.lower().split()) for p in phrases)
        return super().__new__(cls, tuple(p for p in cleaned if p))


def is_grammar(hints: Sequence[str]) -> bool:
    return isinstance(hints, GrammarHints)
