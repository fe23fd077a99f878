"""Line noise taken out of a caller's turn before Whisper hears it (spectral subtraction).

A phone line's hiss is steady; the start of every turn the session hands the recogniser is pre-roll,
the line before the caller speaks. Its median spectrum is the noise, subtracted (twice, with a floor so
that nothing is carved to silence) from every frame. On unseen Pico callers through an 8 kHz μ-law line,
word errors of the decoded utterances went from 40.1 to 34.1 % on noisy lines and from 23.6 to 21.6 % on
quiet ones (development utterances of bench/make_caller_set.py, seeds 7 and 11).
"""

from __future__ import annotations

import numpy as np

_FRAME = 512  # 32 ms at 16 kHz
_HOP = 128
_NOISE_S = 0.25  # the pre-roll that holds only the line
_OVER_SUBTRACTION = 2.0
_FLOOR = 0.05  # no bin goes below 5 % of its own magnitude: no "musical" holes


def subtract_line_noise(audio: np.ndarray, sample_rate: int = 16000) -> np.ndarray:
    """`audio` (float32 mono) with the steady noise of its first quarter second subtracted."""
    if len(audio) < sample_rate * _NOISE_S * 2:
        return audio
    window = np.hanning(_FRAME)
    padded = np.concatenate([np.zeros(_FRAME), audio.astype(np.float64), np.zeros(_FRAME)])
    frames = np.lib.stride_tricks.sliding_window_view(padded, _FRAME)[::_HOP] * window
    spectrum = np.fft.rfft(frames, axis=1)
    magnitude, phase = np.abs(spectrum), np.angle(spectrum)
    lead = int(_NOISE_S * sample_rate / _HOP) + _FRAME // _HOP  # the zero padding's frames, then the line
    noise = np.median(magnitude[:lead], axis=0)
    cleaned = np.maximum(magnitude - _OVER_SUBTRACTION * noise, _FLOOR * magnitude)
    rebuilt = np.fft.irfft(cleaned * np.exp(1j * phase), n=_FRAME, axis=1) * window
    out = np.zeros(len(padded))
    weight = np.zeros(len(padded))
    for index, frame in enumerate(rebuilt):
        start = index * _HOP
        out[start : start + _FRAME] += frame
        weight[start : start + _FRAME] += window**2
    out /= np.maximum(weight, 1e-6)
    return out[_FRAME : _FRAME + len(audio)].astype(np.float32)
