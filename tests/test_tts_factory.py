"""Choosing a speech engine from configuration."""

from __future__ import annotations

import pytest

from callbot.tts import EspeakSynthesizer, PicoSynthesizer, SynthesisError, create_synthesizer, factory
from callbot.tts.espeak import espeak_available
from callbot.tts.pico import pico_available

needs_pico = pytest.mark.skipif(not pico_available(), reason="pico2wave is not installed")
needs_espeak = pytest.mark.skipif(not espeak_available(), reason="espeak-ng/pyttsx3 is not installed")


@needs_pico
def test_auto_prefers_pico() -> None:
    synth = create_synthesizer()
    assert isinstance(synth, PicoSynthesizer)
    assert (synth.name, synth.description) == ("pico", "pico fr-FR (SVOX)")


@needs_pico
def test_options_reach_the_engine() -> None:
    synth = create_synthesizer("pico", speed=90)
    assert synth.description == "pico fr-FR (SVOX), speed 90 %"


@needs_espeak
def test_espeak_by_name() -> None:
    with create_synthesizer("espeak", rate=160) as synth:
        assert isinstance(synth, EspeakSynthesizer)
        assert synth.description == "espeak-ng roa/fr via pyttsx3, 160 wpm"
        assert len(synth.synthesize("Bonjour.", 8000)) > 4000


@needs_espeak
def test_auto_falls_back_to_espeak_without_pico(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(factory, "pico_available", lambda: False)
    with create_synthesizer() as synth:
        assert synth.name == "espeak"


def test_no_engine_installed_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(factory, "pico_available", lambda: False)
    monkeypatch.setattr(factory, "espeak_available", lambda: False)
    with pytest.raises(SynthesisError, match=r"install libttspico-utils .* or espeak-ng"):
        create_synthesizer()


def test_unknown_engine_lists_the_choices() -> None:
    expected = "unknown speech synthesiser 'festival'; choose one of: auto, pico, espeak"
    with pytest.raises(ValueError, match=expected):
        create_synthesizer("festival")


@needs_pico
def test_unknown_option_names_the_accepted_ones() -> None:
    with pytest.raises(
        ValueError, match=r"option 'rate' is not known to the pico synthesiser .*speed, pitch"
    ):
        create_synthesizer("pico", rate=150)
