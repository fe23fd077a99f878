"""The committed caller fixtures match their manifests, and the generator reproduces them byte for byte.

Other tests trust these recordings blindly (what was said, where the speech lies, which intent it carries),
so the checks here are what makes that trust safe.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import random
import shutil
import sys
import wave
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
import text_to_num
import yaml

from callbot.audio import read_wav

FIXTURES = Path(__file__).parent / "fixtures"
CALLERS_DIR = FIXTURES / "callers"
CALLS_DIR = FIXTURES / "calls"
RATE = 8000
#: The whole committed set must stay small enough to live in the repository comfortably.
SIZE_BUDGET_BYTES = 3 * 1024 * 1024

needs_pico = pytest.mark.skipif(
    shutil.which("pico2wave") is None, reason="pico2wave (libttspico-utils) missing"
)


def _load_generator() -> ModuleType:
    path = FIXTURES / "make_caller_audio.py"
    spec = importlib.util.spec_from_file_location("make_caller_audio", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


generator = _load_generator()


def _manifest(directory: Path) -> dict[str, Any]:
    document = yaml.safe_load((directory / "manifest.yaml").read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


CALLERS = _manifest(CALLERS_DIR)["utterances"]
CALLS = _manifest(CALLS_DIR)["calls"]


def _samples(path: Path, channel: int = 0) -> np.ndarray:
    return np.frombuffer(read_wav(path).channel(channel), dtype="<i2").astype(np.float64)


def _level_dbfs(samples: np.ndarray) -> float:
    rms = float(np.sqrt(np.mean(samples**2))) if samples.size else 0.0
    return 20 * np.log10(max(rms, 1e-3) / 32767)


def _span(samples: np.ndarray, start_ms: int, end_ms: int) -> np.ndarray:
    return samples[start_ms * RATE // 1000 : end_ms * RATE // 1000]


# --- files and formats -------------------------------------------------------------------------------


@pytest.mark.parametrize("directory", [CALLERS_DIR, CALLS_DIR], ids=["callers", "calls"])
def test_every_listed_wav_exists_and_no_wav_is_unlisted(directory: Path) -> None:
    entries = _manifest(directory)
    listed = {entry["file"] for entry in entries.get("utterances", entries.get("calls", []))}
    on_disk = {path.name for path in directory.glob("*.wav")}
    assert listed == on_disk


@pytest.mark.parametrize(
    ("path", "entry"),
    [(CALLERS_DIR / e["file"], e) for e in CALLERS] + [(CALLS_DIR / e["file"], e) for e in CALLS],
    ids=lambda value: value.name if isinstance(value, Path) else "",
)
def test_wav_is_8khz_pcm16_with_the_listed_channels_and_duration(path: Path, entry: dict[str, Any]) -> None:
    with wave.open(str(path)) as wav:
        assert wav.getframerate() == RATE
        assert wav.getsampwidth() == 2
        assert wav.getnchannels() == entry.get("channels", 1)
        assert wav.getnframes() * 1000 // RATE == entry["duration_ms"]


def test_the_committed_set_stays_within_its_size_budget() -> None:
    total = sum(path.stat().st_size for path in FIXTURES.glob("call*/*") if path.is_file())
    assert total < SIZE_BUDGET_BYTES, f"fixtures take {total} bytes; shorten silences or drop files"


# --- single utterances -------------------------------------------------------------------------------


def test_every_intent_has_two_or_three_callers() -> None:
    counts = {intent: 0 for intent in generator.INTENTS}
    for entry in CALLERS:
        counts[entry["intent"]] += 1
    assert all(2 <= count <= 3 for count in counts.values()), counts


def test_each_caller_speaks_with_its_own_voice_within_picos_ranges() -> None:
    voices = [(entry["speed"], entry["pitch"]) for entry in CALLERS]
    assert len(set(voices)) == len(voices)
    assert all(80 <= speed <= 120 and 85 <= pitch <= 115 for speed, pitch in voices)


def test_slots_use_the_chains_stores_and_six_digit_order_numbers() -> None:
    turns = [*CALLERS, *(turn for call in CALLS for turn in call["turns"])]
    for entry in turns:
        slots = entry["slots"]
        assert set(slots) <= {
            "numero_commande",
            "magasin",
            "produit",
            "rappel",
            "rappel_jour",
            "rappel_heure",
            "rappel_moment",
        }
        if "magasin" in slots:
            assert slots["magasin"] in generator.STORES
        if "numero_commande" in slots:
            assert len(slots["numero_commande"]) == 6 and slots["numero_commande"].isdigit()


@pytest.mark.parametrize("entry", CALLERS, ids=[e["file"] for e in CALLERS])
def test_caller_speech_sits_between_the_promised_silences(entry: dict[str, Any]) -> None:
    samples = _samples(CALLERS_DIR / entry["file"])
    start, end = entry["speech_ms"]
    assert start == 300
    assert entry["duration_ms"] - end == 800
    for silence in (_span(samples, 0, start - 20), _span(samples, end + 20, entry["duration_ms"])):
        assert abs(_level_dbfs(silence) - generator.LINE_NOISE_DBFS) < 3, "expected line noise only"
    expected = generator.NOMINAL_SPEECH_DBFS + entry["gain_db"]
    assert abs(generator.active_level_dbfs(_span(samples, start, end), RATE) - expected) < 2.0


@pytest.mark.parametrize("entry", CALLERS, ids=[e["file"] for e in CALLERS])
def test_speech_lasts_about_as_long_as_its_text_takes_to_say(entry: dict[str, Any]) -> None:
    start, end = entry["speech_ms"]
    per_char = (end - start) / len(entry["text"])
    assert end - start >= 150
    assert 25 <= per_char <= 120, f"{per_char:.0f} ms per character"


# --- calls -------------------------------------------------------------------------------------------


def _call(name: str) -> dict[str, Any]:
    return next(call for call in CALLS if call["file"] == name)


def test_the_required_calls_say_what_the_scenarios_need() -> None:
    texts = {call["file"]: [turn["text"] for turn in call["turns"]] for call in CALLS}
    assert texts["rappel_demain_15h.wav"][:2] == [
        "Bonjour",
        "Je voudrais être rappelé demain à quinze heures",
    ]
    assert [turn["intent"] for turn in _call("rappel_demain_15h.wav")["turns"]] == [None, "rappel", "oui"]
    assert texts["conseiller.wav"] == ["Bonjour", "Je voudrais parler à un conseiller"]
    assert [turn["intent"] for turn in _call("suivi_commande.wav")["turns"]] == [
        "suivi_commande",
        "suivi_commande",
        "au_revoir",
    ]
    assert [turn["intent"] for turn in _call("horaires.wav")["turns"]] == ["horaires", "au_revoir"]
    outcomes = {call["file"]: call["outcome"]["action"] for call in CALLS}
    assert outcomes == {
        "rappel_demain_15h.wav": "schedule_callback",
        "conseiller.wav": "transfer",
        "conseiller_stereo.wav": "transfer",
        "suivi_commande.wav": "hangup",
        "horaires.wav": "hangup",
    }
    assert _call("rappel_demain_15h.wav")["outcome"]["callback"] == {"day_offset": 1, "time": "15:00"}


@pytest.mark.parametrize("entry", CALLS, ids=[e["file"] for e in CALLS])
def test_caller_turns_are_apart_long_enough_for_a_bot_prompt(entry: dict[str, Any]) -> None:
    spans = [turn["speech_ms"] for turn in entry["turns"]]
    samples = _samples(CALLS_DIR / entry["file"], entry["caller_channel"])
    gaps = [(0, spans[0][0]), *((a[1], b[0]) for a, b in itertools.pairwise(spans))]
    gaps.append((spans[-1][1], entry["duration_ms"]))
    assert all(end - start >= 2000 for start, end in gaps)
    assert all(4000 <= b[0] - a[1] <= 6000 for a, b in itertools.pairwise(spans))
    for start, end in gaps:
        silence = _span(samples, start + 20, end - 20)
        assert abs(_level_dbfs(silence) - generator.LINE_NOISE_DBFS) < 3, (
            f"caller not silent in {start}-{end} ms"
        )
    expected = generator.NOMINAL_SPEECH_DBFS + entry["voice"]["gain_db"]
    for start, end in spans:
        assert abs(generator.active_level_dbfs(_span(samples, start, end), RATE) - expected) < 2.0


def test_stereo_call_has_the_caller_on_the_left_and_the_bot_only_in_the_pauses() -> None:
    stereo = _call("conseiller_stereo.wav")
    mono = read_wav(CALLS_DIR / stereo["left_same_as"])
    audio = read_wav(CALLS_DIR / stereo["file"])
    assert audio.channels == 2
    assert audio.channel(0) == mono.pcm
    right = np.frombuffer(audio.channel(1), dtype="<i2").astype(np.float64)
    for start, end in (turn["speech_ms"] for turn in stereo["turns"]):
        assert _level_dbfs(_span(right, start, end)) < -80, "the bot must not talk over the caller"
    first_turn = stereo["turns"][0]["speech_ms"][0]
    assert _level_dbfs(_span(right, 0, first_turn)) > -35, "the bot greets before the caller speaks"


# --- the generator -----------------------------------------------------------------------------------


@needs_pico
def test_regenerating_rewrites_every_fixture_byte_for_byte(tmp_path: Path) -> None:
    generator.write_all(tmp_path)
    committed = sorted(p.relative_to(FIXTURES) for p in FIXTURES.glob("call*/*") if p.is_file())
    regenerated = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert regenerated == committed
    changed = [str(p) for p in committed if (tmp_path / p).read_bytes() != (FIXTURES / p).read_bytes()]
    assert not changed, "rerun python tests/fixtures/make_caller_audio.py (or find the nondeterminism)"


def _median_pitch_hz(samples: np.ndarray, rate: int) -> float:
    """Median F0 of the loud 40 ms windows, by autocorrelation (good enough to compare two voices)."""
    window, hop = rate // 25, rate // 100
    estimates = []
    for offset in range(0, len(samples) - window, hop):
        chunk = samples[offset : offset + window].astype(np.float64)
        chunk -= chunk.mean()
        if np.sqrt(np.mean(chunk**2)) < 1000:
            continue
        correlation = np.correlate(chunk, chunk, "full")[window - 1 :]
        low, high = rate // 400, rate // 60
        lag = low + int(np.argmax(correlation[low:high]))
        if correlation[lag] > 0.5 * correlation[0]:
            estimates.append(rate / lag)
    return float(np.median(estimates))


@needs_pico
def test_pico_speed_and_pitch_markup_really_change_the_voice() -> None:
    text = "Bonjour, je voudrais un renseignement sur ma commande"
    slow = generator.synthesize(text, generator.Voice(80, 100))
    fast = generator.synthesize(text, generator.Voice(120, 100))
    low = generator.synthesize(text, generator.Voice(100, 85))
    high = generator.synthesize(text, generator.Voice(100, 115))
    assert len(slow) > 1.25 * len(fast)
    assert _median_pitch_hz(high, 16000) > 1.2 * _median_pitch_hz(low, 16000)


@needs_pico
def test_generator_refuses_unknown_fixture_names(tmp_path: Path) -> None:
    with pytest.raises(generator.FixtureError, match="unknown fixture name"):
        generator.write_callers(tmp_path, only=["no_such_caller"])


# --- the larger labelled set (bench/make_caller_set.py) ----------------------------------------------


def _load_caller_set() -> ModuleType:
    path = Path(__file__).parents[1] / "bench" / "make_caller_set.py"
    spec = importlib.util.spec_from_file_location("make_caller_set", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


caller_set = _load_caller_set()


@pytest.mark.parametrize("number", [17, 21, 71, 80, 81, 99, 100, 200, 280, 458129, 180000, 999999, 100001])
def test_order_numbers_are_spelled_as_text2num_reads_them_back(number: int) -> None:
    words = caller_set.number_to_words(number)  # the speller the generator reads order numbers with
    assert text_to_num.alpha2digit(words, "fr") == str(number)


def test_pairs_and_digits_readings_name_the_same_order_number() -> None:
    rng = random.Random(4)
    readings = {caller_set.order_number_said("450580", rng) for _ in range(40)}
    assert readings == {
        "quatre, cinq, zéro, cinq, huit, zéro",
        "quarante-cinq, zéro cinq, quatre-vingts",
        "quatre cent cinquante mille cinq cent quatre-vingts",
    }
    assert {text_to_num.alpha2digit(reading, "fr").replace(", ", "") for reading in readings} == {"450580"}


@needs_pico
def test_caller_set_is_labelled_and_identical_for_the_same_seed(tmp_path: Path) -> None:
    first, again, other = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    caller_set.main([str(first), "--per-intent", "1", "--seed", "7"])
    caller_set.main([str(again), "--per-intent", "1", "--seed", "7"])
    caller_set.main([str(other), "--per-intent", "1", "--seed", "8"])
    labels = json.loads((first / "labels.json").read_text(encoding="utf-8"))["items"]
    assert sorted(item["intent"] for item in labels) == sorted(generator.INTENTS)
    assert {item["file"] for item in labels} == {path.name for path in first.glob("*.wav")}
    assert all(set(item) >= {"file", "text", "intent", "slots"} for item in labels)
    for path in first.iterdir():
        assert path.read_bytes() == (again / path.name).read_bytes()
    assert (first / "labels.json").read_bytes() != (other / "labels.json").read_bytes()


def test_caller_set_rejects_a_per_intent_count_below_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        caller_set.main([str(tmp_path), "--per-intent", "0"])
    assert "--per-intent must be at least 1" in capsys.readouterr().err
