"""Line noise taken out of a caller's turn before Whisper hears it (spectral subtraction).

A phone line's hiss is steady, and every turn has stretches that hold only the line: the pre-roll the
session hands the recogniser before the caller speaks, and the pauses between words. The noise is the
median spectrum of the turn's quietest fifth of frames (a minimum-statistics estimate), subtracted
(twice, with a floor so that nothing is carved to silence) from every frame.

Why the quietest frames rather than the pre-roll alone (the first estimate): a turn whose pre-roll
caught the caller's first syllable (a late voice onset, a barge-in) or a recording without pre-roll had
speech taken for line noise and subtracted from every word. On development audio (bench/asr_wer.py's
even-numbered Asterisk prompts, which start at once, and bench/make_caller_set.py utterances, seeds 7 and
11), word errors, no subtraction / the pre-roll's estimate / the quietest fifth:
human Asterisk prompts 19.2 / 20.8 / 18.5 %; Pico callers on quiet lines 21.2 / 19.1 / 19.4 %; on noisy
lines 40.1 / 34.1 / 34.1 %.
"""

from __future__ import annotations

import numpy as np

_FRAME = 512  # 32 ms at 16 kHz
_HOP = 128
_QUIET_SHARE = 0.2  # the share of a turn's frames, the quietest, that stand for the line
_MIN_QUIET_FRAMES = 8
_OVER_SUBTRACTION = 2.0
_FLOOR = 0.05  # no bin goes below 5 % of its own magnitude: no "musical" holes
_MIN_S = 0.5  # shorter audio is left alone: too few frames to tell the line from the voice
#: A frame's energy above 30 Hz (sum of squared magnitudes, full scale 1.0) below which it holds no line
#: at all. Digital silence comes out of μ-law or A-law and soxr's dithered resampling at about 1e-5; a
#: line's hiss at -80 dBFS at 5e-4, at -60 dBFS at 4e-2.
_DIGITAL_SILENCE = 1e-4


def subtract_line_noise(audio: np.ndarray, sample_rate: int = 16000) -> np.ndarray:
    """`audio` (float32 mono) with the steady noise of its quietest frames subtracted."""
    if len(audio) < sample_rate * _MIN_S:
        return audio
    window = np.hanning(_FRAME)
    padded = np.concatenate([np.zeros(_FRAME), audio.astype(np.float64), np.zeros(_FRAME)])
    frames = np.lib.stride_tricks.sliding_window_view(padded, _FRAME)[::_HOP] * window
    spectrum = np.fft.rfft(frames, axis=1)
    magnitude, phase = np.abs(spectrum), np.angle(spectrum)
    noise = _line_spectrum(magnitude)
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


def _line_spectrum(magnitude: np.ndarray) -> np.ndarray:
    """The median spectrum of the quietest frames, leaving out those that overlap the zero padding and
    those of digital silence (a trunk that suppresses silence sends nothing between talkspurts, and a
    replayed turn may start with it): taken for the line, they made the noise zero and nothing was
    subtracted."""
    edge = _FRAME // _HOP
    inner = magnitude[edge:-edge] if len(magnitude) > 2 * edge + _MIN_QUIET_FRAMES else magnitude
    # without the two lowest bins: A-law's silence decodes to a constant offset
    heard = inner[(inner[:, 2:] ** 2).sum(axis=1) > _DIGITAL_SILENCE]
    inner = heard if len(heard) >= _MIN_QUIET_FRAMES else inner
    energy = (inner**2).sum(axis=1)
    count = min(len(inner), max(_MIN_QUIET_FRAMES, int(len(inner) * _QUIET_SHARE)))
    quietest = np.argsort(energy)[:count]
    return np.median(inner[quietest], axis=0)
