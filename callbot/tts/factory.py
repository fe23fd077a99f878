"""Pick a speech engine by name from configuration: "pico", "espeak" or "auto"."""

from __future__ import annotations

import inspect
from typing import Any

from callbot.tts.base import SynthesisError, Synthesizer
from callbot.tts.espeak import EspeakSynthesizer, espeak_available
from callbot.tts.pico import PicoSynthesizer, pico_available

ENGINES: dict[str, type[Synthesizer]] = {"pico": PicoSynthesizer, "espeak": EspeakSynthesizer}


def create_synthesizer(name: str = "auto", **options: Any) -> Synthesizer:
    """The engine called `name`; "auto" prefers Pico (far clearer French) and falls back to espeak-ng.

    `options` go to the engine's constructor (Pico: language, speed, pitch; espeak: voice, rate).
    """
    if name == "auto":
        if pico_available():
            name = "pico"
        elif espeak_available():
            name = "espeak"
        else:
            raise SynthesisError(
                "no speech synthesiser installed: install libttspico-utils (pico2wave, preferred) "
                "or espeak-ng with the pyttsx3 package"
            )
    engine = ENGINES.get(name)
    if engine is None:
        raise ValueError(f"unknown speech synthesiser {name!r}; choose one of: auto, {', '.join(ENGINES)}")
    accepted = [p for p in inspect.signature(engine.__init__).parameters if p != "self"]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ValueError(
            f"option {', '.join(map(repr, unknown))} is not known to the {name} synthesiser "
            f"(it accepts {', '.join(accepted)})"
        )
    return engine(**options)
