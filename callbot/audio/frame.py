"""PCM16 mono frames stamped with the audio clock.

Every component counts time in samples (see docs/architecture.md): a frame carries the audio-clock time of
its first sample, so a replayed recording and a live call take the same decisions.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

FRAME_MS = 20
BYTES_PER_SAMPLE = 2


@dataclass(frozen=True, slots=True)
class AudioFrame:
    """A slice of PCM16 little-endian mono audio and where it sits on the call's audio clock."""

    pcm: bytes
    sample_rate: int
    start_ms: int

    def __post_init__(self) -> None:
        if len(self.pcm) % BYTES_PER_SAMPLE:
            raise ValueError("PCM16 frame must hold a whole number of 16-bit samples")
        if self.sample_rate <= 0:
            raise ValueError(f"sample rate must be positive, got {self.sample_rate}")

    @property
    def samples(self) -> int:
        return len(self.pcm) // BYTES_PER_SAMPLE

    @property
    def duration_ms(self) -> int:
        return self.samples * 1000 // self.sample_rate

    @property
    def end_ms(self) -> int:
        return self.start_ms + self.duration_ms


def samples_per_frame(sample_rate: int, frame_ms: int = FRAME_MS) -> int:
    return sample_rate * frame_ms // 1000


def pcm_duration_ms(pcm: bytes, sample_rate: int) -> int:
    return len(pcm) // BYTES_PER_SAMPLE * 1000 // sample_rate


def silence(sample_rate: int, duration_ms: int = FRAME_MS) -> bytes:
    return bytes(samples_per_frame(sample_rate, duration_ms) * BYTES_PER_SAMPLE)


def frames_from_pcm(
    pcm: bytes, sample_rate: int, start_ms: int = 0, frame_ms: int = FRAME_MS, pad_last: bool = True
) -> Iterator[AudioFrame]:
    """Cut a PCM16 buffer into consecutive frames; a short last frame is padded with silence."""
    size = samples_per_frame(sample_rate, frame_ms) * BYTES_PER_SAMPLE
    for index, offset in enumerate(range(0, len(pcm), size)):
        chunk = pcm[offset : offset + size]
        if len(chunk) < size:
            if not pad_last:
                return
            chunk = chunk + bytes(size - len(chunk))
        yield AudioFrame(chunk, sample_rate, start_ms + index * frame_ms)
