"""Bringing a quiet caller up to the level Whisper was trained on, before it hears the turn.

Whisper's log-mel features are not level-normalised (only clamped 80 dB under the loudest bin), so the
same words said 10 dB softer reach the model as different input. On the stress calls of
bench/make_call_set.py (`--conditions stress`, seed 4242), callers 8.5-10 dB below the development range
on a quiet line reached 10 of 15 outcomes (WER 31.6 %) where the loud ones reached 13 of 16 (13.1 %);
brought up to -18 dBFS they reached 13 of 15 (28.0 %). A louder target (-13 dBFS, the loud callers'
own level) did no better: 12 of 15. Loud callers, and those within a few dB of the target, are left as
they are.

The level is that of the turn's loud frames (the 95th percentile of 20 ms frame levels), so pauses and
the line's hiss between words do not pull it down. A turn of line noise alone (its loud frames less than
`MIN_SPEECH_OVER_LINE_DB` above its quiet ones) is left alone: raising hiss only makes Whisper hear words
in it, and the closed-set priors are scored on such audio.
"""

from __future__ import annotations

import numpy as np

_FRAME_S = 0.02
#: Where a turn's loud frames are brought (the development callers' own level is about -20 dBFS).
TARGET_DBFS = -18.0
#: At most this much gain: a whisper 30 dB down is not a caller to amplify into the model.
MAX_GAIN_DB = 15.0
#: A turn less than this below the target is left alone: the development callers span about 7 dB
#: (-22 to -15 dBFS), and raising them by a few dB only moved which noisy calls succeeded (the noisy
#: development set lost 2 of 24, the other development sets none, with every turn brought to -18).
MIN_GAIN_DB = 6.0
MIN_SPEECH_OVER_LINE_DB = 10.0
#: The raised turn's loudest sample stays under this (of full scale).
PEAK_LIMIT = 0.9
_MIN_FRAMES = 5


def speech_level_gain_db(
    audio: np.ndarray, sample_rate: int = 16000, target_dbfs: float = TARGET_DBFS
) -> float:
    """The gain (dB, up to `MAX_GAIN_DB`) that brings the turn's loud frames to `target_dbfs`; 0 for a
    turn less than `MIN_GAIN_DB` below it (or louder), and for one that holds no voice."""
    size = int(sample_rate * _FRAME_S)
    frames = len(audio) // size
    if frames < _MIN_FRAMES:
        return 0.0
    power = np.mean(audio[: frames * size].astype(np.float64).reshape(frames, size) ** 2, axis=1)
    levels = 10 * np.log10(np.maximum(power, 1e-18))
    loud, quiet = np.percentile(levels, 95), np.percentile(levels, 10)
    if not (np.isfinite(loud) and np.isfinite(quiet)) or loud - quiet < MIN_SPEECH_OVER_LINE_DB:
        return 0.0
    gain = target_dbfs - loud
    if gain < MIN_GAIN_DB:
        return 0.0
    # never past full scale: a cough or a click louder than the words keeps its shape
    peak = float(np.max(np.abs(audio)))
    headroom = 20 * np.log10(PEAK_LIMIT / peak) if peak > 0 else MAX_GAIN_DB
    return float(max(0.0, min(gain, MAX_GAIN_DB, headroom)))


def to_speech_level(
    audio: np.ndarray, sample_rate: int = 16000, target_dbfs: float = TARGET_DBFS
) -> np.ndarray:
    """`audio` (float32, full scale 1.0) with its loud frames brought up to `target_dbfs` (or as near
    as its loudest sample allows)."""
    gain = speech_level_gain_db(audio, sample_rate, target_dbfs)
    if gain == 0.0:
        return audio
    return (audio * np.float32(10 ** (gain / 20))).astype(np.float32)
