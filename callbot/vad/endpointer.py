"""Endpointer: per-frame speech decisions → caller turns (start, pause, resume, end), on the audio clock.

Pure logic over a `SpeechDetector`, one instance per call. All timing comes from `AudioFrame.start_ms`
and the frames' lengths, never from the wall clock, so a replayed recording gives the same events as the
live call (see callbot/vad/events.py for the events and their order).

Rules, with the `EndpointerConfig` names:
- A frame is *voiced* when the detector says speech and, while the bot is playing, the echo guard
  admits it (callbot/vad/echo.py).
- Speech starts when the last `start_speech_ms / start_voiced_ratio` ms hold at least `start_speech_ms`
  of voiced frames (the ring-buffer ratio of the classic webrtcvad example; 60 ms of the last 100 ms by
  default). While the bot speaks the bar is `barge_in_min_speech_ms` in the same ratio, so a cough or a
  "hm" does not cut the bot off. The onset is the first voiced frame in that window.
- In speech, trailing silence is counted from the end of the last voiced frame: `pause_ms` of it emits
  `SpeechPaused`, `end_silence_ms` emits `SpeechEnded`. Before the pause a single voiced frame extends the
  speech; after it, speech must be confirmed again like a start (`start_speech_ms` in the window) to emit
  `SpeechResumed`, so a click in the silence neither resumes nor delays the end.
- A turn longer than `max_speech_ms` from its onset is cut (`forced=True`); detection then starts afresh.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from callbot.audio import AudioFrame
from callbot.vad.detector import SpeechDetector, VadError
from callbot.vad.echo import EchoGuard
from callbot.vad.events import (
    SpeechAudio,
    SpeechEnded,
    SpeechPaused,
    SpeechResumed,
    SpeechStarted,
    VadEvent,
)


@dataclass(frozen=True, slots=True)
class EndpointerConfig:
    """Endpointing settings, all in audio-clock milliseconds (dB for the echo margin)."""

    start_speech_ms: int = 60
    start_voiced_ratio: float = 0.6
    end_silence_ms: int = 600
    pause_ms: int = 200
    preroll_ms: int = 300
    max_speech_ms: int = 15000
    barge_in_min_speech_ms: int = 200
    echo_margin_db: float = 16.0
    echo_tail_ms: int = 200

    def __post_init__(self) -> None:
        positive = (
            "start_speech_ms",
            "end_silence_ms",
            "pause_ms",
            "max_speech_ms",
            "barge_in_min_speech_ms",
        )
        for name in positive:
            if getattr(self, name) <= 0:
                raise VadError(f"endpointer {name} must be positive, got {getattr(self, name)!r}")
        for name in ("preroll_ms", "echo_tail_ms", "echo_margin_db"):
            if getattr(self, name) < 0:
                raise VadError(f"endpointer {name} must not be negative, got {getattr(self, name)!r}")
        if not 0.0 < self.start_voiced_ratio <= 1.0:
            raise VadError(
                f"endpointer start_voiced_ratio must be in (0, 1], got {self.start_voiced_ratio!r}"
            )
        if self.pause_ms >= self.end_silence_ms:
            raise VadError(
                f"endpointer pause_ms ({self.pause_ms}) must be shorter than end_silence_ms "
                f"({self.end_silence_ms}): the pause comes before the end of turn"
            )

    def window_ms(self, required_ms: int) -> int:
        """Length of the look-back window in which `required_ms` of voiced audio starts speech."""
        return math.ceil(required_ms / self.start_voiced_ratio)


class Endpointer:
    """Turns one call's caller audio into `VadEvent`s. Not thread-safe: one session drives it."""

    def __init__(
        self, detector: SpeechDetector, config: EndpointerConfig | None = None, sample_rate: int = 8000
    ) -> None:
        if sample_rate <= 0:
            raise VadError(f"endpointer sample rate must be positive, got {sample_rate}")
        self.detector = detector
        self.config = config or EndpointerConfig()
        self.sample_rate = sample_rate
        self._echo = EchoGuard(self.config.echo_margin_db, self.config.echo_tail_ms)
        longest_start = max(self.config.start_speech_ms, self.config.barge_in_min_speech_ms)
        self._keep_ms = self.config.preroll_ms + self.config.window_ms(longest_start)
        self._history: deque[tuple[AudioFrame, bool]] = deque()  # recent frames and whether voiced
        self._clock_ms: int | None = None
        self._in_speech = False
        self._paused = False
        self._speech_start_ms = 0
        self._last_voiced_end_ms = 0

    @property
    def in_speech(self) -> bool:
        """True between `SpeechStarted` and `SpeechEnded`."""
        return self._in_speech

    def reset(self) -> None:
        """Forget everything, the detector's adaptation included (a new stream on the same call)."""
        self.detector.reset()
        self._echo.reset()
        self._history.clear()
        self._clock_ms = None
        self._in_speech = False
        self._paused = False

    def process(self, frame: AudioFrame, bot_audio: bytes | None = None) -> list[VadEvent]:
        """Feed the next caller frame; `bot_audio` is what the bot played during it (None when silent)."""
        if frame.sample_rate != self.sample_rate:
            raise VadError(
                f"endpointer runs at {self.sample_rate} Hz but got a {frame.sample_rate} Hz frame; "
                "resample the caller audio first"
            )
        if self._clock_ms is not None and frame.start_ms < self._clock_ms:
            raise VadError(
                f"frame at {frame.start_ms} ms arrived after audio up to {self._clock_ms} ms; "
                "frames must come in audio-clock order"
            )
        self._clock_ms = frame.end_ms
        self._echo.observe(frame.end_ms, bot_audio)
        detected = self.detector.is_speech(frame.pcm, frame.sample_rate)
        voiced = detected and self._echo.admits(frame.pcm)
        self._remember(frame, voiced)
        if not self._in_speech:
            return self._maybe_start(frame)
        return self._continue_speech(frame, voiced)

    def _remember(self, frame: AudioFrame, voiced: bool) -> None:
        self._history.append((frame, voiced))
        horizon = frame.end_ms - self._keep_ms
        while self._history and self._history[0][0].end_ms <= horizon:
            self._history.popleft()

    def _voiced_in_window(self, now_ms: int, window_ms: int, since_ms: float) -> tuple[int, int, int]:
        """Among frames ending within `window_ms` of `now_ms` and starting at or after `since_ms`: the
        voiced milliseconds, the start of the earliest voiced frame and the end of the latest one."""
        voiced_ms = 0
        onset = latest_end = -1
        for frame, voiced in reversed(self._history):
            if frame.end_ms <= now_ms - window_ms or frame.start_ms < since_ms:
                break
            if voiced:
                voiced_ms += frame.duration_ms
                onset = frame.start_ms
                latest_end = max(latest_end, frame.end_ms)
        return voiced_ms, onset, latest_end

    def _maybe_start(self, frame: AudioFrame) -> list[VadEvent]:
        barge_in = self._echo.bot_speaking
        required = self.config.barge_in_min_speech_ms if barge_in else self.config.start_speech_ms
        voiced_ms, onset, latest_end = self._voiced_in_window(
            frame.end_ms, self.config.window_ms(required), since_ms=-math.inf
        )
        if voiced_ms < required:
            return []
        self._in_speech = True
        self._paused = False
        self._speech_start_ms = onset
        self._last_voiced_end_ms = latest_end
        first = onset - self.config.preroll_ms
        preroll = tuple(f for f, _ in self._history if f.start_ms >= first)
        return [SpeechStarted(frame.end_ms, onset, preroll, barge_in)]

    def _continue_speech(self, frame: AudioFrame, voiced: bool) -> list[VadEvent]:
        config = self.config
        events: list[VadEvent] = [SpeechAudio(frame)]
        if self._paused:
            window = config.window_ms(config.start_speech_ms)
            voiced_ms, _, latest_end = self._voiced_in_window(frame.end_ms, window, self._last_voiced_end_ms)
            if voiced_ms >= config.start_speech_ms:
                self._paused = False
                self._last_voiced_end_ms = latest_end
                events.append(SpeechResumed(frame.end_ms))
        elif voiced:
            self._last_voiced_end_ms = frame.end_ms
        silence_ms = frame.end_ms - self._last_voiced_end_ms
        if not self._paused and silence_ms >= config.pause_ms:
            self._paused = True
            events.append(SpeechPaused(frame.end_ms, self._last_voiced_end_ms))
        if silence_ms >= config.end_silence_ms:
            events.append(self._end(frame.end_ms, forced=False))
        elif frame.end_ms - self._speech_start_ms >= config.max_speech_ms:
            events.append(self._end(frame.end_ms, forced=True))
        return events

    def _end(self, at_ms: int, forced: bool) -> SpeechEnded:
        ended = SpeechEnded(at_ms, self._speech_start_ms, self._last_voiced_end_ms, forced)
        self._in_speech = False
        self._paused = False
        # The next turn is detected on fresh audio only: no pre-roll or votes from this one.
        self._history.clear()
        return ended
