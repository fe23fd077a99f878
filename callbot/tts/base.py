"""The synthesiser contract every TTS engine implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Self


class SynthesisError(RuntimeError):
    """The engine could not produce audio for a text."""


class Synthesizer(ABC):
    """Turns French text (already normalised for speech) into PCM16 mono audio."""

    #: Short engine name printed at start-up and in event logs, e.g. "pico" or "espeak".
    name: str = ""

    @abstractmethod
    def synthesize(self, text: str, sample_rate: int) -> bytes:
        """PCM16 little-endian mono at `sample_rate`. Thread-safe: calls may come from several sessions."""

    @property
    def description(self) -> str:
        """One line for the start-up banner naming engine, voice and settings, e.g. "pico fr-FR (SVOX)".

        Two synthesisers with the same description sound the same, so it also keys on-disk prompt caches.
        """
        return self.name

    def close(self) -> None:  # noqa: B027 - optional hook
        """Stop worker processes, if any."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def check_sample_rate(sample_rate: int) -> None:
    """Refuse a rate no engine output can be converted to, before any work is done."""
    if not isinstance(sample_rate, int) or isinstance(sample_rate, bool) or sample_rate <= 0:
        raise ValueError(
            f"sample_rate must be a positive whole number of Hz (e.g. 8000), got {sample_rate!r}"
        )


def nothing_to_say(text: str) -> bool:
    """True for blank or punctuation-only text, which engines answer with no audio (b"")."""
    return not any(char.isalnum() for char in text)
