"""The recogniser contract every ASR engine implements.

An *engine* holds a loaded model and is shared by all calls of a process; a *recognizer* is one call's
stream (one Vosk `KaldiRecognizer`, one Whisper utterance buffer). The session drives a recognizer turn by
turn: `start_turn` (with the dialog state's phrase hints), `accept` for every speech frame (pre-roll
included), `pause` when the caller falls silent (engines that are not streaming start decoding there,
speculatively), `finish` at the end of the turn.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Word:
    """A recognised word with its time in milliseconds from the start of the turn's audio."""

    text: str
    start_ms: int
    end_ms: int
    confidence: float = 1.0


@dataclass(frozen=True, slots=True)
class Hypothesis:
    """What the recogniser heard so far (partial) or for the whole turn (final)."""

    text: str
    final: bool
    words: tuple[Word, ...] = field(default=())
    confidence: float | None = None
    #: Other readings of the same audio, best first (an engine's N-best; empty for most): the dialog
    #: may take one it understands when it does not understand `text`.
    alternatives: tuple[str, ...] = field(default=())


class Recognizer(ABC):
    """One call's recognition stream. Not thread-safe: one session drives it."""

    #: Sample rate of the PCM16 the recognizer accepts (the session resamples to it).
    sample_rate: int = 16000

    @abstractmethod
    def start_turn(self, hints: Sequence[str] = (), primer: str = "") -> None:
        """Forget the previous turn; `hints` are phrases likely in this dialog state, `primer` an answer
        of the kind the question expects (`Listen.primer`), for an engine that takes a prompt."""

    @abstractmethod
    def accept(self, pcm: bytes) -> Hypothesis | None:
        """Feed PCM16 mono at `sample_rate`; return a new partial hypothesis when it changed."""

    def pause(self) -> None:  # noqa: B027 - optional hook, streaming engines ignore it
        """The caller paused: a non-streaming engine may start decoding what it has, speculatively."""

    @abstractmethod
    def finish(self) -> Hypothesis:
        """End of the caller's turn: the final hypothesis (empty text when nothing was understood)."""

    def resume_turn(self) -> bool:
        """The caller spoke again just after the end of the last turn, which stopped halfway through a
        number: take the new audio as more of that turn, so that the next `finish` reads both together.
        False when the engine cannot (its last turn is final): the session then joins the two texts."""
        return False

    def score(self, phrases: Sequence[str], prefix: str = "") -> list[float] | None:
        """How well each phrase matches the last finished turn's audio (mean log-probability per token,
        higher is better), for a dialog that expects one of a closed set of answers; with a `prefix`,
        how well each follows those words in the turn. None when the engine cannot say."""
        return None

    def prior(self, phrases: Sequence[str], prefix: str = "") -> list[float] | None:
        """Each phrase's score (as `score` gives it) when nobody says anything: how much the engine
        favours it whatever the audio, to be discounted; None when the engine cannot say."""
        return None

    def rescore_short_turn(self, phrases: Sequence[str]) -> tuple[list[float], list[float]] | None:
        """A second look at the last turn when it is short: the phrases' scores and priors as `score`
        and `prior` give them, from a wider view of the audio; None when the engine has none or the turn
        is not short."""
        return None

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release per-call resources."""


class RecognizerEngine(ABC):
    """A loaded model, shared by every call of the process."""

    #: Short engine name printed at start-up and in event logs, e.g. "vosk" or "whisper".
    name: str = ""

    @property
    @abstractmethod
    def description(self) -> str:
        """One line for the start-up banner: engine, model, language."""

    @abstractmethod
    def new_recognizer(self) -> Recognizer:
        """A recognizer for one call."""
