"""A quiet caller's turn is brought up to the speech level before Whisper hears it; loud callers and the
line's hiss alone are left as they are."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from callbot.asr.level import MAX_GAIN_DB, TARGET_DBFS, speech_level_gain_db, to_speech_level
from callbot.asr.whisper_decode import WhisperSettings
from callbot.asr.whisper_engine import WhisperEngine

RATE = 16000


def loud_frames_dbfs(signal: np.ndarray) -> float:
    frames = signal[: len(signal) // 320 * 320].astype(np.float64).reshape(-1, 320)
    return float(np.percentile(10 * np.log10(np.mean(frames**2, axis=1) + 1e-20), 95))


def turn(voice_amplitude: float, hiss: float = 0.0005, seed: int = 1) -> np.ndarray:
    """Half a second of line, a second of voice, half a second of line."""
    rng = np.random.default_rng(seed)
    audio = rng.normal(0, hiss, 2 * RATE).astype(np.float32)
    t = np.arange(RATE) / RATE
    audio[RATE // 2 : RATE // 2 + RATE] += (voice_amplitude * np.sin(2 * np.pi * 300 * t)).astype(np.float32)
    return audio


def test_a_caller_ten_decibels_too_quiet_is_brought_up_to_the_speech_level() -> None:
    quiet = turn(0.05)  # loud frames about -29 dBFS
    raised = to_speech_level(quiet)
    assert raised.dtype == np.float32 and len(raised) == len(quiet)
    assert loud_frames_dbfs(raised) == pytest.approx(TARGET_DBFS, abs=0.5)
    # the same gain everywhere: the words keep their shape, the line under them rises with them
    ratio = raised[RATE : RATE + 100] / quiet[RATE : RATE + 100]
    assert np.allclose(ratio, ratio[0], rtol=1e-4)


def test_the_same_words_said_softer_reach_the_model_as_the_same_audio() -> None:
    loud = turn(0.05, hiss=0.0)  # -29 dBFS: quiet already
    soft = (loud * np.float32(10 ** (-3 / 20))).astype(np.float32)  # 3 dB softer, same words
    assert np.allclose(to_speech_level(soft), to_speech_level(loud), atol=1e-4)


def test_a_loud_caller_is_not_turned_down() -> None:
    loud = turn(0.5)
    assert speech_level_gain_db(loud) == 0.0
    assert to_speech_level(loud) is loud


def test_the_lines_hiss_alone_is_not_raised_into_words() -> None:
    hiss = np.random.default_rng(2).normal(0, 0.001, 2 * RATE).astype(np.float32)
    assert speech_level_gain_db(hiss) == 0.0


def test_a_whisper_far_below_the_line_gets_at_most_the_maximum_gain() -> None:
    faint = turn(0.0005, hiss=0.00001)
    assert speech_level_gain_db(faint) == MAX_GAIN_DB
    assert np.max(np.abs(to_speech_level(faint))) <= 1.0


def test_audio_too_short_to_measure_is_left_alone() -> None:
    assert speech_level_gain_db(np.full(RATE // 20, 0.01, dtype=np.float32)) == 0.0


@pytest.mark.parametrize(("level", "expect_raised"), [(TARGET_DBFS, True), (None, False)])
def test_the_engine_brings_turns_to_the_level_its_settings_ask_for(
    level: float | None, expect_raised: bool
) -> None:
    settings = WhisperSettings(denoise=False, speech_level_dbfs=level)
    quiet = turn(0.02)
    heard = WhisperEngine._clean(SimpleNamespace(settings=settings), quiet)  # type: ignore[arg-type]
    assert (loud_frames_dbfs(heard) > loud_frames_dbfs(quiet) + 10) is expect_raised


def test_a_caller_a_few_decibels_under_the_target_is_left_as_is() -> None:
    """The development callers span about 7 dB: a caller 3 dB under the target is no quiet caller."""
    near = turn(np.sqrt(2) * 10 ** ((TARGET_DBFS - 3) / 20))  # a sine whose RMS is 3 dB under the target
    assert TARGET_DBFS - 4 < loud_frames_dbfs(near) < TARGET_DBFS
    assert speech_level_gain_db(near) == 0.0


def test_a_click_louder_than_the_words_is_not_clipped() -> None:
    """The gain comes from the words; a click or a cough louder than them limits it, so that nothing is
    cut at full scale."""
    quiet = turn(0.01)  # loud frames about -43 dBFS: 15 dB wanted
    quiet[RATE // 4 : RATE // 4 + 400] = 0.5  # 25 ms at half scale
    raised = to_speech_level(quiet)
    assert np.max(np.abs(raised)) <= 0.9 + 1e-6
    assert np.max(np.abs(raised)) > 0.85  # raised as far as the click allows


def test_audio_with_a_missing_sample_is_left_as_it_is() -> None:
    broken = turn(0.02)
    broken[100] = np.nan
    assert speech_level_gain_db(broken) == 0.0
