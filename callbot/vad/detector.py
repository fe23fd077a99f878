"""Frame-level speech detectors: is this 10/20/30 ms of PCM16 speech or not?

A detector keeps per-stream state (webrtcvad adapts its noise estimate, Silero is recurrent), so each call
owns its own instance. The endpointer turns these per-frame answers into turns.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import webrtcvad


class VadError(ValueError):
    """Bad input to the VAD (frame size, sample rate, settings), with what to change in the message."""


class DetectorUnavailableError(RuntimeError):
    """The detector asked for needs an optional package that is not installed."""


@runtime_checkable
class SpeechDetector(Protocol):
    """Says whether one frame of PCM16 mono is speech; one instance per call."""

    def is_speech(self, pcm: bytes, sample_rate: int) -> bool:
        """True when the 10, 20 or 30 ms frame `pcm` (PCM16 little-endian mono) holds speech."""
        ...

    def reset(self) -> None:
        """Forget what the stream taught the detector, before an unrelated stream."""
        ...


WEBRTC_SAMPLE_RATES = (8000, 16000, 32000, 48000)
WEBRTC_FRAME_MS = (10, 20, 30)


class WebRtcDetector:
    """The WebRTC GMM detector (`webrtcvad`): ~0.1 ms CPU per audio-second, good on clean lines.

    `mode` 0 (least aggressive) to 3 (most aggressive at rejecting non-speech). It breaks down once the
    background noise is louder than about -35 dBFS: do not put automatic gain in front of it.

    webrtcvad calls the first ~80 ms of any audible stream speech while its noise model settles (a
    line's background hiss at call set-up would otherwise open a turn), so the first `WARMUP_MS` of each
    stream are fed to it but answered as silence.
    """

    WARMUP_MS = 100

    def __init__(self, mode: int = 3) -> None:
        if mode not in (0, 1, 2, 3):
            raise VadError(f"webrtc VAD mode must be 0, 1, 2 or 3, got {mode!r}")
        self.mode = mode
        self._vad = webrtcvad.Vad(mode)
        self._warmup_left_ms = self.WARMUP_MS

    def is_speech(self, pcm: bytes, sample_rate: int) -> bool:
        if sample_rate not in WEBRTC_SAMPLE_RATES:
            raise VadError(f"webrtc VAD works at 8000, 16000, 32000 or 48000 Hz, got {sample_rate} Hz")
        samples = len(pcm) // 2
        if len(pcm) % 2 or samples * 1000 not in (ms * sample_rate for ms in WEBRTC_FRAME_MS):
            raise VadError(
                f"webrtc VAD needs frames of 10, 20 or 30 ms, got {len(pcm)} bytes at {sample_rate} Hz"
            )
        speech = bool(self._vad.is_speech(pcm, sample_rate))
        if self._warmup_left_ms > 0:
            self._warmup_left_ms -= samples * 1000 // sample_rate
            return False
        return speech

    def reset(self) -> None:
        self._vad = webrtcvad.Vad(self.mode)
        self._warmup_left_ms = self.WARMUP_MS


DETECTOR_NAMES = ("auto", "webrtc", "silero")


def create_detector(name: str = "webrtc") -> SpeechDetector:
    """A fresh detector for one call, by configuration name: "webrtc", "silero", or "auto" (Silero when
    its model and runtime are installed — the `silero` extra —, else webrtc)."""
    key = name.strip().lower()
    if key == "auto":
        try:
            return create_detector("silero")
        except (ImportError, DetectorUnavailableError):
            return WebRtcDetector()
    if key == "webrtc":
        return WebRtcDetector()
    if key == "silero":
        from callbot.vad.silero import SileroDetector

        return SileroDetector()
    raise VadError(f"unknown VAD {name!r}; choose one of: {', '.join(DETECTOR_NAMES)}")
