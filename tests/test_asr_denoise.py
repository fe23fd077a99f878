"""The line's steady hiss is subtracted before Whisper hears a turn; the speech stays."""

from __future__ import annotations

import numpy as np

from callbot.asr.denoise import subtract_line_noise

RATE = 16000


def level_db(signal: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(signal.astype(np.float64) ** 2) + 1e-20))


def test_the_hiss_before_and_under_the_speech_goes_down_and_the_speech_stays() -> None:
    rng = np.random.default_rng(3)
    hiss = rng.normal(0, 0.01, RATE * 2).astype(np.float32)
    t = np.arange(RATE) / RATE
    voice = (0.2 * np.sin(2 * np.pi * 440 * t) * np.hanning(RATE)).astype(np.float32)
    turn = hiss.copy()
    turn[RATE // 2 : RATE // 2 + RATE] += voice  # half a second of line (the pre-roll), then speech
    cleaned = subtract_line_noise(turn, RATE)
    assert cleaned.dtype == np.float32 and len(cleaned) == len(turn)
    assert level_db(cleaned[: RATE // 4]) < level_db(turn[: RATE // 4]) - 10  # the line alone: much quieter
    speech = slice(RATE // 2 + RATE // 4, RATE // 2 + 3 * RATE // 4)
    assert abs(level_db(cleaned[speech]) - level_db(voice[RATE // 4 : 3 * RATE // 4])) < 1.5  # speech kept


def test_a_turn_too_short_to_measure_its_line_is_left_as_it_is() -> None:
    short = np.full(RATE // 4, 0.1, dtype=np.float32)
    assert subtract_line_noise(short, RATE) is short


def test_a_turn_that_starts_with_speech_keeps_its_speech_and_loses_the_hiss_of_its_pauses() -> None:
    """No pre-roll (a recording cut at the first word, a voice onset caught late): the line is measured
    in the pauses, not taken from the first word and subtracted from every word."""
    rng = np.random.default_rng(5)
    turn = rng.normal(0, 0.01, RATE * 3).astype(np.float32)
    t = np.arange(RATE) / RATE
    word = (0.2 * np.sin(2 * np.pi * 440 * t) * np.hanning(RATE)).astype(np.float32)
    turn[:RATE] += word  # a word at once, then a pause of the line alone, then another word
    turn[2 * RATE :] += word
    cleaned = subtract_line_noise(turn, RATE)
    pause = slice(RATE + RATE // 4, 2 * RATE - RATE // 4)
    assert level_db(cleaned[pause]) < level_db(turn[pause]) - 10
    for start in (0, 2 * RATE):
        middle = slice(start + RATE // 4, start + 3 * RATE // 4)
        assert abs(level_db(cleaned[middle]) - level_db(word[RATE // 4 : 3 * RATE // 4])) < 1.5


def test_digital_silence_before_the_turn_is_not_taken_for_the_line() -> None:
    """A trunk that suppresses silence sends zeros between talkspurts: the hiss under the words is still
    measured in the pauses and subtracted."""
    rng = np.random.default_rng(7)
    t = np.arange(RATE) / RATE
    word = (0.2 * np.sin(2 * np.pi * 440 * t) * np.hanning(RATE)).astype(np.float32)
    line = rng.normal(0, 0.01, 2 * RATE).astype(np.float32)
    line[RATE // 2 : RATE // 2 + RATE] += word
    turn = np.concatenate([np.zeros(RATE, dtype=np.float32), line])  # a second of nothing, then the line
    cleaned = subtract_line_noise(turn, RATE)
    pause = slice(RATE + RATE // 8, RATE + 3 * RATE // 8)  # the line before the word
    assert level_db(cleaned[pause]) < level_db(turn[pause]) - 10


def test_digital_silence_through_the_codecs_and_resampling_is_not_taken_for_the_line_either() -> None:
    """Through soxr's dithered resampling zeros become ±1 LSB, and A-law's silence a constant offset."""
    from callbot.audio import resample
    from callbot.audio.g711 import alaw_decode, alaw_encode, ulaw_decode, ulaw_encode

    rng = np.random.default_rng(11)
    t = np.arange(4000) / 8000
    line = rng.normal(0, 300, 16000)  # two seconds of hiss at 8 kHz (about -41 dBFS)
    line[4000:8000] += 6000 * np.sin(2 * np.pi * 440 * t) * np.hanning(4000)
    pcm = np.concatenate([np.zeros(8000), line]).astype("<i2").tobytes()
    for encode, decode in ((ulaw_encode, ulaw_decode), (alaw_encode, alaw_decode)):
        wide = np.frombuffer(resample(decode(encode(pcm)), 8000, RATE), dtype="<i2") / 32768.0
        turn = wide.astype(np.float32)
        cleaned = subtract_line_noise(turn, RATE)
        pause = slice(RATE + RATE // 8, RATE + 3 * RATE // 8)  # the line before the word
        assert level_db(cleaned[pause]) < level_db(turn[pause]) - 10
