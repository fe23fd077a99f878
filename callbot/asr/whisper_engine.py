"""Whisper (faster-whisper / CTranslate2) recognition of whole caller turns, French forced.

Whisper is not streaming: a recognizer buffers the turn and decodes it at the end. To hide most of the
decode, `pause()` (the caller fell silent, the session is still waiting to be sure the turn ended) starts
a speculative decode of the audio so far on the engine's worker thread; `finish()` returns that result
when nothing but silence arrived since, and decodes the whole buffer otherwise. CTranslate2 releases the
GIL, so the decode does not stall the session's Python threads.

The model is loaded once per process and settings (module-level cache). A dummy decode at load makes
sure the first caller never pays a one-off cost; measured here that cost is small (the first decode of a
fresh model took about as much CPU as the next ones), so `warm_up=False` is fine where start-up matters.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from callbot.asr.base import Hypothesis, Recognizer, RecognizerEngine, Word
from callbot.asr.denoise import subtract_line_noise
from callbot.asr.level import to_speech_level
from callbot.asr.manifest import ModelError
from callbot.asr.whisper_decode import (
    SAMPLE_RATE,
    Transcript,
    WhisperSettings,
    build_prompt,
    decode,
    score_phrases,
    task_prompt,
)

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

#: Audio after a pause quieter than this (dBFS, RMS) does not invalidate the speculative decode.
SILENCE_DBFS = -45.0
_FRAME_SAMPLES = SAMPLE_RATE // 50
#: A turn this long at most (its pre-roll and end silence included: one word, or "Celui de Lyon") gets
#: a second look at its closed set with the encoder on Whisper's full window (`rescore_short_turn`).
SHORT_TURN_S = 2.0
FULL_WINDOW_S = 30.0

_models: dict[tuple[Path, str, int, int], WhisperModel] = {}
_models_lock = threading.Lock()


def load_whisper_model(model_dir: Path, settings: WhisperSettings) -> WhisperModel:
    """One `WhisperModel` per (folder, compute type, threads, workers) in this process."""
    key = (model_dir.resolve(), *settings.cache_key())
    with _models_lock:
        if key not in _models:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a local folder must never reach for the Hub
            from faster_whisper import WhisperModel

            if not (model_dir / "model.bin").is_file():
                raise ModelError(f"{model_dir}: not a CTranslate2 Whisper model (no model.bin)")
            try:
                _models[key] = WhisperModel(
                    str(model_dir),
                    device="cpu",
                    compute_type=settings.compute_type,
                    cpu_threads=settings.cpu_threads,
                    num_workers=settings.num_workers,
                )
            except (RuntimeError, ValueError, OSError) as exc:
                raise ModelError(f"{model_dir}: faster-whisper could not load the model ({exc})") from exc
        return _models[key]


class WhisperEngine(RecognizerEngine):
    """A loaded Whisper model plus the worker threads that run decodes for every call."""

    name = "whisper"

    def __init__(
        self,
        model_dir: Path | str,
        settings: WhisperSettings | None = None,
        model_name: str = "whisper-base",
        origin: str = "",
    ) -> None:
        from faster_whisper.tokenizer import Tokenizer
        from faster_whisper.transcribe import get_suppressed_tokens

        self.model_dir = Path(model_dir)
        self.settings = settings or WhisperSettings()
        self.model_name = model_name
        self.origin = origin
        self.model = load_whisper_model(self.model_dir, self.settings)
        self.tokenizer = Tokenizer(
            self.model.hf_tokenizer, True, task="transcribe", language=self.settings.language
        )
        self.suppress_tokens = list(get_suppressed_tokens(self.tokenizer, [-1]) or [])
        self._executor = ThreadPoolExecutor(self.settings.num_workers, thread_name_prefix="whisper-decode")
        self._count_lock = threading.Lock()
        #: Decodes run by this engine since it was created (all calls together).
        self.decode_count = 0
        #: (phrase, encoder context) → its score on line noise alone (`prior`)
        self._priors: dict[tuple[str, float], float] = {}
        self._priors_lock = threading.Lock()
        if self.settings.warm_up:
            self.transcribe(_warm_up_audio(), ())

    @property
    def description(self) -> str:
        s = self.settings
        where = f" from {self.origin}" if self.origin else f" from {self.model_dir}"
        return (
            f"whisper {self.model_name.removeprefix('whisper-')} ({s.compute_type}, {s.language}, "
            f"beam {s.beam_size}, {s.cpu_threads} threads){where}"
        )

    def new_recognizer(self) -> WhisperRecognizer:
        return WhisperRecognizer(self)

    def prompt_for(self, hints: Sequence[str], primer: str = "") -> list[int]:
        return build_prompt(self.tokenizer, self.settings, tuple(hints), primer)

    def transcribe(
        self, pcm_or_audio: bytes | np.ndarray, hints: Sequence[str] = (), primer: str = ""
    ) -> Transcript:
        """Decode one utterance on the calling thread (PCM16 bytes or float32 samples at 16 kHz)."""
        return self._decode(_as_float(pcm_or_audio), self.prompt_for(hints, primer))

    def submit(self, audio: np.ndarray, prompt: list[int]) -> Future[Transcript]:
        """Decode on the engine's worker thread(s)."""
        return self._executor.submit(self._decode, audio, prompt)

    def score(
        self, audio: np.ndarray, phrases: Sequence[str], prefix: str = "", context_s: float = 0.0
    ) -> list[float]:
        """Closed-set scores of `phrases` for one utterance (see `score_phrases`), on the calling thread.
        With a `prefix` (the words heard before, "… au magasin"), each phrase is scored right after
        them ("de Lille", "de Lyon"): only the phrase's tokens count (not the end of the text).

        Without the domain prompt: the phrases need no vocabulary primed, and its 48 tokens were decoded
        again for every phrase — 31 store answers cost 1235 ms with it, 495 ms without, for the same
        picks (bench/closed_set_bench.py). With `context_s`, the encoder runs on that much audio
        (`whisper_decode._encode`: a short turn's second look)."""
        task_only = task_prompt(self.tokenizer)
        return score_phrases(
            self.model,
            self.tokenizer,
            self._clean(audio),
            task_only,
            list(phrases),
            self.settings,
            prefix,
            context_s,
        )

    def prior(self, phrases: Sequence[str], prefix: str = "", context_s: float = 0.0) -> list[float]:
        """Each phrase's score on faint line noise, where nobody says anything: how much the model
        favours it whatever the audio. "Marseille." scores well on any short sound ("C'est." for "Lyon"
        was scored Marseille first); discounting the prior put the right store first on 28 of 32
        development answers instead of 23 (bench/closed_set_bench.py). Computed once per phrase and
        kept for the life of the engine (the phrases of a flow are a few dozen), per phrase and encoder
        `context_s`; those after a `prefix` (a sentence of one call) are not kept."""
        if prefix.strip():
            return self.score(_null_audio(), phrases, prefix, context_s)
        with self._priors_lock:
            missing = [phrase for phrase in dict.fromkeys(phrases) if (phrase, context_s) not in self._priors]
        if missing:
            scores = self.score(_null_audio(), missing, context_s=context_s)
            with self._priors_lock:
                self._priors.update(
                    ((phrase, context_s), score) for phrase, score in zip(missing, scores, strict=True)
                )
        with self._priors_lock:
            return [self._priors[phrase, context_s] for phrase in phrases]

    def full_window_priors(self, phrases: Sequence[str]) -> list[float]:
        """`prior` with the encoder on the full 30 s window: the priors of a short turn's second look
        (`WhisperRecognizer.rescore_short_turn`), warmed at start-up (`SpeechStack.warm_closed_sets`)."""
        return self.prior(phrases, context_s=FULL_WINDOW_S)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    def _decode(self, audio: np.ndarray, prompt: list[int]) -> Transcript:
        with self._count_lock:
            self.decode_count += 1
        return decode(
            self.model, self.tokenizer, self._clean(audio), prompt, self.settings, self.suppress_tokens
        )

    def _clean(self, audio: np.ndarray) -> np.ndarray:
        audio = subtract_line_noise(audio, SAMPLE_RATE) if self.settings.denoise else audio
        level = self.settings.speech_level_dbfs
        return audio if level is None else to_speech_level(audio, SAMPLE_RATE, level)


@dataclass
class _Speculation:
    future: Future[Transcript]
    samples: int  # how much of the turn's buffer it covers
    reported: bool = False


class WhisperRecognizer(Recognizer):
    """One call's turn buffer; decodes on pause (speculatively) and on finish."""

    sample_rate = SAMPLE_RATE

    def __init__(self, engine: WhisperEngine) -> None:
        self.engine = engine
        self._buffer = bytearray()
        self._prompt = engine.prompt_for(())
        self._speculation: _Speculation | None = None
        #: Decodes this recognizer asked for (speculative ones included).
        self.decode_count = 0
        #: The transcript behind the last final hypothesis (no_speech_prob, window, why dropped…).
        self.last_transcript: Transcript | None = None
        self._last_turn = b""  # the audio of the last finished turn, for `score`

    def start_turn(self, hints: Sequence[str] = (), primer: str = "") -> None:
        self._drop_speculation()
        self._buffer.clear()
        self._prompt = self.engine.prompt_for(hints, primer)

    def accept(self, pcm: bytes) -> Hypothesis | None:
        self._buffer += pcm
        spec = self._speculation
        if spec and not spec.reported and spec.future.done() and len(self._buffer) > spec.samples * 2:
            spec.reported = True  # the caller went on speaking: show what was heard up to the pause
            if spec.future.exception() is None and spec.future.result().text:
                return Hypothesis(spec.future.result().text, final=False)
        return None

    def pause(self) -> None:
        samples = len(self._buffer) // 2
        if not samples or (self._speculation and self._speculation.samples == samples):
            return
        self._drop_speculation()
        self._speculation = _Speculation(self._submit(), samples)

    def finish(self) -> Hypothesis:
        spec = self._speculation
        self._speculation = None
        if not self._buffer:
            self._drop(spec)
            return Hypothesis("", final=True)
        if spec is not None and self._only_silence_after(spec.samples):
            transcript = spec.future.result()
        else:
            self._drop(spec)
            transcript = self._submit().result()
        span = _speech_span_ms(bytes(self._buffer)) or (0, round(transcript.duration_s * 1000))
        self._last_turn = bytes(self._buffer)
        self._buffer.clear()
        self.last_transcript = transcript
        return _hypothesis(transcript, span)

    def resume_turn(self) -> bool:
        if not self._last_turn:
            return False
        self._drop_speculation()
        self._buffer = bytearray(self._last_turn)  # the prompt of the turn's start stays
        return True

    def score(self, phrases: Sequence[str], prefix: str = "") -> list[float] | None:
        if not self._last_turn or not phrases:
            return None
        return self.engine.score(_as_float(self._last_turn), phrases, prefix)

    def prior(self, phrases: Sequence[str], prefix: str = "") -> list[float] | None:
        return self.engine.prior(phrases, prefix) if phrases else None

    def rescore_short_turn(self, phrases: Sequence[str]) -> tuple[list[float], list[float]] | None:
        """The phrases' scores and priors with the encoder run on Whisper's full 30 s window, when the
        last turn is short (`SHORT_TURN_S`): its 6 s window reads one short word worse. bench/
        closed_set_bench.py --second-look."""
        short = len(self._last_turn) <= SHORT_TURN_S * SAMPLE_RATE * 2  # PCM16: two bytes a sample
        if not phrases or not self._last_turn or not short:
            return None
        audio = _as_float(self._last_turn)
        return (
            self.engine.score(audio, phrases, context_s=FULL_WINDOW_S),
            self.engine.full_window_priors(phrases),
        )

    def close(self) -> None:
        self._drop_speculation()
        self._buffer.clear()
        self._last_turn = b""

    def _submit(self) -> Future[Transcript]:
        self.decode_count += 1
        return self.engine.submit(_as_float(bytes(self._buffer)), self._prompt)

    def _only_silence_after(self, samples: int) -> bool:
        """No 20 ms frame after the pause is louder than the silence threshold."""
        return _speech_span_ms(bytes(self._buffer[samples * 2 :])) is None

    def _drop_speculation(self) -> None:
        self._drop(self._speculation)
        self._speculation = None

    @staticmethod
    def _drop(spec: _Speculation | None) -> None:
        if spec is not None:
            spec.future.cancel()  # only stops it if it has not started; a running decode just finishes


def _hypothesis(transcript: Transcript, span_ms: tuple[int, int]) -> Hypothesis:
    if not transcript.text:
        return Hypothesis("", final=True)
    confidence = float(np.exp(transcript.avg_logprob)) if np.isfinite(transcript.avg_logprob) else 0.0
    words = _approximate_words(transcript.text, span_ms, confidence)
    return Hypothesis(transcript.text, True, words, confidence, transcript.alternatives)


def _approximate_words(text: str, span_ms: tuple[int, int], confidence: float) -> tuple[Word, ...]:
    """Word times spread over the speech span by word length: Whisper's own word timestamps cost a second
    alignment pass, and nothing in a call flow needs more than "which word came roughly when"."""
    words = text.split()
    start, end = span_ms
    total = sum(len(w) + 1 for w in words)
    out, position = [], start
    for word in words:
        length = (end - start) * (len(word) + 1) // max(total, 1)
        out.append(Word(word, position, position + length, confidence))
        position += length
    return tuple(out)


def _speech_span_ms(pcm: bytes) -> tuple[int, int] | None:
    """First and last 20 ms frame louder than the silence threshold, in ms from the turn's start."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32)
    frames = len(samples) // _FRAME_SAMPLES
    if not frames:
        return None
    rms = np.sqrt(np.mean(samples[: frames * _FRAME_SAMPLES].reshape(frames, -1) ** 2, axis=1))
    loud = np.nonzero(20 * np.log10(np.maximum(rms, 1e-9) / 32768) >= SILENCE_DBFS)[0]
    if not len(loud):
        return None
    return int(loud[0]) * 20, (int(loud[-1]) + 1) * 20


def _as_float(pcm_or_audio: bytes | np.ndarray) -> np.ndarray:
    if isinstance(pcm_or_audio, np.ndarray):
        return pcm_or_audio.astype(np.float32, copy=False)
    return np.frombuffer(pcm_or_audio, dtype="<i2").astype(np.float32) / 32768.0


#: The audio a phrase's prior is scored on: 1.5 s of noise at about -50 dBFS, a quiet phone line.
_NULL_AUDIO_S = 1.5
_NULL_AUDIO_RMS = 10 ** (-50 / 20)


def _null_audio() -> np.ndarray:
    samples = int(_NULL_AUDIO_S * SAMPLE_RATE)
    return np.random.default_rng(0).normal(0, _NULL_AUDIO_RMS, samples).astype(np.float32)


def _warm_up_audio() -> np.ndarray:
    """One second of faint noise: enough to run the encoder and a few decoder steps once."""
    return np.random.default_rng(0).normal(0, 0.003, SAMPLE_RATE).astype(np.float32)
