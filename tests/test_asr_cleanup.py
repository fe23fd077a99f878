"""Whisper transcripts without what the caller did not say: loops, repeated clauses, prompt leaks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from callbot.asr.cleanup import clean_transcript
from callbot.asr.whisper_decode import DEFAULT_DOMAIN_PROMPT


def test_a_repeated_clause_is_kept_once() -> None:
    cleaned = clean_transcript(
        "Je voudrais suivre ma commande, je voudrais s'il vous plaît, je vous plaîs, "
        "je voudrais s'il vous plaît,"
    )
    assert cleaned.text == "Je voudrais suivre ma commande, je voudrais s'il vous plaît, je vous plaîs."
    assert cleaned.removed == ("repeated: je voudrais s'il vous plaît,",)


def test_a_word_run_looping_back_to_back_is_kept_once() -> None:
    cleaned = clean_transcript("L'ampoule à filament ampoule à filament ampoule à filament, à Marseille.")
    assert cleaned.text == "L'ampoule à filament, à Marseille."


def test_clauses_copied_from_the_prompt_after_what_was_heard_are_removed() -> None:
    """ "rappelez-moi demain à dix heures" came back as the domain prompt's own words."""
    heard = "Merci, je voudrais un rendez-vous, suivre ma commande."
    cleaned = clean_transcript(heard, DEFAULT_DOMAIN_PROMPT)
    assert cleaned.text == "Merci."
    assert len(cleaned.removed) == 2


def test_a_hint_phrase_tacked_on_the_request_is_removed() -> None:
    prompt = f"{DEFAULT_DOMAIN_PROMPT} je voudrais être rappelé, un conseiller s'il vous plaît."
    assert clean_transcript("Je voudrais faire une réclamation, je voudrais être rappelé,", prompt).text == (
        "Je voudrais faire une réclamation."
    )


@pytest.mark.parametrize(
    "said",
    [
        "Oui.",
        "Non non.",
        "Oui, merci, au revoir.",
        "Parler à un conseiller.",  # the first clause is the caller's, even if the prompt has it
        "Bonjour, je voudrais suivre ma commande.",
    ],
)
def test_what_the_caller_said_is_kept_as_it_is(said: str) -> None:
    assert clean_transcript(said, DEFAULT_DOMAIN_PROMPT).text == said


def test_characters_of_other_scripts_are_dropped() -> None:
    cleaned = clean_transcript("C'est用.")
    assert cleaned.text == "C'est." and cleaned.removed == ("other script: 用",)
    french = "Ça coûte 8,90 € à l'ampoule LED, n°3 (Paris) ?"
    assert clean_transcript(french).text == french


@pytest.mark.parametrize(
    "said",
    [
        "C'est le 06 45 78 45 78.",  # numbers repeat for real
        "Mon numéro, 06, 12, 34, 12, 34.",
        "Ma commande 4 5 8 4 5 8.",
        "Oui, suivre ma commande, s'il vous plaît.",  # a request mid-sentence is the caller's
        "+33 6 12 34 56 78",
    ],
)
def test_numbers_and_requests_in_the_middle_are_never_taken_for_loops_or_leaks(said: str) -> None:
    assert clean_transcript(said, DEFAULT_DOMAIN_PROMPT).text == said


def test_a_turn_too_long_for_one_window_is_cleaned_like_a_short_one() -> None:
    """Past ~26 s the decode goes through faster-whisper's own windows: their loops are removed too."""
    from types import SimpleNamespace

    from callbot.asr.whisper_decode import WhisperSettings, _decode_long

    class Tokenizer:
        sot_prev, sot = 1, 2

        def decode(self, tokens: list[int]) -> str:
            return ""

    loop = "Je voudrais suivre ma commande."
    segments = [SimpleNamespace(text=f" {loop}", no_speech_prob=0.1, avg_logprob=-0.3) for _ in range(3)]
    model = SimpleNamespace(transcribe=lambda audio, **options: (iter(segments), None))
    audio = np.zeros(16000 * 40, dtype=np.float32)
    transcript = _decode_long(model, audio, [2, 3], WhisperSettings(), Tokenizer())  # type: ignore[arg-type]
    assert transcript.text == loop
    assert transcript.removed


def test_the_whisper_domain_prompt_can_be_set_for_another_trade(tmp_path: Path) -> None:
    from callbot.config import load_settings

    path = tmp_path / "callbot.yaml"
    path.write_text('asr: {domain_prompt: "Appel à la mutuelle. Remboursement, carte tiers payant."}\n')
    assert load_settings(path).asr.whisper().domain_prompt.startswith("Appel à la mutuelle")
    path.write_text("asr: {engine: whisper}\n")
    assert load_settings(path).asr.whisper().domain_prompt == DEFAULT_DOMAIN_PROMPT
