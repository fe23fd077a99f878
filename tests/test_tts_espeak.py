"""espeak-ng through pyttsx3 in its worker process: real engine, real process, real signals."""

from __future__ import annotations

import contextlib
import io
import itertools
import multiprocessing
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from callbot.audio import read_wav
from callbot.tts import EspeakSynthesizer, SynthesisError
from callbot.tts.espeak import espeak_available

pytestmark = pytest.mark.skipif(not espeak_available(), reason="espeak-ng or pyttsx3 is not installed")
needs_espeak_ng_command = pytest.mark.skipif(
    shutil.which("espeak-ng") is None, reason="espeak-ng command not installed"
)

TEXTS = [  # clearly different lengths, so that a mixed-up answer shows in its duration
    "Oui.",
    "Votre commande est partie ce matin.",
    "Bonjour, bienvenue chez nous, que puis-je faire pour vous aujourd'hui ?",
    "Je vous passe un conseiller. Merci de patienter quelques instants, votre appel est important pour "
    "nous, et un conseiller va vous répondre dans les meilleurs délais.",
]


def seconds(pcm: bytes, rate: int) -> float:
    return len(pcm) / 2 / rate


def espeak_ng_command_seconds(text: str, folder: Path, rate: int = 175) -> float:
    """Duration of the espeak-ng command's own output, whose header rate it computes itself."""
    reference = folder / "reference.wav"
    subprocess.run(["espeak-ng", "-v", "roa/fr", "-s", str(rate), "-w", str(reference), text], check=True)
    wav = read_wav(reference)
    return seconds(wav.pcm, wav.sample_rate)


def rms(pcm: bytes) -> float:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    return float(np.sqrt(np.mean(samples**2)))


@pytest.fixture(scope="module")
def espeak() -> Iterator[EspeakSynthesizer]:
    with EspeakSynthesizer() as synth:
        yield synth


@pytest.mark.parametrize("rate", [8000, 16000])
def test_output_is_audible_pcm16_at_the_requested_rate(espeak: EspeakSynthesizer, rate: int) -> None:
    pcm = espeak.synthesize("Bonjour, bienvenue chez nous.", rate)
    assert len(pcm) % 2 == 0
    assert 1.0 < seconds(pcm, rate) < 3.0
    assert rms(pcm) > 1000


def test_worker_reports_espeaks_true_rate_and_voice(espeak: EspeakSynthesizer) -> None:
    assert espeak.native_rate == 22050
    assert espeak.description == "espeak-ng roa/fr via pyttsx3, 175 wpm"


@needs_espeak_ng_command
def test_duration_matches_the_espeak_ng_command(espeak: EspeakSynthesizer, tmp_path: Path) -> None:
    # Equal durations mean both our time base and our rate are right.
    expected = espeak_ng_command_seconds(TEXTS[2], tmp_path)
    assert seconds(espeak.synthesize(TEXTS[2], 16000), 16000) == pytest.approx(expected, rel=0.02)


@needs_espeak_ng_command
def test_every_request_of_a_run_speaks_at_the_set_rate(espeak: EspeakSynthesizer, tmp_path: Path) -> None:
    expected = {text: espeak_ng_command_seconds(text, tmp_path) for text in TEXTS[1:3]}
    spoken = [(text, seconds(espeak.synthesize(text, 16000), 16000)) for text in TEXTS[1:3] * 10]
    wrong = [(text[:20], got, expected[text]) for text, got in spoken if abs(got / expected[text] - 1) > 0.02]
    assert wrong == []


def _worker_engine_with_espeak_busy_then_reset() -> tuple[int, float, float]:
    """In a fresh process: the worker's engine code, facing the two ways the rate was lost or could be.

    1. The first request comes while espeak-ng's own thread is still busy with a command (one long
       `espeak_Key`; at start-up it is the driver's own settings). pyttsx3 used to cancel it there, which
       dropped our queued 175 wpm and left the driver's 200 wpm for the life of the worker.
    2. Something sets espeak-ng's rate behind the worker's back (200 wpm, pyttsx3's own default).
    Returns the rate espeak-ng reports after the first request and the duration of each request.
    """
    from pyttsx3.drivers import _espeak

    from callbot.tts.espeak import _start_engine, _synthesize_once

    with contextlib.redirect_stdout(io.StringIO()), tempfile.TemporaryDirectory() as folder:
        engine, native_rate = _start_engine("roa/fr", 175)
        _espeak.dll.espeak_Key(("Je vous passe un conseiller. " * 10).encode())
        first = _synthesize_once(engine, native_rate, 175, TEXTS[2], 16000, Path(folder) / "first.wav")
        rate_after_first = int(_espeak.dll.espeak_GetParameter(1, 1))  # 1: espeakRATE, current value
        _espeak.dll.espeak_SetParameter(1, 200, 0)
        _espeak.dll.espeak_Synchronize()
        second = _synthesize_once(engine, native_rate, 175, TEXTS[2], 16000, Path(folder) / "second.wav")
    return rate_after_first, seconds(first, 16000), seconds(second, 16000)


@needs_espeak_ng_command
def test_rate_holds_when_espeak_is_busy_at_the_first_request_or_reset_later(tmp_path: Path) -> None:
    expected = espeak_ng_command_seconds(TEXTS[2], tmp_path)
    at_200_wpm = espeak_ng_command_seconds(TEXTS[2], tmp_path, rate=200)
    assert at_200_wpm < 0.9 * expected  # so that a duration tells the two rates apart
    # Spawned, as the worker is: espeak-ng must not be initialised in the test process.
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        rate_after_first, first, second = pool.submit(_worker_engine_with_espeak_busy_then_reset).result(60)
    assert rate_after_first == 175
    assert first == pytest.approx(expected, rel=0.02)
    assert second == pytest.approx(expected, rel=0.02)


def test_four_threads_each_get_the_audio_of_their_own_text(espeak: EspeakSynthesizer) -> None:
    reference = [seconds(espeak.synthesize(text, 8000), 8000) for text in TEXTS]
    assert all(shorter * 1.3 < longer for shorter, longer in itertools.pairwise(reference))

    def speak(index: int) -> tuple[int, float]:
        return index, seconds(espeak.synthesize(TEXTS[index], 8000), 8000)

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(speak, [i % 4 for i in range(40)]))
    wrong = [(TEXTS[i][:20], got, reference[i]) for i, got in results if abs(got - reference[i]) > 0.05]
    assert wrong == []


@pytest.mark.parametrize("text", ["", "  ", "..."])
def test_nothing_to_say_gives_no_audio(espeak: EspeakSynthesizer, text: str) -> None:
    assert espeak.synthesize(text, 8000) == b""


def test_a_worker_that_died_while_idle_is_replaced_silently(espeak: EspeakSynthesizer) -> None:
    first = espeak.worker_pid
    assert first is not None
    os.kill(first, signal.SIGKILL)
    time.sleep(0.2)
    assert rms(espeak.synthesize("Bonjour.", 8000)) > 1000
    assert espeak.worker_pid not in (None, first)


def test_a_worker_killed_during_a_request_fails_that_request_only(espeak: EspeakSynthesizer) -> None:
    pid = espeak.worker_pid
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)  # holds the request until the kill below
    outcome: list[BaseException | bytes] = []

    def speak() -> None:
        try:
            outcome.append(espeak.synthesize("Bonjour.", 8000))
        except SynthesisError as exc:
            outcome.append(exc)

    caller = threading.Thread(target=speak)
    caller.start()
    while not espeak._lock.locked():
        time.sleep(0.01)
    time.sleep(0.3)  # the request is written to the stopped worker's pipe
    os.kill(pid, signal.SIGKILL)
    caller.join(10)
    assert len(outcome) == 1 and isinstance(outcome[0], SynthesisError)
    assert "espeak worker died" in str(outcome[0])
    assert rms(espeak.synthesize("Bonjour.", 8000)) > 1000
    assert espeak.worker_pid not in (None, pid)


def test_a_hung_worker_times_out_and_is_replaced(espeak: EspeakSynthesizer) -> None:
    pid = espeak.worker_pid
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    espeak.timeout_s = 1.0
    try:
        with pytest.raises(SynthesisError, match="gave no answer within 1 s"):
            espeak.synthesize("Bonjour.", 8000)
    finally:
        espeak.timeout_s = 30.0
    assert rms(espeak.synthesize("Bonjour.", 8000)) > 1000
    assert espeak.worker_pid not in (None, pid)


def test_close_stops_the_worker_and_refuses_later_requests() -> None:
    synth = EspeakSynthesizer(rate=150)
    pid = synth.worker_pid
    workdir = Path(synth._workdir)
    assert workdir.is_dir()
    synth.close()
    assert not workdir.exists()
    synth.close()
    assert synth.worker_pid is None
    with pytest.raises(ProcessLookupError):
        os.kill(pid or 0, 0)
    with pytest.raises(SynthesisError, match="closed"):
        synth.synthesize("Bonjour.", 8000)


def test_an_unknown_voice_is_reported_with_the_french_voices_available() -> None:
    with pytest.raises(SynthesisError, match=r"no voice 'roa/xx'; French voices here: .*roa/fr"):
        EspeakSynthesizer(voice="roa/xx")


def test_rate_is_applied(espeak: EspeakSynthesizer) -> None:
    with EspeakSynthesizer(rate=120) as slow:
        slow_seconds = seconds(slow.synthesize(TEXTS[2], 8000), 8000)
    assert slow_seconds > 1.25 * seconds(espeak.synthesize(TEXTS[2], 8000), 8000)


@pytest.mark.parametrize("rate", [10, 1000, "fast"])
def test_bad_rate_is_refused_before_starting_a_worker(rate: object) -> None:
    with pytest.raises(ValueError, match="espeak rate must be 80–450 words per minute"):
        EspeakSynthesizer(rate=rate)  # type: ignore[arg-type]
