"""Speech synthesis: engines (SVOX Pico, espeak-ng), French text normalisation and the prompt cache."""

from callbot.tts.base import SynthesisError, Synthesizer
from callbot.tts.cache import PromptCache
from callbot.tts.espeak import EspeakSynthesizer
from callbot.tts.factory import create_synthesizer
from callbot.tts.french import format_date_fr, format_time_fr, speakable
from callbot.tts.pico import PicoSynthesizer

__all__ = [
    "EspeakSynthesizer",
    "PicoSynthesizer",
    "PromptCache",
    "SynthesisError",
    "Synthesizer",
    "create_synthesizer",
    "format_date_fr",
    "format_time_fr",
    "speakable",
]
