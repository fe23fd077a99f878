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
