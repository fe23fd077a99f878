"""One Whisper decode of one short utterance, sized to the utterance rather than to 30 seconds.

faster-whisper always pads the log-mel to 30 s (its `chunk_length` option changes the feature extractor,
not that padding), so the encoder — most of the cost on a CPU — works on 30 s for a 2 s "oui". The
CTranslate2 encoder accepts shorter inputs, and Whisper stays accurate as long as a few seconds of silence
follow the speech (with under ~2 s of padding it starts looping). So an utterance is padded to
`max(min_window_s, duration + pad_s)` (6 s and 3 s by default): a 10 s window costs about a sixth of
the encoder work of 30 s (0.10 s instead of 0.68 s on 2 idle cores here). On 263 human telephone prompts
the word error rate was the same with 6, 8 or 10 s windows (21.9, 21.8, 21.7 %), and on 150 of them
lower with 10 s than with faster-whisper's 30 s (20.4 against 21.8 %) — see bench/asr_wer.py.
Utterances too long for that go through faster-whisper's own 30 s windows.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from callbot.asr.cleanup import clean_transcript

if TYPE_CHECKING:
    from faster_whisper import WhisperModel
    from faster_whisper.tokenizer import Tokenizer

SAMPLE_RATE = 16000
_HOP = 160  # samples per log-mel frame (10 ms)
_MAX_WINDOW_S = 30.0
_MAX_PROMPT_TOKENS = 223  # half of Whisper's 448-token context, as Whisper itself allows
_TOKENS_PER_SECOND_CAP = 12  # generous for French speech (~4-6 tokens/s): stops runaway loops early

DEFAULT_DOMAIN_PROMPT = (
    "Appel au service client. Bonjour, je voudrais un rendez-vous, connaître vos horaires, "
    "suivre ma commande, parler à un conseiller. Oui, non, merci, au revoir."
)


@dataclass(frozen=True)
class WhisperSettings:
    """How the engine decodes. Defaults are the fastest settings that kept transcripts right here."""

    language: str = "fr"
    #: Beam 5 against 1: word errors 34.1 against 39.4 % on unseen 8 kHz callers, 22.7 against 25.1 % on
    #: human telephone prompts (facts.md), and more first turns understood (bench/task_success.py).
    beam_size: int = 5
    compute_type: str = "int8"
    #: Threads for one decode; with several concurrent calls prefer cpu_threads=1 and num_workers=calls.
    cpu_threads: int = 2
    num_workers: int = 1
    min_window_s: float = 6.0
    pad_s: float = 3.0
    #: A decode is silence when Whisper finds no speech likely and its text is not sure: no_speech_prob
    #: alone dropped "4, 5, 8, 1, 3, 0" (no speech 0.66, mean token log-probability -0.19), digits
    #: said one by one with pauses. Whisper's own rule keeps text down to -1.0, but on line noise its
    #: "Merci beaucoup." / "Bonjour, bonjour." score -0.93 to -1.35 here: only sure text is kept.
    #: Past this no_speech_prob a decode is silence however sure its text: a confident "Oui." on line
    #: noise must never confirm a call-back.
    no_speech_threshold: float = 0.6
    log_prob_threshold: float = -0.5
    sure_text_max_no_speech: float = 0.9
    domain_prompt: str = DEFAULT_DOMAIN_PROMPT
    #: Put the dialog state's phrase hints in Whisper's prompt. Off by default: at beam 1 they made
    #: Whisper insert hint phrases the caller never said and loop (WER 39.4 → 49.1 % on unseen callers);
    #: hints then only rank the N-best (`num_hypotheses`) by what the state expects.
    hints_in_prompt: bool = False
    #: Hypotheses returned per decode (beam search keeps at least this many): the dialog picks the
    #: first one it understands in its current state. The gateway's settings ask for 3 (`asr:`).
    num_hypotheses: int = 1
    #: Subtract the line's steady noise (estimated on the turn's pre-roll) before decoding and scoring.
    denoise: bool = True
    #: Bring a quiet caller's turn up to this level (dBFS of its loud frames) after denoising, before
    #: decoding and scoring (`callbot.asr.level`); None leaves the level as it came.
    speech_level_dbfs: float | None = -18.0
    warm_up: bool = True

    def cache_key(self) -> tuple[str, int, int]:
        """Settings that change the loaded model (the rest only change how it is called)."""
        return (self.compute_type, self.cpu_threads, self.num_workers)


@dataclass(frozen=True)
class Transcript:
    text: str
    duration_s: float
    no_speech_prob: float
    avg_logprob: float
    window_s: float
    #: Why the text was dropped (empty), if it was.
    dropped: str = ""
    segments: tuple[str, ...] = field(default=())
    #: The other hypotheses of the beam, best first (cleaned like `text`; without `text` itself).
    alternatives: tuple[str, ...] = field(default=())
    #: What `clean_transcript` removed from the raw decode (loops, repeated clauses, prompt leaks).
    removed: tuple[str, ...] = field(default=())


def window_seconds(duration_s: float, settings: WhisperSettings) -> float | None:
    """Encoder window for an utterance, or None when it needs faster-whisper's 30 s windows."""
    window = max(settings.min_window_s, math.ceil(duration_s + settings.pad_s))
    return None if window > _MAX_WINDOW_S else float(window)


#: A number said digit by digit or in groups ("4, 5, 8, 10, 2, 9.", "458 129"), never what Whisper writes
#: for line noise ("Merci beaucoup.", "Bonjour, bonjour."); not a time ("À 10h30.": the call-back
#: question primes times, and one invented on noise must stay dropped).
_DIGIT_RUN = re.compile(r"\d(?:[\d\s,.\-]*\d)?")
_NUMBER_DIGITS = 3
#: A time written without its "h" ("À 10.30.", "À 14 00."): no number said. Not "4 58" or "45 81",
#: the first groups of an order number.
_CLOCK = re.compile(r"(?:[01]?\d|2[0-3])[\s.](?:00|15|30|45)")
#: Whisper's own floor (faster-whisper's `log_prob_threshold`), kept for digits said one by one.
_WHISPER_LOG_PROB_FLOOR = -1.0


def is_silence(no_speech_prob: float, avg_logprob: float, settings: WhisperSettings, text: str = "") -> bool:
    """Whether a decode is of no speech: what faster-whisper and OpenAI's transcribe() skip. Digits
    said one by one keep Whisper's own floor: "quatre, cinq, huit, un, deux, neuf" on a noisy line
    came back "4, 5, 8, 10, 2, 9." at no speech 0.66 and -0.51, dropped by the sure-text floor, and
    the caller asked for the number once more had to say it a third time."""
    if no_speech_prob <= settings.no_speech_threshold:
        return False
    if no_speech_prob > settings.sure_text_max_no_speech:
        return True
    said_a_number = any(
        sum(ch.isdigit() for ch in run) >= _NUMBER_DIGITS and not _CLOCK.fullmatch(run)
        for run in _DIGIT_RUN.findall(text)
    )
    floor = _WHISPER_LOG_PROB_FLOOR if said_a_number else settings.log_prob_threshold
    return avg_logprob < floor


def prompt_text(settings: WhisperSettings, hints: tuple[str, ...], primer: str = "") -> str:
    """The text primed into Whisper's "previous text" slot: the domain prompt, the state's hints when
    `hints_in_prompt`, then the question's `primer` (an answer of the kind expected), nearest the
    caller's words."""
    hinted = ", ".join(hints) + "." if hints and settings.hints_in_prompt else ""
    return " ".join(filter(None, [settings.domain_prompt.strip(), hinted, primer.strip()]))


def task_prompt(tokenizer: Tokenizer) -> list[int]:
    """The task alone (French, transcribe, no timestamps), with no previous text."""
    return [*tokenizer.sot_sequence, tokenizer.no_timestamps]


def build_prompt(
    tokenizer: Tokenizer, settings: WhisperSettings, hints: tuple[str, ...], primer: str = ""
) -> list[int]:
    """Whisper's "previous text" slot holds the prompt text (`prompt_text`), then the task."""
    text = prompt_text(settings, hints, primer)
    prompt: list[int] = []
    if text:
        prompt = [tokenizer.sot_prev, *tokenizer.encode(" " + text)[-_MAX_PROMPT_TOKENS:]]
    return [*prompt, *task_prompt(tokenizer)]


def score_phrases(
    model: WhisperModel,
    tokenizer: Tokenizer,
    audio: np.ndarray,
    prompt: list[int],
    phrases: list[str],
    settings: WhisperSettings,
    prefix: str = "",
    context_s: float = 0.0,
) -> list[float]:
    """Teacher-forced mean log-probability per token of each phrase under the audio (one encoder pass,
    one batched `align`): closed-set scoring, which finds a city name in "Celui de Lyon" where free
    decoding heard "C'est lui, c'est lié" (facts.md). With a `prefix`, each phrase is forced right
    after the prefix's words ("Je voudrais l'adresse du magasin" + " de Lille") and only the phrase's
    own tokens are averaged. With `context_s` the encoder runs on that much audio (`_encode`)."""
    import ctranslate2

    window = window_seconds(len(audio) / SAMPLE_RATE, settings) or _MAX_WINDOW_S
    encoded, frames = _encode(model, audio, window, context_s)
    repeated = np.repeat(np.array(encoded), len(phrases), axis=0)
    batch = ctranslate2.StorageView.from_array(np.ascontiguousarray(repeated))
    before = tokenizer.encode(" " + prefix.strip()) if prefix.strip() else []
    tokens = [[*before, *tokenizer.encode(" " + phrase.strip())] for phrase in phrases]
    results = model.model.align(batch, prompt, tokens, [frames] * len(phrases))
    return [
        float(np.mean(np.log(np.maximum(np.asarray(result.text_token_probs[len(before) :]), 1e-9))))
        for result in results
    ]


def _encode(model: WhisperModel, audio: np.ndarray, window: float, context: float = 0.0) -> tuple[Any, int]:
    """The encoder's output for the first `window` seconds of `audio` padded with silence, and the
    number of mel frames in the window. With a longer `context` (at most 30 s) the encoder runs on that
    much, and only the window's share of its output is kept: the decoder's cost stays the window's.
    Whisper learnt on 30 s windows: run on 6 s, its encoder reads a turn of one short word worse
    ("C'est." for "Lyon", where "Lyon" led once the encoder saw 30 s)."""
    import ctranslate2
    from faster_whisper.transcribe import get_ctranslate2_storage

    frames = int(window * SAMPLE_RATE) // _HOP
    seen = max(frames, int(min(context, _MAX_WINDOW_S) * SAMPLE_RATE) // _HOP)
    padded = np.zeros(seen * _HOP, dtype=np.float32)
    padded[: len(audio)] = audio[: len(padded)]
    features = model.feature_extractor(padded)[:, :seen]
    encoded = model.model.encode(get_ctranslate2_storage(np.ascontiguousarray(features[None])))
    if seen == frames:
        return encoded, frames
    kept = np.asarray(encoded)[:, : frames // 2]  # one encoder position per two mel frames
    return ctranslate2.StorageView.from_array(np.ascontiguousarray(kept)), frames


def decode(
    model: WhisperModel,
    tokenizer: Tokenizer,
    audio: np.ndarray,
    prompt: list[int],
    settings: WhisperSettings,
    suppress: list[int],
) -> Transcript:
    """Transcribe float32 16 kHz mono audio with a loaded faster-whisper `WhisperModel`."""
    duration = len(audio) / SAMPLE_RATE
    window = window_seconds(duration, settings)
    if window is None:
        return _decode_long(model, audio, prompt, settings, tokenizer)
    encoded, _frames = _encode(model, audio, window)
    max_new = int(duration * _TOKENS_PER_SECOND_CAP) + 16
    hypotheses = max(1, settings.num_hypotheses)
    result = model.model.generate(
        encoded,
        [prompt],
        beam_size=max(settings.beam_size, hypotheses),
        num_hypotheses=hypotheses,
        no_repeat_ngram_size=3,
        max_length=min(448, len(prompt) + max_new),
        return_scores=True,
        return_no_speech_prob=True,
        suppress_blank=True,
        suppress_tokens=suppress,
    )[0]
    tokens = result.sequences_ids[0]
    avg_logprob = result.scores[0] * len(tokens) / (len(tokens) + 1) if tokens else -math.inf
    raw = tokenizer.decode(tokens).strip()
    if is_silence(result.no_speech_prob, avg_logprob, settings, raw):
        return Transcript(
            "",
            duration,
            result.no_speech_prob,
            avg_logprob,
            window,
            dropped=f"no_speech_prob {result.no_speech_prob:.2f}, log-prob {avg_logprob:.2f}: {raw!r}",
        )
    primed = tokenizer.decode([token for token in prompt if token < tokenizer.eot])
    cleaned = clean_transcript(raw, primed)
    others: dict[str, None] = {}
    for sequence in result.sequences_ids[1:]:
        other = clean_transcript(tokenizer.decode(sequence).strip(), primed).text
        if other and other != cleaned.text:
            others.setdefault(other, None)
    return Transcript(
        cleaned.text,
        duration,
        result.no_speech_prob,
        avg_logprob,
        window,
        segments=(raw,),
        alternatives=tuple(others),
        removed=cleaned.removed,
    )


def _decode_long(
    model: WhisperModel,
    audio: np.ndarray,
    prompt: list[int],
    settings: WhisperSettings,
    tokenizer: Tokenizer,
) -> Transcript:
    """Past ~26 s (rare for one caller turn): faster-whisper's own 30 s windows, same options."""
    previous = prompt[1 : prompt.index(tokenizer.sot)] if prompt[0] == tokenizer.sot_prev else []
    segments, _ = model.transcribe(
        audio,
        language=settings.language,
        beam_size=settings.beam_size,
        temperature=0.0,
        no_repeat_ngram_size=3,
        without_timestamps=True,
        condition_on_previous_text=False,
        initial_prompt=tokenizer.decode(previous).strip() or None,
        no_speech_threshold=settings.no_speech_threshold,
        log_prob_threshold=settings.log_prob_threshold,
        vad_filter=False,
    )
    kept = [s for s in segments if not is_silence(s.no_speech_prob, s.avg_logprob, settings, s.text)]
    raw = " ".join(s.text.strip() for s in kept).strip()
    # The same cleaning as a short turn's: 30 s windows loop and copy the prompt just as well.
    cleaned = clean_transcript(raw, tokenizer.decode(previous).strip())
    no_speech = min((s.no_speech_prob for s in kept), default=1.0)
    logprob = sum(s.avg_logprob for s in kept) / len(kept) if kept else -math.inf
    duration = len(audio) / SAMPLE_RATE
    return Transcript(
        cleaned.text,
        duration,
        no_speech,
        logprob,
        _MAX_WINDOW_S,
        segments=tuple(s.text for s in kept),
        removed=cleaned.removed,
    )
