"""WAV read/write for recordings, fixtures and prompts (PCM16, mono or stereo)."""

from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from callbot.audio.g711 import alaw_decode, ulaw_decode


class WavError(ValueError):
    """A WAV file callbot cannot use, with the reason in words."""


@dataclass(frozen=True)
class WavAudio:
    """Decoded WAV contents as interleaved PCM16."""

    pcm: bytes
    sample_rate: int
    channels: int

    def channel(self, index: int) -> bytes:
        """One channel as mono PCM16 (0 = left, which holds the caller in callbot recordings)."""
        if self.channels == 1:
            if index:
                raise WavError("mono audio has only channel 0")
            return self.pcm
        samples = np.frombuffer(self.pcm, dtype="<i2").reshape(-1, self.channels)
        return bytes(np.ascontiguousarray(samples[:, index]).tobytes())


_WAVE_FORMAT_PCM = 1
_WAVE_FORMAT_ALAW = 6
_WAVE_FORMAT_MULAW = 7


def read_wav(path: str | Path) -> WavAudio:
    """Read a PCM16, 8-bit μ-law or A-law WAV file."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise WavError(f"{path}: cannot read: {exc.strerror}") from exc
    fmt, channels, rate, bits, payload = _parse_riff(path, data)
    if fmt == _WAVE_FORMAT_PCM and bits == 16:
        pcm = payload[: len(payload) // (2 * channels) * 2 * channels]
    elif fmt == _WAVE_FORMAT_MULAW and bits == 8:
        pcm = ulaw_decode(payload)
    elif fmt == _WAVE_FORMAT_ALAW and bits == 8:
        pcm = alaw_decode(payload)
    else:
        raise WavError(f"{path}: unsupported WAV encoding (format {fmt}, {bits} bits); use PCM16 or G.711")
    return WavAudio(pcm, rate, channels)


def _parse_riff(path: Path, data: bytes) -> tuple[int, int, int, int, bytes]:
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise WavError(f"{path}: not a WAV file (no RIFF/WAVE header)")
    offset = 12
    fmt_chunk: bytes | None = None
    payload: bytes | None = None
    while offset + 8 <= len(data):
        chunk_id = data[offset : offset + 4]
        size = int.from_bytes(data[offset + 4 : offset + 8], "little")
        body = data[offset + 8 : offset + 8 + size]
        if chunk_id == b"fmt ":
            fmt_chunk = body
        elif chunk_id == b"data":
            payload = body
        offset += 8 + size + (size & 1)
    if fmt_chunk is None or len(fmt_chunk) < 16 or payload is None:
        raise WavError(f"{path}: WAV file lacks a fmt or data chunk")
    fmt = int.from_bytes(fmt_chunk[0:2], "little")
    if fmt == 0xFFFE and len(fmt_chunk) >= 26:  # WAVE_FORMAT_EXTENSIBLE: the real format is in the GUID
        fmt = int.from_bytes(fmt_chunk[24:26], "little")
    channels = int.from_bytes(fmt_chunk[2:4], "little")
    rate = int.from_bytes(fmt_chunk[4:8], "little")
    bits = int.from_bytes(fmt_chunk[14:16], "little")
    if channels < 1 or rate < 1:
        raise WavError(f"{path}: WAV header says {channels} channels at {rate} Hz")
    return fmt, channels, rate, bits, payload


def write_wav(path: str | Path, pcm: bytes, sample_rate: int, channels: int = 1) -> None:
    """Write interleaved PCM16 as a standard WAV file."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(pcm)


def interleave(left: bytes, right: bytes) -> bytes:
    """Two mono PCM16 buffers → one stereo buffer; the shorter side is padded with silence."""
    a = np.frombuffer(left, dtype="<i2")
    b = np.frombuffer(right, dtype="<i2")
    n = max(len(a), len(b))
    stereo = np.zeros((n, 2), dtype="<i2")
    stereo[: len(a), 0] = a
    stereo[: len(b), 1] = b
    return bytes(stereo.tobytes())
