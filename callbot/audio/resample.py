"""Sample-rate conversion with soxr (band-limited, unlike audioop's ratecv).

Telephone legs run at 8 kHz, recognisers want 16 kHz, synthesisers produce 16 or 22.05 kHz.
"""

from __future__ import annotations

import numpy as np
import soxr


def resample(pcm: bytes, from_rate: int, to_rate: int) -> bytes:
    """Resample a whole PCM16 buffer (a prompt, a recording)."""
    if from_rate == to_rate or not pcm:
        return pcm
    samples = np.frombuffer(pcm, dtype="<i2")
    out = soxr.resample(samples, from_rate, to_rate, quality="HQ")
    return bytes(np.asarray(out, dtype="<i2").tobytes())


class Resampler:
    """Streaming resampler for one direction of one call: keeps filter state across 20 ms frames."""

    def __init__(self, from_rate: int, to_rate: int) -> None:
        self.from_rate = from_rate
        self.to_rate = to_rate
        self._stream = (
            None if from_rate == to_rate else soxr.ResampleStream(from_rate, to_rate, 1, dtype="int16")
        )

    def process(self, pcm: bytes, last: bool = False) -> bytes:
        if self._stream is None:
            return pcm
        samples = np.frombuffer(pcm, dtype="<i2")
        return bytes(self._stream.resample_chunk(samples, last=last).astype("<i2").tobytes())


class FrameResampler:
    """Low-latency streaming resampler for small integer ratios (8 ⇄ 16 kHz), frame in, frame out.

    soxr's stream buffers about 100 ms before it releases output, which would delay every 20 ms frame on
    its way to the recogniser. Here a windowed-sinc FIR (Kaiser, 64 taps per phase-group) runs on each
    frame with the previous frame's tail as state: every input frame yields its output at once, with a
    group delay of a couple of milliseconds. Other ratios fall back to `Resampler`.
    """

    _TAPS_PER_RATE = 32

    def __init__(self, from_rate: int, to_rate: int) -> None:
        from math import gcd

        self.from_rate = from_rate
        self.to_rate = to_rate
        common = gcd(from_rate, to_rate)
        self._up = to_rate // common
        self._down = from_rate // common
        self._fallback: Resampler | None = None
        if from_rate == to_rate:
            return
        if max(self._up, self._down) > 6:
            self._fallback = Resampler(from_rate, to_rate)
            return
        factor = max(self._up, self._down)
        taps = self._TAPS_PER_RATE * factor * 2 + 1
        n = np.arange(taps) - (taps - 1) / 2
        cutoff = 0.45 / factor  # cycles per sample at the high rate: just below the lower Nyquist
        kernel = 2 * cutoff * np.sinc(2 * cutoff * n) * np.kaiser(taps, 8.0)
        self._kernel = kernel / kernel.sum() * self._up
        self._history = np.zeros(taps - 1)
        self._phase = 0  # index of the next output sample within the upsampled stream, modulo `down`

    def process(self, pcm: bytes) -> bytes:
        if self.from_rate == self.to_rate:
            return pcm
        if self._fallback is not None:
            return self._fallback.process(pcm)
        samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
        stuffed = np.zeros(len(samples) * self._up)
        stuffed[:: self._up] = samples
        extended = np.concatenate([self._history, stuffed])
        filtered = np.convolve(extended, self._kernel, mode="valid")
        self._history = extended[len(extended) - len(self._history) :]
        out = filtered[self._phase :: self._down]
        self._phase = (self._phase - len(filtered)) % self._down
        return bytes(np.clip(np.round(out), -32768, 32767).astype("<i2").tobytes())
