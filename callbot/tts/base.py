"""The synthesiser contract every TTS engine implements."""

from __future__ import annotations

from abc import ABC, abstractmethod


class SynthesisError(RuntimeError):
    """The engine could not produce audio for a text."""


class Synthesizer(ABC):
    """Turns French text (already normalised for speech) into PCM16 mono audio."""

    #: Short engine name printed at start-up and in event logs, e.g. "pico" or "espeak".
    name: str = ""

    @abstractmethod
    def synthesize(self, text: str, sample_rate: int) -> bytes:
        """PCM16 little-endian mono at `sample_rate`. Thread-safe: calls may come from several sessions."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Stop worker processes, if any."""
