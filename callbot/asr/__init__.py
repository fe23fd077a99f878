"""Speech recognition: the recognizer contract, the Vosk and Whisper engines, model management.

Engines import their heavy libraries (vosk, faster-whisper) only when loaded, so importing this package
stays cheap.
"""

from callbot.asr.base import Hypothesis, Recognizer, RecognizerEngine, Word
from callbot.asr.factory import ENGINE_NAMES, load_engine
from callbot.asr.hints import GrammarHints
from callbot.asr.manifest import ModelError, ModelSpec, default_models_dir, load_manifest
from callbot.asr.models import (
    ModelStatus,
    VerifyResult,
    fetch_model,
    install_from_archive,
    list_models,
    verify_model,
)
from callbot.asr.whisper_decode import WhisperSettings

__all__ = [
    "ENGINE_NAMES",
    "GrammarHints",
    "Hypothesis",
    "ModelError",
    "ModelSpec",
    "ModelStatus",
    "Recognizer",
    "RecognizerEngine",
    "VerifyResult",
    "WhisperSettings",
    "Word",
    "default_models_dir",
    "fetch_model",
    "install_from_archive",
    "list_models",
    "load_engine",
    "load_manifest",
    "verify_model",
]
