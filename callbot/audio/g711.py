"""G.711 μ-law and A-law codecs (ITU-T G.711), vectorised with lookup tables.

Telephone audio arrives as 8-bit G.711; the rest of callbot works on PCM16. `audioop` did this until
Python 3.13 removed it, so the tables are built here once, from the reference algorithm.
"""

from __future__ import annotations

import numpy as np

_ULAW_BIAS = 0x84


def _ulaw_encode_scalar(sample: int) -> int:
    # ITU-T G.191 reference (g711.c, ulaw_compress): 14-bit magnitude, one's complement for negatives.
    magnitude = ((~sample) if sample < 0 else sample) >> 2
    magnitude = min(magnitude + 33, 0x1FFF)
    segment = (magnitude >> 6).bit_length() + 1
    high_nibble = 0x08 - segment
    low_nibble = 0x0F - ((magnitude >> segment) & 0x0F)
    code = (high_nibble << 4) | low_nibble
    return code | 0x80 if sample >= 0 else code


def _ulaw_decode_scalar(code: int) -> int:
    code = ~code & 0xFF
    sign = code & 0x80
    exponent = (code >> 4) & 0x07
    mantissa = code & 0x0F
    magnitude = (((mantissa << 3) + _ULAW_BIAS) << exponent) - _ULAW_BIAS
    return -magnitude if sign else magnitude


def _alaw_encode_scalar(sample: int) -> int:
    # A-law works on 13-bit magnitudes; the sign bit is set for positive samples.
    if sample >= 0:
        sign = 0x80
        magnitude = sample >> 3
    else:
        sign = 0x00
        magnitude = (-sample - 1) >> 3
    if magnitude < 32:
        code = magnitude >> 1
    else:
        exponent = magnitude.bit_length() - 5
        code = (exponent << 4) | ((magnitude >> exponent) & 0x0F)
    return (sign | code) ^ 0x55


def _alaw_decode_scalar(code: int) -> int:
    code ^= 0x55
    exponent = (code >> 4) & 0x07
    mantissa = code & 0x0F
    magnitude = (mantissa << 4) + 8
    if exponent:
        magnitude = (magnitude + 0x100) << (exponent - 1)
    return magnitude if code & 0x80 else -magnitude


_ALL_SAMPLES = range(-32768, 32768)
_ULAW_ENCODE = np.array([_ulaw_encode_scalar(s) for s in _ALL_SAMPLES], dtype=np.uint8)
_ALAW_ENCODE = np.array([_alaw_encode_scalar(s) for s in _ALL_SAMPLES], dtype=np.uint8)
_ULAW_DECODE = np.array([_ulaw_decode_scalar(c) for c in range(256)], dtype="<i2")
_ALAW_DECODE = np.array([_alaw_decode_scalar(c) for c in range(256)], dtype="<i2")


def _encode(pcm: bytes, table: np.ndarray) -> bytes:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.int32) + 32768
    return bytes(table[samples].tobytes())


def _decode(payload: bytes, table: np.ndarray) -> bytes:
    return bytes(table[np.frombuffer(payload, dtype=np.uint8)].tobytes())


def ulaw_encode(pcm: bytes) -> bytes:
    """PCM16 little-endian → G.711 μ-law (PCMU), one byte per sample."""
    return _encode(pcm, _ULAW_ENCODE)


def ulaw_decode(payload: bytes) -> bytes:
    """G.711 μ-law (PCMU) → PCM16 little-endian."""
    return _decode(payload, _ULAW_DECODE)


def alaw_encode(pcm: bytes) -> bytes:
    """PCM16 little-endian → G.711 A-law (PCMA), one byte per sample."""
    return _encode(pcm, _ALAW_ENCODE)


def alaw_decode(payload: bytes) -> bytes:
    """G.711 A-law (PCMA) → PCM16 little-endian."""
    return _decode(payload, _ALAW_DECODE)
