"""espeak-ng through pyttsx3 in its worker process: real engine, real process, real signals."""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from callbot.audio import read_wav
from callbot.tts import EspeakSynthesizer, SynthesisError
from callbot.tts.espeak import espeak_available

pytestmark = pytest.mark.skipif(not espeak_available(), reason="espeak-ng or pyttsx3 is not installed")

TEXTS = [  # clearly different lengths, so that a mixed-up answer shows in its duration
    "Oui.",
    "Votre commande est partie ce matin.",
    "Bonjour, bienvenue chez nous, que puis-je faire pour vous aujourd'hui ?",
    "Je vous passe un conseiller. Merci de patienter quelques instants, votre appel est important pour "
    "nous, et un conseiller va vous répondre dans les meilleurs délais.",
]


def seconds(pcm: bytes, rate: int) -> float:
    return len(pcm) / 2 / rate


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


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng command not installed")
def test_duration_matches_the_espeak_ng_command(espeak: EspeakSynthesizer, tmp_path: Path) -> None:
    # The espeak-ng command writes a header it computes itself: equal durations mean our time base is right.
    reference = tmp_path / "reference.wav"
    subprocess.run(["espeak-ng", "-v", "roa/fr", "-s", "175", "-w", str(reference), TEXTS[2]], check=True)
    wav = read_wav(reference)
    expected = seconds(wav.pcm, wav.sample_rate)
    assert seconds(espeak.synthesize(TEXTS[2], 16000), 16000) == pytest.approx(expected, rel=0.02)


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
