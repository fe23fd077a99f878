"""SVOX Pico through the `pico2wave` command: the clearest French voice we can ship (Apache-2.0).

Each request runs its own `pico2wave` process writing its own temporary WAV, so concurrent calls from
several sessions need no lock. Text goes in on stdin: no length limit from the command line, and a text
starting with "-" cannot pass for an option.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile

from callbot.audio import read_wav, resample
from callbot.audio.wav import WavError
from callbot.tts.base import SynthesisError, Synthesizer, check_sample_rate, nothing_to_say

PICO_LANGUAGES = ("fr-FR", "en-US", "en-GB", "de-DE", "es-ES", "it-IT")
#: Pico's accepted ranges for <speed> and <pitch>, in percent of the voice's normal value.
SPEED_RANGE = (20, 500)
PITCH_RANGE = (50, 200)

_INSTALL_HINT = "install it with `apt-get install libttspico-utils` (Debian contrib/non-free)"


def pico_available() -> bool:
    return shutil.which("pico2wave") is not None


def escape_pico_markup(text: str) -> str:
    """Take out '<' and '>' so that text cannot open a Pico tag (<play file=…>, <speed …>) of its own."""
    return text.replace("<", " ").replace(">", " ")


class PicoSynthesizer(Synthesizer):
    """French (fr-FR) SVOX Pico voice; 16 kHz native, converted to the requested rate with soxr.

    `speed` and `pitch` are percentages of the normal voice (100 = unchanged), applied with Pico's own
    markup; the test-fixture generator uses them to give callers different voices.
    """

    name = "pico"

    def __init__(
        self, *, language: str = "fr-FR", speed: int = 100, pitch: int = 100, timeout_s: float = 30.0
    ) -> None:
        if language not in PICO_LANGUAGES:
            raise ValueError(f"Pico has no language {language!r}; choose one of {', '.join(PICO_LANGUAGES)}")
        _check_percent("speed", speed, SPEED_RANGE)
        _check_percent("pitch", pitch, PITCH_RANGE)
        command = shutil.which("pico2wave")
        if command is None:
            raise SynthesisError(f"pico2wave not found: {_INSTALL_HINT}")
        self._command = command
        self.language = language
        self.speed = speed
        self.pitch = pitch
        self.timeout_s = timeout_s

    @property
    def description(self) -> str:
        settings = [f"speed {self.speed} %"] if self.speed != 100 else []
        settings += [f"pitch {self.pitch} %"] if self.pitch != 100 else []
        return ", ".join([f"pico {self.language} (SVOX)", *settings])

    def markup(self, text: str) -> str:
        """The exact input given to Pico: escaped text inside the speed/pitch tags."""
        body = escape_pico_markup(text)
        if self.pitch != 100:
            body = f'<pitch level="{self.pitch}">{body}</pitch>'
        if self.speed != 100:
            body = f'<speed level="{self.speed}">{body}</speed>'
        return body

    def synthesize(self, text: str, sample_rate: int) -> bytes:
        """PCM16 mono at `sample_rate`; blank or punctuation-only text gives b"" (nothing to say)."""
        check_sample_rate(sample_rate)
        if nothing_to_say(text):
            return b""
        fd, path = tempfile.mkstemp(prefix="callbot-pico-", suffix=".wav")  # pico2wave wants a .wav name
        os.close(fd)
        try:
            done = subprocess.run(
                [self._command, "-l", self.language, "-w", path],
                input=self.markup(text).encode("utf-8"),
                capture_output=True,
                timeout=self.timeout_s,
                check=False,
            )
            if done.returncode:
                reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
                raise SynthesisError(f"pico2wave failed (exit {done.returncode}): {' '.join(reason[:1])}")
            wav = read_wav(path)
        except subprocess.TimeoutExpired as exc:
            raise SynthesisError(f"pico2wave took more than {self.timeout_s:g} s for {text[:60]!r}") from exc
        except (OSError, WavError) as exc:
            raise SynthesisError(f"pico2wave gave no usable audio for {text[:60]!r}: {exc}") from exc
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        if not wav.pcm:
            raise SynthesisError(f"pico2wave wrote an empty WAV for {text[:60]!r}")
        return resample(wav.channel(0), wav.sample_rate, sample_rate)


def _check_percent(what: str, value: int, bounds: tuple[int, int]) -> None:
    low, high = bounds
    if not isinstance(value, int) or not low <= value <= high:
        raise ValueError(
            f"Pico {what} must be a whole percentage from {low} to {high} (100 = normal), got {value!r}"
        )
