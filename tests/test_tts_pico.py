"""SVOX Pico through the real pico2wave command."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from callbot.tts import PicoSynthesizer, SynthesisError
from callbot.tts.pico import escape_pico_markup

pytestmark = pytest.mark.skipif(
    shutil.which("pico2wave") is None,
    reason="pico2wave (libttspico-utils) is not installed",
)

GREETING = "Bonjour, bienvenue chez nous, que puis-je faire pour vous ?"


def seconds(pcm: bytes, rate: int) -> float:
    return len(pcm) / 2 / rate


def rms(pcm: bytes) -> float:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    return float(np.sqrt(np.mean(samples**2)))


def median_pitch_hz(pcm: bytes, rate: int) -> float:
    """Median F0 of the voiced 40 ms windows, by autocorrelation (60–400 Hz)."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    size = int(0.04 * rate)
    pitches = []
    for start in range(0, len(samples) - size, size // 2):
        window = samples[start : start + size] - samples[start : start + size].mean()
        if np.sqrt(np.mean(window**2)) < 1000:
            continue
        correlation = np.correlate(window, window, "full")[size - 1 :]
        low, high = rate // 400, rate // 60
        lag = low + int(np.argmax(correlation[low:high]))
        if correlation[lag] > 0.5 * correlation[0]:
            pitches.append(rate / lag)
    assert len(pitches) > 10, "too few voiced windows to measure pitch"
    return float(np.median(pitches))


@pytest.fixture(scope="module")
def pico() -> PicoSynthesizer:
    return PicoSynthesizer()


@pytest.mark.parametrize("rate", [8000, 16000, 22050])
def test_output_is_audible_pcm16_at_the_requested_rate(pico: PicoSynthesizer, rate: int) -> None:
    pcm = pico.synthesize("Bonjour, bienvenue chez nous.", rate)
    assert len(pcm) % 2 == 0
    assert 1.5 < seconds(pcm, rate) < 3.5  # a five-word greeting
    assert rms(pcm) > 1000


def test_every_rate_carries_the_same_speech_duration(pico: PicoSynthesizer) -> None:
    durations = [seconds(pico.synthesize(GREETING, rate), rate) for rate in (8000, 16000, 48000)]
    assert max(durations) - min(durations) < 0.01


def test_8khz_output_keeps_pitch(pico: PicoSynthesizer) -> None:
    assert median_pitch_hz(pico.synthesize(GREETING, 8000), 8000) == pytest.approx(
        median_pitch_hz(pico.synthesize(GREETING, 16000), 16000), rel=0.05
    )


def test_longer_text_gives_longer_audio(pico: PicoSynthesizer) -> None:
    short = seconds(pico.synthesize("Merci.", 8000), 8000)
    long = seconds(pico.synthesize(GREETING + " " + GREETING, 8000), 8000)
    assert long > 5 * short


@pytest.mark.parametrize(("speed", "ratio_low", "ratio_high"), [(60, 1.3, 2.0), (150, 0.6, 0.9)])
def test_speed_markup_changes_duration(
    pico: PicoSynthesizer, speed: int, ratio_low: float, ratio_high: float
) -> None:
    normal = seconds(pico.synthesize(GREETING, 8000), 8000)
    changed = seconds(PicoSynthesizer(speed=speed).synthesize(GREETING, 8000), 8000)
    assert ratio_low < changed / normal < ratio_high


@pytest.mark.parametrize(("pitch", "ratio_low", "ratio_high"), [(140, 1.25, 1.55), (70, 0.6, 0.8)])
def test_pitch_markup_changes_voice_pitch(
    pico: PicoSynthesizer, pitch: int, ratio_low: float, ratio_high: float
) -> None:
    normal = median_pitch_hz(pico.synthesize(GREETING, 16000), 16000)
    changed = median_pitch_hz(PicoSynthesizer(pitch=pitch).synthesize(GREETING, 16000), 16000)
    assert ratio_low < changed / normal < ratio_high


def test_markup_written_in_the_text_is_read_not_obeyed(pico: PicoSynthesizer) -> None:
    plain = seconds(pico.synthesize(GREETING, 8000), 8000)
    # Obeyed, <speed level="500"> would make the greeting far shorter; read as words it makes it longer.
    injected = seconds(pico.synthesize(f'<speed level="500">{GREETING}', 8000), 8000)
    assert injected > plain
    assert escape_pico_markup('<play file="/etc/passwd">') == ' play file="/etc/passwd" '


def test_description_names_engine_and_settings() -> None:
    assert PicoSynthesizer().description == "pico fr-FR (SVOX)"
    assert PicoSynthesizer(speed=90, pitch=110).description == "pico fr-FR (SVOX), speed 90 %, pitch 110 %"


def test_concurrent_requests_each_get_their_own_audio(pico: PicoSynthesizer) -> None:
    texts = ["Oui.", "Votre commande est partie.", GREETING, "Au revoir et bonne journée."]
    expected = {text: pico.synthesize(text, 8000) for text in texts}
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda text: (text, pico.synthesize(text, 8000)), texts * 3))
    assert all(pcm == expected[text] for text, pcm in results)


@pytest.mark.parametrize("text", ["", "   ", "…", " ? "])
def test_nothing_to_say_gives_no_audio(pico: PicoSynthesizer, text: str) -> None:
    assert pico.synthesize(text, 8000) == b""


def test_text_starting_with_a_dash_is_spoken(pico: PicoSynthesizer) -> None:
    assert seconds(pico.synthesize("-w bonjour", 8000), 8000) > 0.5


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"speed": 10}, "speed must be a whole percentage from 20 to 500"),
        ({"pitch": 300}, "pitch must be a whole percentage from 50 to 200"),
        ({"language": "fr-CA"}, "Pico has no language 'fr-CA'"),
    ],
)
def test_bad_settings_are_refused_with_the_accepted_values(options: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PicoSynthesizer(**options)  # type: ignore[arg-type]


@pytest.mark.parametrize("rate", [0, -8000, 8000.0])
def test_bad_sample_rate_is_refused(pico: PicoSynthesizer, rate: object) -> None:
    with pytest.raises(ValueError, match="sample_rate must be a positive whole number of Hz"):
        pico.synthesize("Bonjour", rate)  # type: ignore[arg-type]


def test_missing_pico2wave_is_reported_with_the_package_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(
        SynthesisError, match="pico2wave not found: install it with `apt-get install libttspico-"
    ):
        PicoSynthesizer()
