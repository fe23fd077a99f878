"""What the endpointer tells the session about the caller's speech, in audio-clock milliseconds.

Every event's `at_ms` is the moment the decision was taken: the end of the frame that was just processed.
A replayed recording therefore yields the same events at the same times as the live call did.

Order within one `Endpointer.process` call is fixed: nothing; or `SpeechStarted` alone; or, in speech,
`SpeechAudio` first, then at most one of `SpeechPaused` / `SpeechResumed`, then possibly `SpeechEnded`.
A turn reads `SpeechStarted (SpeechAudio... [SpeechPaused [SpeechResumed]]...) SpeechEnded`; an end by
silence always comes after a `SpeechPaused`, a forced end may not. Over a turn the audio is
`SpeechStarted.preroll` followed by every `SpeechAudio.frame`: contiguous, each frame exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass

from callbot.audio import AudioFrame


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    """The caller started speaking.

    `speech_start_ms` is the onset (start of the first voiced frame that confirmed the speech), `at_ms`
    the decision time, later by at least `start_speech_ms`. `preroll` holds `preroll_ms` of audio from
    before the onset and the frames that confirmed it (the current frame last), so a recogniser fed
    `preroll` then every `SpeechAudio` misses no syllable.
    `barge_in` is true when the caller spoke over the bot's own audio.
    """

    at_ms: int
    speech_start_ms: int
    preroll: tuple[AudioFrame, ...]
    barge_in: bool


@dataclass(frozen=True, slots=True)
class SpeechAudio:
    """One frame of the current turn, sent for every frame after `SpeechStarted` up to `SpeechEnded`."""

    frame: AudioFrame


@dataclass(frozen=True, slots=True)
class SpeechPaused:
    """The caller has been silent for `pause_ms`: a non-streaming recogniser may start decoding now."""

    at_ms: int
    speech_end_ms: int


@dataclass(frozen=True, slots=True)
class SpeechResumed:
    """Speech came back after a `SpeechPaused`: a speculative decode must be thrown away."""

    at_ms: int


@dataclass(frozen=True, slots=True)
class SpeechEnded:
    """End of the caller's turn.

    `speech_end_ms` is the end of the last voiced frame (latency is measured from there); `at_ms` the
    decision time. `forced` is true when the turn was cut at `max_speech_ms` rather than ended by silence.
    """

    at_ms: int
    speech_start_ms: int
    speech_end_ms: int
    forced: bool


VadEvent = SpeechStarted | SpeechAudio | SpeechPaused | SpeechResumed | SpeechEnded
