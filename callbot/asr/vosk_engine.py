"""Vosk (Kaldi) streaming recognition: one `vosk.Model` per process, one `KaldiRecognizer` per call.

A `KaldiRecognizer` is costly to create and, with a lookahead model, to warm up (its decoding graph is
composed lazily as audio is decoded), so a call keeps one for its whole life and resets it between turns,
and the engine hands finished calls' recognizers to new calls. Each turn ends with `FinalResult()`, which
also gives the next turn a fresh feature pipeline and decoder, so turns never leak into each other. Vosk
stamps words on the recognizer's own clock (all audio it has ever been fed); the recognizer counts samples
to turn those into times from the turn's start.

Phrase hints (see `callbot.asr.hints`): plain hints are ignored here (a Kaldi graph cannot be biased
cheaply), `GrammarHints` become a runtime grammar (plus "[unk]" so that other speech maps to nothing rather
than to the nearest allowed phrase) when the model has a lookahead graph (`HCLr.fst` + `Gr.fst`, the small
models). Big models with a static `HCLG.fst` cannot take a grammar and recognise freely instead. A grammar
turn borrows a recognizer built for that grammar (kept warm by the engine too), so going back to free
recognition never rebuilds the full graph.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from callbot.asr.base import Hypothesis, Recognizer, RecognizerEngine, Word
from callbot.asr.hints import is_grammar
from callbot.asr.manifest import ModelError

UNKNOWN_WORD = "[unk]"
DEFAULT_SAMPLE_RATE = 16000
#: Audio between two looks at the partial result: Vosk decodes in 200 ms steps, so 100 ms loses nothing.
PARTIAL_INTERVAL_MS = 100

_models: dict[Path, Any] = {}
_models_lock = threading.Lock()


def _vosk() -> Any:
    """Import vosk lazily and silence its Kaldi logging (it writes to stderr for every recognizer)."""
    import vosk

    vosk.SetLogLevel(-1)
    return vosk


def model_sample_rate(model_dir: Path) -> int:
    """The rate the model's features expect: `--sample-frequency` in conf/mfcc.conf, else 16 kHz."""
    for conf in (model_dir / "conf" / "mfcc.conf", model_dir / "mfcc.conf"):
        if conf.is_file():
            match = re.search(r"--sample-frequency=(\d+)", conf.read_text(encoding="utf-8", errors="replace"))
            if match:
                return int(match.group(1))
    return DEFAULT_SAMPLE_RATE


def supports_runtime_grammar(model_dir: Path) -> bool:
    """Vosk builds a grammar on the lookahead graph only; a model with a static HCLG.fst uses that instead."""
    for graph in (model_dir / "graph", model_dir):
        if (graph / "HCLG.fst").is_file():
            return False
        if (graph / "HCLr.fst").is_file() and (graph / "Gr.fst").is_file():
            return True
    return False


def _load_model(model_dir: Path) -> Any:
    key = model_dir.resolve()
    with _models_lock:
        if key not in _models:
            if not ((key / "am" / "final.mdl").is_file() or (key / "final.mdl").is_file()):
                raise ModelError(f"{model_dir}: not a Vosk model folder (no am/final.mdl)")
            try:
                _models[key] = _vosk().Model(str(key))
            except Exception as exc:  # vosk raises a bare Exception("Failed to create a model")
                raise ModelError(f"{model_dir}: Vosk could not load the model ({exc})") from exc
        return _models[key]


class _Kaldi:
    """A `KaldiRecognizer` with the grammar it decodes with and its own clock (samples fed since creation)."""

    def __init__(self, model: Any, sample_rate: int, grammar: str | None) -> None:
        vosk = _vosk()
        args = (model, float(sample_rate), grammar) if grammar else (model, float(sample_rate))
        self.rec = vosk.KaldiRecognizer(*args)
        self.rec.SetWords(True)
        self.grammar = grammar
        self.fed_samples = 0
        self.running = False

    def flush(self) -> None:
        """End an unfinished turn so that nothing of it reaches the next one (fresh decoder and features)."""
        if self.running:
            self.rec.FinalResult()
            self.running = False
        self.rec.Reset()


class VoskEngine(RecognizerEngine):
    """A Vosk model shared by every call of the process (loaded once per path, ~2 s, ~500 MB).

    It also keeps a few idle `KaldiRecognizer`s that finished calls gave back. A lookahead model composes
    its decoding graph lazily, per recognizer: a fresh recognizer spends about 1 s of CPU per second of
    audio in its first turn, a warm one 0.1 s. Handing warm recognizers to new calls (one per call at a
    time, as before) saves that on every call but the first few; the same goes for each grammar.
    """

    name = "vosk"

    def __init__(
        self, model_path: Path | str, model_name: str | None = None, language: str = "fr", max_idle: int = 8
    ) -> None:
        self.model_path = Path(model_path)
        self.model_name = model_name or self.model_path.name
        self.language = language
        self.sample_rate = model_sample_rate(self.model_path)
        self.supports_grammar = supports_runtime_grammar(self.model_path)
        self.model = _load_model(self.model_path)
        self.max_idle = max_idle
        self._idle: list[_Kaldi] = []  # most recently returned last
        self._idle_lock = threading.Lock()

    @property
    def description(self) -> str:
        grammar = "runtime grammars" if self.supports_grammar else "no runtime grammars"
        rate = f"{self.sample_rate} Hz"
        return f"vosk {self.model_name} ({self.language}, {rate}, {grammar}) from {self.model_path}"

    def new_recognizer(self) -> VoskRecognizer:
        return VoskRecognizer(self)

    def borrow(self, grammar: str | None) -> _Kaldi:
        """A Kaldi recognizer for `grammar` (JSON phrase list, None = free): a warm idle one if any."""
        with self._idle_lock:
            for index in range(len(self._idle) - 1, -1, -1):
                if self._idle[index].grammar == grammar:
                    return self._idle.pop(index)
        return _Kaldi(self.model, self.sample_rate, grammar)

    def give_back(self, kaldi: _Kaldi) -> None:
        kaldi.flush()
        with self._idle_lock:
            self._idle.append(kaldi)
            del self._idle[: max(0, len(self._idle) - self.max_idle)]  # forget the least recently used


class VoskRecognizer(Recognizer):
    """One call's recognizer: one Kaldi recognizer at a time, reset between turns."""

    def __init__(self, engine: VoskEngine, partial_interval_ms: int = PARTIAL_INTERVAL_MS) -> None:
        self.engine = engine
        self.sample_rate = engine.sample_rate
        self._kaldi: _Kaldi | None = engine.borrow(None)
        self._partial_interval = engine.sample_rate * partial_interval_ms // 1000
        self._turn_start = 0
        self._since_partial = 0
        self._last_partial = ""

    @property
    def grammar(self) -> tuple[str, ...] | None:
        """The phrases this turn is restricted to, or None when recognition is free."""
        grammar = self._live().grammar
        return tuple(json.loads(grammar)[:-1]) if grammar else None

    def start_turn(self, hints: Sequence[str] = (), primer: str = "") -> None:
        kaldi = self._live()
        kaldi.flush()
        wanted = None
        if is_grammar(hints) and hints and self.engine.supports_grammar:
            wanted = json.dumps([*hints, UNKNOWN_WORD], ensure_ascii=False)
        if wanted != kaldi.grammar:
            self.engine.give_back(kaldi)
            kaldi = self._kaldi = self.engine.borrow(wanted)
        self._turn_start = kaldi.fed_samples
        self._since_partial = 0
        self._last_partial = ""

    def accept(self, pcm: bytes) -> Hypothesis | None:
        if not pcm:
            return None
        kaldi = self._live()
        kaldi.rec.AcceptWaveform(pcm)  # its end-of-utterance flag is ignored: the session's VAD decides
        samples = len(pcm) // 2
        kaldi.fed_samples += samples
        kaldi.running = True
        self._since_partial += samples
        if self._since_partial < self._partial_interval:
            return None
        self._since_partial = 0
        text = _clean(json.loads(kaldi.rec.PartialResult()).get("partial", ""))
        if text == self._last_partial:
            return None
        self._last_partial = text
        return Hypothesis(text, final=False)

    def finish(self) -> Hypothesis:
        kaldi = self._live()
        if not kaldi.running:
            return Hypothesis("", final=True)
        result = json.loads(kaldi.rec.FinalResult())
        kaldi.running = False
        offset_s = self._turn_start / self.sample_rate  # Vosk stamps words on the recognizer's own clock
        words = tuple(
            Word(
                text=item["word"],
                start_ms=max(0, round((item["start"] - offset_s) * 1000)),
                end_ms=max(0, round((item["end"] - offset_s) * 1000)),
                confidence=float(item.get("conf", 1.0)),
            )
            for item in result.get("result", [])
            if item.get("word") != UNKNOWN_WORD
        )
        confidence = sum(w.confidence for w in words) / len(words) if words else None
        text = " ".join(w.text for w in words) if words else _clean(result.get("text", ""))
        return Hypothesis(text, final=True, words=words, confidence=confidence)

    def close(self) -> None:
        """Hand the Kaldi recognizer back to the engine for the next call."""
        if self._kaldi is not None:
            self.engine.give_back(self._kaldi)
            self._kaldi = None

    def _live(self) -> _Kaldi:
        if self._kaldi is None:
            raise RuntimeError("this recognizer was closed; ask the engine for a new one")
        return self._kaldi


def _clean(text: str) -> str:
    return " ".join(word for word in text.split() if word != UNKNOWN_WORD)
