"""The prompt cache in front of the real Pico engine."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from callbot.audio import read_wav
from callbot.tts import PicoSynthesizer, PromptCache, SynthesisError, Synthesizer, speakable
from callbot.tts.pico import pico_available

pytestmark = pytest.mark.skipif(not pico_available(), reason="pico2wave (libttspico-utils) is not installed")


class CountingPico(Synthesizer):
    """The real Pico engine, counting calls and optionally slowed down so that requests overlap."""

    name = "pico"

    def __init__(self, delay_s: float = 0.0) -> None:
        self.engine = PicoSynthesizer()
        self.delay_s = delay_s
        self.calls: list[str] = []
        self._lock = threading.Lock()

    @property
    def description(self) -> str:
        return self.engine.description

    def synthesize(self, text: str, sample_rate: int) -> bytes:
        with self._lock:
            self.calls.append(text)
        time.sleep(self.delay_s)
        return self.engine.synthesize(text, sample_rate)


class BrokenEngine(Synthesizer):
    name = "broken"

    def __init__(self) -> None:
        self.calls = 0

    def synthesize(self, text: str, sample_rate: int) -> bytes:
        self.calls += 1
        raise SynthesisError("engine unavailable")


def test_a_prompt_is_synthesised_once_and_then_served_from_memory() -> None:
    engine = CountingPico()
    cache = PromptCache(engine, 8000)
    first = cache.get("Bonjour, bienvenue chez nous.")
    assert len(first) > 8000  # over half a second of 8 kHz PCM16
    assert all(cache.get("Bonjour, bienvenue chez nous.") == first for _ in range(5))
    assert (cache.syntheses, cache.misses, cache.hits) == (1, 1, 5)
    assert engine.calls == ["Bonjour, bienvenue chez nous."]


def test_audio_is_the_engines_audio_for_the_normalised_text() -> None:
    engine = CountingPico()
    cache = PromptCache(engine, 8000)
    audio = cache.get("Rendez-vous à 14h30.")
    assert engine.calls == ["Rendez-vous à quatorze heures trente."]
    assert audio == engine.engine.synthesize(speakable("Rendez-vous à 14h30."), 8000)


def test_written_variants_of_one_prompt_share_an_entry() -> None:
    cache = PromptCache(CountingPico(), 8000)
    cache.get("Rendez-vous à 14h30.")
    cache.get("Rendez-vous à 14 h 30.")
    cache.get("Rendez-vous à 14:30.")
    assert (cache.syntheses, len(cache)) == (1, 1)


def test_each_rate_has_its_own_cache() -> None:
    engine = CountingPico()
    narrow, wide = PromptCache(engine, 8000), PromptCache(engine, 16000)
    assert len(wide.get("Merci.")) == pytest.approx(2 * len(narrow.get("Merci.")), abs=4)


def test_concurrent_requests_for_one_text_synthesise_it_once() -> None:
    engine = CountingPico(delay_s=0.3)
    cache = PromptCache(engine, 8000)
    start = threading.Barrier(6)

    def ask(_: int) -> bytes:
        start.wait()
        return cache.get("Un instant, je vérifie votre dossier.")

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(ask, range(6)))
    assert len(engine.calls) == 1
    assert len(set(results)) == 1
    assert (cache.misses, cache.hits) == (1, 5)


def test_least_recently_used_prompt_is_evicted_first() -> None:
    engine = CountingPico()
    cache = PromptCache(engine, 8000, max_entries=2)
    cache.get("Oui.")
    cache.get("Non.")
    cache.get("Oui.")  # "Non." is now the oldest
    cache.get("Merci.")
    assert len(cache) == 2
    cache.get("Oui.")
    assert cache.syntheses == 3
    cache.get("Non.")
    assert cache.syntheses == 4


def test_preload_synthesises_fixed_prompts_up_front() -> None:
    engine = CountingPico()
    cache = PromptCache(engine, 8000)
    prompts = ["Bonjour.", "Je n'ai pas compris.", "Au revoir."]
    cache.preload(prompts)
    assert cache.syntheses == 3
    for prompt in prompts:
        cache.get(prompt)
    assert (cache.syntheses, cache.hits) == (3, 3)


def test_failures_are_reported_and_not_cached() -> None:
    engine = BrokenEngine()
    cache = PromptCache(engine, 8000)
    with pytest.raises(SynthesisError, match=r"cannot prepare prompt 'Bonjour\.': engine unavailable"):
        cache.preload(["Bonjour."])
    with pytest.raises(SynthesisError, match="engine unavailable"):
        cache.get("Bonjour.")
    assert engine.calls == 2 and len(cache) == 0


def test_directory_keeps_prompts_across_restarts(tmp_path: Path) -> None:
    first = PromptCache(CountingPico(), 8000, directory=tmp_path)
    audio = first.get("Votre appel est important pour nous.")
    files = list(tmp_path.glob("*.wav"))
    assert len(files) == 1
    assert read_wav(files[0]).sample_rate == 8000

    engine = CountingPico()
    restarted = PromptCache(engine, 8000, directory=tmp_path)
    assert restarted.get("Votre appel est important pour nous.") == audio
    assert (restarted.disk_hits, engine.calls) == (1, [])


def test_directory_entries_belong_to_one_voice_and_rate(tmp_path: Path) -> None:
    PromptCache(CountingPico(), 8000, directory=tmp_path).get("Merci.")
    other_rate = CountingPico()
    PromptCache(other_rate, 16000, directory=tmp_path).get("Merci.")
    slower = PicoSynthesizer(speed=80)
    slower_cache = PromptCache(slower, 8000, directory=tmp_path)
    slower_cache.get("Merci.")
    assert other_rate.calls == ["Merci."]
    assert slower_cache.syntheses == 1
    assert len(list(tmp_path.glob("*.wav"))) == 3


def test_a_damaged_file_is_synthesised_again(tmp_path: Path) -> None:
    PromptCache(CountingPico(), 8000, directory=tmp_path).get("Merci.")
    (stored,) = tmp_path.glob("*.wav")
    stored.write_bytes(b"not a wav")
    engine = CountingPico()
    cache = PromptCache(engine, 8000, directory=tmp_path)
    cache.get("Merci.")
    assert engine.calls == ["Merci."]
    assert read_wav(stored).sample_rate == 8000


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="max_entries must be at least 1"):
        PromptCache(CountingPico(), 8000, max_entries=0)
    with pytest.raises(ValueError, match="sample_rate must be a positive whole number"):
        PromptCache(CountingPico(), 0)
