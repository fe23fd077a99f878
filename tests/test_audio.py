"""Audio primitives: G.711 against the ITU-T reference, resampling, WAV files, frames."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from callbot.audio import (
    AudioFrame,
    Resampler,
    alaw_decode,
    alaw_encode,
    frames_from_pcm,
    pcm_duration_ms,
    read_wav,
    resample,
    silence,
    ulaw_decode,
    ulaw_encode,
    write_wav,
)
from callbot.audio.wav import WavError, interleave

Codec = Callable[[bytes], bytes]

ALL_CODES = bytes(range(256))
ALL_SAMPLES = np.arange(-32768, 32768, dtype="<i2")


def pcm_of(*samples: int) -> bytes:
    return bytes(np.array(samples, dtype="<i2").tobytes())


def as_array(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm, dtype="<i2")


# ------------------------------------------------------------------------------------------------ G.711


def test_ulaw_encodes_the_itu_reference_vectors() -> None:
    # ITU-T G.191 g711.c: zero and -1 differ only in the sign bit; full scale saturates to the last code.
    assert ulaw_encode(pcm_of(0, -1, 32767, -32768)) == bytes([0xFF, 0x7F, 0x80, 0x00])


def test_alaw_encodes_the_itu_reference_vectors() -> None:
    assert alaw_encode(pcm_of(0, -1, 32767, -32768)) == bytes([0xD5, 0x55, 0xAA, 0x2A])


def test_decode_tables_equal_the_python_stdlib_reference() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import audioop  # removed in Python 3.13: the reference is only checked where it still exists

    assert ulaw_decode(ALL_CODES) == audioop.ulaw2lin(ALL_CODES, 2)
    assert alaw_decode(ALL_CODES) == audioop.alaw2lin(ALL_CODES, 2)


def test_alaw_encoder_equals_the_python_stdlib_for_every_sample() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import audioop

    pcm = ALL_SAMPLES.tobytes()
    assert alaw_encode(pcm) == audioop.lin2alaw(pcm, 2)


def test_alaw_decode_then_encode_gives_back_every_code() -> None:
    assert alaw_encode(alaw_decode(ALL_CODES)) == ALL_CODES


def test_ulaw_decode_then_encode_gives_back_every_code_but_negative_zero() -> None:
    # 0x7F is μ-law's "-0": it decodes to 0, which encodes as the positive zero 0xFF.
    expected = bytearray(ALL_CODES)
    expected[0x7F] = 0xFF
    assert ulaw_encode(ulaw_decode(ALL_CODES)) == bytes(expected)


@pytest.mark.parametrize(
    ("encode", "decode", "levels"), [(ulaw_encode, ulaw_decode, 255), (alaw_encode, alaw_decode, 256)]
)
def test_g711_quantises_every_sample_to_a_neighbouring_level(
    encode: Codec, decode: Codec, levels: int
) -> None:
    decoded = as_array(decode(encode(ALL_SAMPLES.tobytes()))).astype(np.int64)
    assert np.all(np.diff(decoded) >= 0)  # monotonic: louder in, never quieter out
    distinct = np.unique(decoded)
    assert len(distinct) == levels
    steps = np.diff(distinct)
    position = np.searchsorted(distinct, decoded)
    local_step = np.maximum(
        steps[np.clip(position - 1, 0, len(steps) - 1)], steps[np.clip(position, 0, len(steps) - 1)]
    )
    assert np.all(np.abs(decoded - ALL_SAMPLES) <= local_step)


def test_g711_keeps_speech_level_within_a_fraction_of_a_db() -> None:
    t = np.arange(8000) / 8000
    tone = np.round(0.3 * 32767 * np.sin(2 * np.pi * 440 * t)).astype("<i2")
    for encode, decode in ((ulaw_encode, ulaw_decode), (alaw_encode, alaw_decode)):
        decoded = as_array(decode(encode(tone.tobytes()))).astype(np.float64)
        snr = 10 * math.log10(np.sum(tone.astype(np.float64) ** 2) / np.sum((decoded - tone) ** 2))
        assert snr > 35  # G.711 gives ~38 dB SNR on a loud tone


# --------------------------------------------------------------------------------------------- resampling


def sine(rate: int, seconds: float = 1.0, hz: float = 440.0, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return np.round(amplitude * 32767 * np.sin(2 * np.pi * hz * t)).astype("<i2")


def dominant_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64) * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[int(np.argmax(spectrum))])


def rms_db(samples: np.ndarray) -> float:
    return 10 * math.log10(float(np.mean(samples.astype(np.float64) ** 2)))


@pytest.mark.parametrize(("from_rate", "to_rate"), [(8000, 16000), (16000, 8000), (22050, 8000)])
def test_resampling_keeps_a_tones_frequency_and_level(from_rate: int, to_rate: int) -> None:
    tone = sine(from_rate)
    out = as_array(resample(tone.tobytes(), from_rate, to_rate))
    assert len(out) == to_rate
    assert dominant_hz(out, to_rate) == pytest.approx(440, abs=1)
    edge = to_rate // 10  # the filter's ramp at both ends
    assert rms_db(out[edge:-edge]) == pytest.approx(rms_db(tone), abs=0.05)


def test_resampling_to_the_same_rate_returns_the_audio_unchanged() -> None:
    pcm = sine(8000, 0.1).tobytes()
    assert resample(pcm, 8000, 8000) is pcm
    assert Resampler(8000, 8000).process(pcm) is pcm
    assert resample(b"", 8000, 16000) == b""


@pytest.mark.parametrize(("from_rate", "to_rate"), [(8000, 16000), (16000, 8000)])
def test_streaming_resampler_equals_the_one_shot_resampler(from_rate: int, to_rate: int) -> None:
    tone = sine(from_rate, seconds=2.0)
    frame = from_rate // 50
    resampler = Resampler(from_rate, to_rate)
    chunks = [
        resampler.process(tone[i : i + frame].tobytes(), last=i + frame >= len(tone))
        for i in range(0, len(tone), frame)
    ]
    streamed = as_array(b"".join(chunks)).astype(np.int64)
    one_shot = as_array(resample(tone.tobytes(), from_rate, to_rate)).astype(np.int64)
    assert len(streamed) == len(one_shot)
    assert np.max(np.abs(streamed - one_shot)) <= 4  # rounding only, out of a 16384 amplitude


# ------------------------------------------------------------------------------------------------- WAV


def test_mono_wav_round_trip(tmp_path: Path) -> None:
    pcm = sine(8000, 0.25).tobytes()
    write_wav(tmp_path / "mono.wav", pcm, 8000)
    audio = read_wav(tmp_path / "mono.wav")
    assert (audio.pcm, audio.sample_rate, audio.channels) == (pcm, 8000, 1)
    assert audio.channel(0) == pcm
    with pytest.raises(WavError, match="mono audio has only channel 0"):
        audio.channel(1)


def test_stereo_wav_round_trip_and_channels(tmp_path: Path) -> None:
    caller = sine(16000, 0.25, hz=440).tobytes()
    bot = sine(16000, 0.1, hz=1000).tobytes()  # shorter: padded with silence
    write_wav(tmp_path / "call.wav", interleave(caller, bot), 16000, channels=2)
    audio = read_wav(tmp_path / "call.wav")
    assert (audio.sample_rate, audio.channels) == (16000, 2)
    assert audio.channel(0) == caller
    assert audio.channel(1) == bot + bytes(len(caller) - len(bot))


def test_g711_wav_files_are_decoded(tmp_path: Path) -> None:
    pcm = sine(8000, 0.1).tobytes()
    payload = ulaw_encode(pcm)
    fmt = (7).to_bytes(2, "little") + (1).to_bytes(2, "little") + (8000).to_bytes(4, "little")
    fmt += (8000).to_bytes(4, "little") + (1).to_bytes(2, "little") + (8).to_bytes(2, "little")
    body = b"WAVE" + b"fmt " + len(fmt).to_bytes(4, "little") + fmt
    body += b"data" + len(payload).to_bytes(4, "little") + payload
    (tmp_path / "pcmu.wav").write_bytes(b"RIFF" + len(body).to_bytes(4, "little") + body)
    audio = read_wav(tmp_path / "pcmu.wav")
    assert (audio.pcm, audio.sample_rate) == (ulaw_decode(payload), 8000)


def test_a_file_that_is_not_wav_is_refused_with_the_reason(tmp_path: Path) -> None:
    (tmp_path / "notes.wav").write_text("not audio")
    with pytest.raises(WavError, match="not a WAV file"):
        read_wav(tmp_path / "notes.wav")
    with pytest.raises(WavError, match="cannot read"):
        read_wav(tmp_path / "missing.wav")


# ----------------------------------------------------------------------------------------------- frames


def test_frames_carry_their_audio_clock_time_and_the_last_is_padded() -> None:
    pcm = sine(8000, 0.05).tobytes()  # 50 ms: two whole frames and a half
    frames = list(frames_from_pcm(pcm, 8000, start_ms=1000))
    assert [(f.start_ms, f.end_ms) for f in frames] == [(1000, 1020), (1020, 1040), (1040, 1060)]
    assert all(len(f.pcm) == 320 for f in frames)
    assert b"".join(f.pcm for f in frames) == pcm + bytes(3 * 320 - len(pcm))
    assert len(list(frames_from_pcm(pcm, 8000, pad_last=False))) == 2


def test_frame_sizes_follow_the_sample_rate() -> None:
    frames = list(frames_from_pcm(bytes(16000 * 2), 16000, frame_ms=10))
    assert len(frames) == 100 and frames[-1].start_ms == 990
    assert all(f.samples == 160 and f.duration_ms == 10 for f in frames)
    assert silence(8000) == bytes(320) and pcm_duration_ms(silence(16000, 30), 16000) == 30


def test_a_frame_refuses_half_samples_and_bad_rates() -> None:
    with pytest.raises(ValueError, match="whole number of 16-bit samples"):
        AudioFrame(b"\x00", 8000, 0)
    with pytest.raises(ValueError, match="sample rate must be positive"):
        AudioFrame(b"", 0, 0)


def test_frame_resampler_releases_every_frame_at_once_and_matches_soxr() -> None:
    """The recogniser must get each 20 ms frame immediately, not in 100 ms bursts."""
    from callbot.audio import FrameResampler, resample

    t = np.arange(8000) / 8000
    tone = (8000 * np.sin(2 * np.pi * 440 * t)).astype("<i2").tobytes()
    up = FrameResampler(8000, 16000)
    chunks = [up.process(tone[i : i + 320]) for i in range(0, len(tone), 320)]
    assert all(len(c) == 640 for c in chunks)
    out = np.frombuffer(b"".join(chunks), dtype="<i2").astype(float)
    reference = np.frombuffer(resample(tone, 8000, 16000), dtype="<i2").astype(float)
    delay = 64  # the FIR's group delay: 4 ms at 16 kHz
    assert np.abs(out[delay + 200 : 15000] - reference[200 : 15000 - delay]).max() < 50
    down = FrameResampler(16000, 8000)
    back = np.frombuffer(
        b"".join(down.process(b"".join(chunks)[i : i + 640]) for i in range(0, 32000, 640)), dtype="<i2"
    )
    assert len(back) == 8000
    assert abs(back[2000:7000].std() - 8000 / np.sqrt(2)) < 100
