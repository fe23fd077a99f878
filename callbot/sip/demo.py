"""A small call handler for demos and tests: greets, listens, transfers on DTMF 0.

It exercises the whole SIP layer without any speech stack: the greeting is a WAV file, what the caller
says is kept (and written to `heard_dir/<call id>.wav` when set), DTMF 0 sends a REFER with demo
context, and when a transfer fails the caller hears "please try later" instead of being dropped.
Prompts default to the French Asterisk prompts when installed (Debian asterisk-core-sounds-fr-wav,
CC-BY-SA-3.0), else to a short tone.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from callbot.audio.resample import resample
from callbot.audio.wav import read_wav, write_wav
from callbot.sip.context import TransferContext
from callbot.sip.host import BaseCallHandler, CallControl
from callbot.sip.protocol import CallEnded, CallStarted, DtmfIn, PlaybackMark, TransferStatus, call_file_stem

PROMPTS = Path("/usr/share/asterisk/sounds/fr")


def load_prompt(path: str | Path | None, sample_rate: int, fallback_hz: float = 440.0) -> bytes:
    """A WAV as PCM16 mono at `sample_rate`; a 0.6 s tone when `path` is None or missing."""
    if path is not None and Path(path).exists():
        audio = read_wav(path)
        return resample(audio.channel(0), audio.sample_rate, sample_rate)
    t = np.arange(int(sample_rate * 0.6)) / sample_rate
    tone = 0.3 * 32767 * np.sin(2 * math.pi * fallback_hz * t)
    return bytes(tone.astype("<i2").tobytes())


class DemoHandler(BaseCallHandler):
    """Greets the caller, records what it hears, transfers on DTMF 0, apologises if that fails."""

    def __init__(self, started: CallStarted, control: CallControl, settings: DemoSettings) -> None:
        self.started = started
        self.control = control
        self.settings = settings
        self.heard = bytearray()
        self.frames = 0
        self.first_frame_ms: int | None = None
        self.digits: list[DtmfIn] = []
        self.marks: list[PlaybackMark] = []
        self.transfer_statuses: list[TransferStatus] = []
        self.ended: CallEnded | None = None
        self.done = threading.Event()
        rate = started.sample_rate
        self._prompts = {
            "greeting": load_prompt(settings.greeting, rate, 440.0),
            "transfer": load_prompt(settings.transfer_prompt, rate, 660.0),
            "apology": load_prompt(settings.apology_prompt, rate, 330.0),
        }
        control.play(self._prompts["greeting"], mark="greeting")

    def on_audio(self, frame: Any) -> None:
        if self.first_frame_ms is None:
            self.first_frame_ms = frame.start_ms
        self.frames += 1
        self.heard += frame.pcm

    def on_dtmf(self, dtmf: DtmfIn) -> None:
        self.digits.append(dtmf)
        if dtmf.digit == "0" and self.settings.transfer_to:
            self.control.play(self._prompts["transfer"], mark="transfer")
            context = TransferContext(
                caller=self.started.caller,
                intent=self.settings.intent,
                slots={"digits": "".join(d.digit for d in self.digits), **self.settings.slots},
                summary=self.settings.summary,
            )
            self.control.transfer(self.settings.transfer_to, context)
        elif dtmf.digit == "#":
            self.control.hangup("caller pressed #")

    def on_playback_mark(self, mark: PlaybackMark) -> None:
        self.marks.append(mark)

    def on_transfer_status(self, status: TransferStatus) -> None:
        self.transfer_statuses.append(status)
        if status.final and not status.ok:
            self.control.play(self._prompts["apology"], mark="apology")

    def on_ended(self, ended: CallEnded) -> None:
        self.ended = ended
        if self.settings.heard_dir is not None:
            path = Path(self.settings.heard_dir) / f"{call_file_stem(self.started.call_id)}.wav"
            path.parent.mkdir(parents=True, exist_ok=True)
            write_wav(path, bytes(self.heard), self.started.sample_rate)
        self.done.set()


class DemoSettings:
    def __init__(self, options: Mapping[str, Any]) -> None:
        known = {
            "greeting",
            "transfer_prompt",
            "apology_prompt",
            "transfer_to",
            "heard_dir",
            "intent",
            "summary",
            "slots",
        }
        unknown = set(options) - known
        if unknown:
            raise ValueError(f"demo handler: unknown option(s) {sorted(unknown)}; known: {sorted(known)}")
        self.greeting = options.get("greeting", PROMPTS / "hello-world.wav")
        self.transfer_prompt = options.get("transfer_prompt", PROMPTS / "transfer.wav")
        self.apology_prompt = options.get("apology_prompt", PROMPTS / "please-try-call-later.wav")
        self.transfer_to: str | None = options.get("transfer_to")
        self.heard_dir: str | None = options.get("heard_dir")
        self.intent: str = options.get("intent", "parler_conseiller")
        self.summary: str = options.get(
            "summary", "Appel de démonstration : l'appelant a demandé un conseiller."
        )
        self.slots: dict[str, Any] = dict(options.get("slots", {}))


class DemoFactory:
    """HandlerFactory that remembers its handlers, so a test can look at what each call heard."""

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        self.settings = DemoSettings(options or {})
        self.handlers: dict[str, DemoHandler] = {}
        self._changed = threading.Condition()

    def __call__(self, started: CallStarted, control: CallControl) -> DemoHandler:
        handler = DemoHandler(started, control, self.settings)
        with self._changed:
            self.handlers[started.call_id] = handler
            self._changed.notify_all()
        return handler

    def reset(self) -> None:
        with self._changed:
            self.handlers.clear()

    def wait_for_calls(self, count: int, timeout: float) -> list[DemoHandler]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.handlers) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(self.handlers)} of {count} calls reached the handler")
                self._changed.wait(left)
            return list(self.handlers.values())


def build_demo_factory(options: Mapping[str, Any]) -> DemoFactory:
    """Entry point for `python -m callbot.sip.host --handler callbot.sip.demo:build_demo_factory`."""
    return DemoFactory(options)
