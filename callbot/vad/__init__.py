"""Voice activity detection: frame-level speech detectors and the endpointer that turns them into turns.

One detector and one endpointer per call::

    endpointer = Endpointer(create_detector("webrtc"), EndpointerConfig(), sample_rate=8000)
    for event in endpointer.process(frame, bot_audio=played_pcm_or_none):
        ...  # SpeechStarted / SpeechAudio / SpeechPaused / SpeechResumed / SpeechEnded

`SileroDetector` is imported on first use only, so callbot runs without its optional packages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from callbot.vad.detector import (
    DetectorUnavailableError,
    SpeechDetector,
    VadError,
    WebRtcDetector,
    create_detector,
)
from callbot.vad.endpointer import Endpointer, EndpointerConfig
from callbot.vad.events import (
    SpeechAudio,
    SpeechEnded,
    SpeechPaused,
    SpeechResumed,
    SpeechStarted,
    VadEvent,
)

if TYPE_CHECKING:
    from callbot.vad.silero import SileroDetector

__all__ = [
    "DetectorUnavailableError",
    "Endpointer",
    "EndpointerConfig",
    "SileroDetector",
    "SpeechAudio",
    "SpeechDetector",
    "SpeechEnded",
    "SpeechPaused",
    "SpeechResumed",
    "SpeechStarted",
    "VadError",
    "VadEvent",
    "WebRtcDetector",
    "create_detector",
]


def __getattr__(name: str) -> Any:
    if name == "SileroDetector":
        from callbot.vad.silero import SileroDetector

        return SileroDetector
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
