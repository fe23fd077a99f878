"""CallSession: one conversation, transport-agnostic, driven by 20 ms frames.

The same object serves a live SIP call, a replayed recording and a test. The channel hands it one inbound
frame per 20 ms tick and gets back the bot's 20 ms of outbound audio for the same tick, so the bot's
voice and the caller's voice share one audio clock (the echo guard needs that, and it makes replay exact).

Heavy work (final recognition, dialog, synthesis of dynamic prompts) runs inside `tick` when a turn ends.
Its wall time is converted to audio-clock time: the bot's answer starts at the audio-clock time it would
have started on a live call (see docs/architecture.md, "Time comes from the audio"). A speculative decode
started when the caller paused counts from the pause, as it would live.
"""

from __future__ import annotations

import contextlib
import math
import time
import traceback
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from callbot.asr.base import Hypothesis, Recognizer
from callbot.audio.frame import FRAME_MS, AudioFrame, silence
from callbot.audio.resample import FrameResampler
from callbot.callbacks.models import CallbackRefused
from callbot.dialog.actions import (
    Action,
    CallContext,
    Hangup,
    Listen,
    Say,
    ScheduleCallback,
    Transfer,
    TurnResult,
)
from callbot.dialog.flow import CallbackRefusalPrompts, CallPrompts
from callbot.dialog.nlu import parse_yes_no, wants_human
from callbot.dialog.turns import RequestEndings, TimeInTheRequest
from callbot.session.channel import Channel, RecordingChannel
from callbot.session.closed_set import ClosedSetPick, ending_taken, order_taken, pick, time_heard
from callbot.session.events import EventLog
from callbot.tts.cache import PromptCache
from callbot.vad import (
    Endpointer,
    SpeechAudio,
    SpeechEnded,
    SpeechPaused,
    SpeechResumed,
    SpeechStarted,
    VadEvent,
)

#: Said when something inside the session breaks: the caller is never left in silence. The flow's
#: `prompts.technical_fault` rewords it; this is its default.
APOLOGY = CallPrompts().technical_fault
#: French law expects callers to be told before a call is recorded (`prompts.recording_notice`).
RECORDING_NOTICE = CallPrompts().recording_notice
DIGIT_TIMEOUT_MS = 3000
#: After a key that alone answers the question (`Listen.answer_keys`: "tapez 1" to a guess asked back),
#: the wait for more keys: a caller typing a number presses the next key well within it, a caller who
#: answered "1" is not kept waiting the full `DIGIT_TIMEOUT_MS`.
ANSWER_KEY_WAIT_MS = 1200
#: A first reading this short that changes the subject while a closed set is asked ("L'appel." for
#: "Marseille") is read as not understood: a sure closed-set answer is taken, a leading one asked back
#: (`_answer_more_likely`).
_SHORT_ANSWER_WORDS = 2
#: A turn whose words stop halfway through a number ("… la commande 4, 7, 1, 9, 4." with "deux" still to
#: come) waits this much more silence before the bot answers: speech within it goes on with the same turn.
NUMBER_HOLD_MS = 900
#: A turn is held this many times at most (a number read out in several groups).
_MAX_HOLDS = 3
#: The event that logs a scored ending, by where its names come from.
_ENDING_EVENTS = {
    "stores": "asr_store_ending",
    "products": "asr_product_in_request",
    "days": "asr_day_in_request",
}


def _described(found: ClosedSetPick) -> dict[str, Any]:
    """A closed-set pick as the event log shows it; its lead is None when nothing else was in the
    running (JSON has no infinity)."""
    margin = round(found.margin, 2) if math.isfinite(found.margin) else None
    return {"reading": found.reading, "score": round(found.score, 2), "margin": margin}


@dataclass
class TurnRecord:
    """One caller turn as QA sees it (the `turns` of `callbot replay --json`)."""

    start_ms: int
    end_ms: int
    transcript: str
    intent: str | None = None
    confidence: float = 0.0
    slots: dict[str, Any] = field(default_factory=dict)
    bot: str = ""
    response_ms: int | None = None
    dtmf: str | None = None


@dataclass
class Outcome:
    """How the call ended: transfer, callback, hangup (by the bot), caller_hangup, worker_lost (the SIP
    worker carrying it died), or error."""

    type: str
    queue: str | None = None
    callback_at: datetime | None = None
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        if self.queue is not None:
            out["queue"] = self.queue
        if self.callback_at is not None:
            out["callback_at"] = self.callback_at.isoformat()
        if self.reason is not None:
            out["reason"] = self.reason
        return out


class Dialog(Protocol):
    """What a session needs from its dialog: `Conversation` (a caller's call) or `CallbackCallDialog`
    (the bot calls a caller back). Each call returns the `TurnResult` to carry out."""

    @property
    def state(self) -> str: ...

    @property
    def hints(self) -> tuple[str, ...]: ...

    @property
    def primer(self) -> str:
        """An answer of the kind the current question expects, for the recogniser's prompt ("" = none)."""
        ...

    @property
    def heard_someone(self) -> bool:
        """Whether a person answered (speech or keys) at some point of the call."""
        ...

    def start(self) -> TurnResult: ...

    def hear(self, text: str) -> TurnResult: ...

    def hear_unsure(self, heard: str, reading: str) -> TurnResult:
        """`heard` was not understood; the closed set leans to `reading` without certainty: ask it back."""
        ...

    def understands(self, text: str, strict: bool = True) -> bool:
        """Whether `text` would be understood now (no state change): picks among N-best readings. Not
        `strict`: also what the dialog would act on only when no reading does better."""
        ...

    def changes_subject(self, text: str) -> bool:
        """Whether `text`, while a value is asked, is understood only as another request."""
        ...

    def time_in_the_request(self, text: str) -> TimeInTheRequest | None:
        """For a call-back request that names no day (or a day and no hour), with a few unknown words
        after its verb: the words up to the verb (or the day heard), the words heard, and the days and
        hours a caller may have said there."""
        ...

    def stops_inside_a_number(self, text: str) -> bool:
        """Whether `text` ends halfway through a number the dialog collects (the rest may follow a pause)."""
        ...

    def store_in_the_request(self, text: str) -> RequestEndings | None:
        """For a request that takes a store and names none, with a few unknown words after its last
        "de" or after "magasin de": the words before, the store as heard, and the stores to score there."""
        ...

    def product_in_the_request(self, text: str) -> RequestEndings | None:
        """For a request that takes a product and names none, where an article starts a few unknown
        words: the words before, the product as heard, and each product said there."""
        ...

    def day_in_the_request(self, text: str) -> RequestEndings | None:
        """For an opening-hours question that names no day, ending on one or two unknown words after
        its hours word: the words before, the day as heard, and the days to score there."""
        ...

    def order_in_the_turn(self, text: str) -> RequestEndings | None:
        """For an order number heard that no order has: the words before it, the number as heard, and
        the known orders a digit or two away, written as said."""
        ...

    @property
    def choices(self) -> Mapping[str, str]:
        """Phrases of the closed set of answers expected now → the reading each stands for (or empty)."""
        ...

    @property
    def guess_asked_back(self) -> bool:
        """Whether a guess asked back awaits a yes or a no."""
        ...

    @property
    def choice_asked_back(self) -> bool:
        """Whether a closed-set answer that only leads is asked back (else only a clear lead is taken)."""
        ...

    def dtmf(self, digits: str) -> TurnResult: ...

    def prompt_cut(self, text: str, played_ms: int, total_ms: int) -> None:
        """The caller heard only `played_ms` of this prompt (0: none of it): fix the transcript."""
        ...

    def no_input(self) -> TurnResult: ...

    def transfer_failed(self, queue: str, status: int | None = None) -> TurnResult: ...

    def context(self) -> CallContext: ...


class AudioClock:
    """The call's time: its start (a wall-clock datetime) plus the audio played so far.

    The dialog resolves "demain à quinze heures" against `now()`; in replay, `origin` is `--now`.
    """

    def __init__(self, origin: datetime) -> None:
        self.origin = origin
        self.ms = 0

    def now(self) -> datetime:
        return self.origin + timedelta(milliseconds=self.ms)


@dataclass
class _HeldTurn:
    """A finished turn that stopped inside a number: the bot answers it at `until_ms` unless the caller
    goes on first."""

    hypothesis: Hypothesis
    speech_start_ms: int
    speech_end_ms: int
    until_ms: int
    #: Where its decode started, on the audio clock and the wall clock (the answer's latency counts
    #: from there, as for any turn).
    decode_audio_ms: int
    decode_wall_s: float
    #: Its audio on the audio clock: from `turn_start_ms` to `audio_end_ms` (the end of the turn).
    turn_start_ms: int = 0
    audio_end_ms: int = 0
    #: The pause left out when the turn goes on (its new speech is read from its pre-roll).
    gap_ms: int = 0
    #: The recogniser could not take the turn up again: its text goes before the words that follow.
    joined: bool = False


@dataclass
class _Speculation:
    """A decode started when the caller paused: its audio-clock and wall-clock start."""

    audio_ms: int
    wall_s: float


class CallSession:
    """One call's conversation: VAD → ASR → dialog → TTS, on the audio clock."""

    def __init__(
        self,
        *,
        conversation: Dialog,
        clock: AudioClock,
        recognizer: Recognizer,
        prompts: PromptCache,
        endpointer: Endpointer,
        log: EventLog,
        channel: Channel | None = None,
        sample_rate: int = 8000,
        fallback_queue: str = "service_client",
        announce_recording: bool = False,
        recording_notice: str = RECORDING_NOTICE,
        apology: str = APOLOGY,
        callback_refusals: CallbackRefusalPrompts | None = None,
        wall_clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.conversation = conversation
        self.recognizer = recognizer
        self.prompts = prompts
        self.callback_refusals = callback_refusals or CallbackRefusalPrompts()
        self.endpointer = endpointer
        self.log = log
        self.channel: Channel = channel if channel is not None else RecordingChannel()
        self.sample_rate = sample_rate
        self.fallback_queue = fallback_queue
        self.announce_recording = announce_recording
        self.recording_notice = recording_notice
        self.apology = apology
        self._wall = wall_clock
        self._to_asr = FrameResampler(sample_rate, recognizer.sample_rate)
        self._default_end_silence_ms = endpointer.config.end_silence_ms

        self.clock = clock
        self.turns: list[TurnRecord] = []
        self.outcome: Outcome | None = None
        self._callback_refused = False
        self.ended = False
        self._closed = False

        # 20 ms frames of bot audio, in order, each with whether the caller may talk over it (a legal
        # notice may not be cut, the question after it may).
        self._outbound: deque[tuple[bytes, bool, int]] = deque()  # (frame, interruptible, prompt id)
        self._prompts: dict[int, tuple[str, int]] = {}  # prompt id -> (text, frames)
        self._next_prompt_id = 0
        self._audio_ready_ms = 0  # the bot's queued audio may not start before this audio-clock time
        self._after_audio: list[Action] = []  # carried out once the queued audio has been played
        self._listen: Listen | None = None  # the active wait for the caller, if any
        self._no_input_deadline: int | None = None
        self._in_turn = False
        self._turn_start_ms = 0
        self._speculation: _Speculation | None = None
        self._digits = ""
        self._digit_deadline: int | None = None
        self._first_audio_pending: TurnRecord | None = None
        self._held: _HeldTurn | None = None  # a turn that stopped inside a number, not answered yet
        self._going_on: _HeldTurn | None = None  # a held turn the caller went on with, until it ends
        self._holds = 0  # times the current turn was held

    # ------------------------------------------------------------------ the channel's side
    def start(self) -> None:
        """Play the greeting: call once, when the call is answered."""
        self.log.emit(0, "session_start", recognizer=type(self.recognizer).__name__, rate=self.sample_rate)
        started = self._wall()
        if self.announce_recording:
            self._guarded(lambda: self._queue_speech(self.recording_notice, barge_in=False))
        self._guarded(lambda: self._carry_out(self.conversation.start(), started_wall=started))

    def tick(self, frame: AudioFrame) -> bytes:
        """Take 20 ms of caller audio; return the bot's 20 ms for the same moment (silence if none)."""
        if frame.sample_rate != self.sample_rate:
            raise ValueError(f"session runs at {self.sample_rate} Hz, frame is {frame.sample_rate} Hz")
        self.now_ms = frame.start_ms
        outbound = self._next_outbound(frame)
        if not self.ended:
            bot_audio = outbound if self._bot_speaking_at(frame.start_ms) else None
            events = self.endpointer.process(frame, bot_audio=bot_audio)
            self.now_ms = frame.end_ms
            self._guarded(lambda: self._on_vad(events))
            self._guarded(self._check_timers)
        else:
            self.now_ms = frame.end_ms
        if not self._outbound and self._after_audio and self.now_ms >= self._audio_ready_ms:
            self._guarded(self._audio_finished)
        return outbound

    def dtmf(self, digit: str) -> None:
        """A key pressed by the caller (RFC 4733 or SIP INFO)."""
        if self.ended or digit not in "0123456789*#":
            return
        self.log.emit(self.now_ms, "dtmf", digit=digit)
        if self._outbound and self._barge_in_allowed:
            self._stop_audio("dtmf")
        if self._held is not None:
            # The caller went on by keys: the words are answered first, and the keys answer what the bot
            # asks then (the answer plays on until the next key).
            self._guarded(self._answer_held_turn)
        self._digits += digit
        listen = self._expected_listen()
        if digit == "#" or len(self._digits) >= (listen.max_digits if listen else 1):
            self._guarded(self._deliver_digits)
        elif listen is not None and len(self._digits) == 1 and digit in listen.answer_keys:
            self._digit_deadline = self.now_ms + ANSWER_KEY_WAIT_MS  # "1" to "…, c'est bien ça ?"
        else:
            self._digit_deadline = self.now_ms + DIGIT_TIMEOUT_MS

    def _expected_listen(self) -> Listen | None:
        """The wait the keys answer: the active one, or — keys pressed over the prompt that leads to it —
        the wait queued after that prompt ("114" typed over "Quand souhaitez-vous…")."""
        if self._listen is not None:
            return self._listen
        pending = [action for action in self._after_audio if isinstance(action, Listen)]
        return pending[-1] if pending else None

    def hangup(self, cause: str = "caller_hangup") -> None:
        """The call is over on the line: the caller hung up (or the BYE after a transfer), or, with
        `cause="worker_lost"`, the process carrying the call died and the line is gone with it (the
        records must not say the caller hung up)."""
        if not self.ended:
            self.ended = True
            held, self._held = self._held, None
            if held is not None:  # the caller's last words, unanswered, stay in the call's record
                self.turns.append(TurnRecord(held.speech_start_ms, held.speech_end_ms, held.hypothesis.text))
            if self.outcome is None:
                self.outcome = Outcome(cause)
            self.log.emit(self.now_ms, cause)
            self._finish()
        self.close()

    def transfer_failed(self, status: int | None = None, reason: str = "") -> bool:
        """The channel could not hand the call over (REFER refused, no answer): the flow decides next.
        False when no transfer was in progress (nothing to take over)."""
        if self.outcome is None or self.outcome.type != "transfer":
            return False
        queue = self.outcome.queue or self.fallback_queue
        self.log.emit(self.now_ms, "transfer_failed", queue=queue, status=status, reason=reason)
        self.ended = False
        self.outcome = None
        started = self._wall()
        self._guarded(lambda: self._carry_out(self.conversation.transfer_failed(queue, status), started))
        return True

    @property
    def waiting_for_input(self) -> bool:
        """The bot has said its piece and waits for the caller (replay releases the next turn now)."""
        return (
            not self.ended
            and self._listen is not None
            and not self._outbound
            and not self._in_turn
            and self._held is None
            and self.now_ms >= self._audio_ready_ms
        )

    @property
    def _barge_in_allowed(self) -> bool:
        """Whether the caller may interrupt what the bot is saying now (the frame playing next)."""
        return not self._outbound or self._outbound[0][1]

    @property
    def bot_speaking(self) -> bool:
        return bool(self._outbound)

    @property
    def now_ms(self) -> int:
        return self.clock.ms

    @now_ms.setter
    def now_ms(self, value: int) -> None:
        self.clock.ms = value

    # ------------------------------------------------------------------ outbound audio
    def _next_outbound(self, frame: AudioFrame) -> bytes:
        if self._outbound and frame.start_ms >= self._audio_ready_ms:
            chunk, _interruptible, prompt = self._outbound.popleft()
            if not self._outbound or self._outbound[0][2] != prompt:
                self._prompts.pop(prompt, None)  # played to the end
            if self._first_audio_pending is not None:
                record = self._first_audio_pending
                record.response_ms = frame.start_ms - record.end_ms
                self._first_audio_pending = None
                self.log.emit(frame.start_ms, "bot_audio_start", response_ms=record.response_ms)
            return chunk
        return silence(self.sample_rate, FRAME_MS)

    def _bot_speaking_at(self, t_ms: int) -> bool:
        return bool(self._outbound) and t_ms >= self._audio_ready_ms

    def _queue_speech(self, text: str, barge_in: bool) -> None:
        synth_started = self._wall()
        pcm = self.prompts.get(text)
        synth_ms = int((self._wall() - synth_started) * 1000)
        size = self.sample_rate * FRAME_MS // 1000 * 2
        prompt = self._next_prompt_id
        self._next_prompt_id += 1
        self._prompts[prompt] = (text, -(-len(pcm) // size))
        for offset in range(0, len(pcm), size):
            chunk = pcm[offset : offset + size]
            self._outbound.append((chunk + bytes(size - len(chunk)), barge_in, prompt))
        self.log.emit(
            self.now_ms,
            "prompt",
            text=text,
            duration_ms=len(pcm) * 500 // self.sample_rate,
            synth_ms=synth_ms,
        )

    def _stop_audio(self, why: str) -> None:
        self.log.emit(self.now_ms, "barge_in", by=why, dropped_ms=len(self._outbound) * FRAME_MS)
        left: dict[int, int] = {}
        for _chunk, _interruptible, prompt in self._outbound:
            left[prompt] = left.get(prompt, 0) + 1
        self._outbound.clear()
        for prompt, frames_left in left.items():
            # What the caller heard, for the transcript agents read: cut short, or not at all.
            text, frames = self._prompts.pop(prompt)
            played_ms, total_ms = (frames - frames_left) * FRAME_MS, frames * FRAME_MS
            self.log.emit(self.now_ms, "prompt_cut", text=text, played_ms=played_ms, total_ms=total_ms)
            self.conversation.prompt_cut(text, played_ms, total_ms)
        self._audio_ready_ms = min(self._audio_ready_ms, self.now_ms)
        # A pending Listen stays: the caller's interruption *is* the answer it waited for.

    # ------------------------------------------------------------------ caller speech
    def _on_vad(self, events: Sequence[VadEvent]) -> None:
        for event in events:
            if isinstance(event, SpeechStarted):
                self._on_speech_started(event)
            elif not self._in_turn:
                continue
            elif isinstance(event, SpeechAudio):
                self._accept(event.frame)
            elif isinstance(event, SpeechPaused):
                self.recognizer.pause()
                self._speculation = _Speculation(event.at_ms, self._wall())
                self.log.emit(event.at_ms, "speech_paused", speech_end_ms=event.speech_end_ms)
            elif isinstance(event, SpeechResumed):
                self._speculation = None
                self.log.emit(event.at_ms, "speech_resumed")
            elif isinstance(event, SpeechEnded):
                self._on_speech_ended(event)

    def _on_speech_started(self, event: SpeechStarted) -> None:
        if self.ended or self._in_turn:
            return
        if self._held is not None:
            self._go_on_with_held_turn(event)
            return
        if self._outbound:
            # The bot has audio queued: the caller talks over it, or in a pause between its sentences.
            if not self._barge_in_allowed:
                self.endpointer.reset()  # not a turn; listen afresh, so speech that goes on is caught later
                return
            self._stop_audio("speech")
        elif self._listen is None:
            return  # nothing is expected from the caller now (e.g. the call is being transferred)
        self._in_turn = True
        self._turn_start_ms = event.preroll[0].start_ms if event.preroll else event.at_ms
        self._no_input_deadline = None
        self._speculation = None
        self._holds = 0
        self._going_on = None
        self.recognizer.start_turn(self._hints(), self._primer())
        self.log.emit(event.at_ms, "speech_start", barge_in=event.barge_in)
        for frame in event.preroll:
            self._accept(frame)

    def _go_on_with_held_turn(self, event: SpeechStarted) -> None:
        """The caller speaks again within a held turn's wait: the same turn goes on. The recogniser
        reads its audio again with what follows (from the new speech's pre-roll: with the whole pause
        in it, Whisper read "4, 7, 9, 4, 2" where it read "4, 7 1 9 4 2" without; the words after the
        pause are moved later by the pause left out, on the audio clock); one that cannot has its text
        put before the new one."""
        held, self._held = self._held, None
        assert held is not None
        if self._outbound and self._barge_in_allowed:
            self._stop_audio("speech")
        self._in_turn = True
        self._no_input_deadline = None
        self._speculation = None
        first_ms = event.preroll[0].start_ms if event.preroll else event.at_ms
        if self.recognizer.resume_turn():
            held.gap_ms = max(0, first_ms - held.audio_end_ms)
        else:
            held.joined = True
            self._turn_start_ms = first_ms
            self.recognizer.start_turn(self._hints(), self._primer())
        self._going_on = held
        self.log.emit(event.at_ms, "speech_continued", pause_ms=event.at_ms - held.speech_end_ms)
        for frame in event.preroll:
            self._accept(frame)

    def _accept(self, frame: AudioFrame) -> None:
        partial = self.recognizer.accept(self._to_asr.process(frame.pcm))
        if partial is not None and partial.text:
            self.log.emit(frame.end_ms, "asr_partial", text=partial.text)

    def _on_speech_ended(self, event: SpeechEnded) -> None:
        started = self._wall()
        hypothesis = self.recognizer.finish()
        asr_ms = int((self._wall() - started) * 1000)  # the latency split QA reports (docs/qa.md)
        self._in_turn = False
        going_on, self._going_on = self._going_on, None
        speech_start_ms = event.speech_start_ms if going_on is None else going_on.speech_start_ms
        if going_on is not None and going_on.joined:
            joined = f"{going_on.hypothesis.text.strip()} {hypothesis.text.strip()}".strip()
            hypothesis = replace(hypothesis, text=joined, alternatives=())
        elif going_on is not None and not hypothesis.text.strip():
            hypothesis = going_on.hypothesis  # read again whole, nothing came out: the words held stand
        words = self._words_on_the_clock(hypothesis, going_on)
        self.log.emit(
            event.at_ms,
            "speech_end",
            speech_start_ms=speech_start_ms,
            speech_end_ms=event.speech_end_ms,
            forced=event.forced,
        )
        self.log.emit(
            event.at_ms,
            "asr_final",
            text=hypothesis.text,
            confidence=hypothesis.confidence,
            asr_ms=asr_ms,
            words=words,
        )
        # Live, a speculative decode started at the pause; replay reaches this point sooner in wall time.
        if self._speculation is not None:
            decode_started_audio, decode_started_wall = self._speculation.audio_ms, self._speculation.wall_s
        else:
            decode_started_audio, decode_started_wall = event.at_ms, started
        self._speculation = None
        text = hypothesis.text.strip()
        if not text:
            self.log.emit(event.at_ms, "asr_empty")
            self._arm_no_input()
            return
        if self._holds < _MAX_HOLDS and not event.forced and self.conversation.stops_inside_a_number(text):
            self._holds += 1
            until_ms = event.at_ms + NUMBER_HOLD_MS
            self._held = _HeldTurn(
                hypothesis,
                speech_start_ms,
                event.speech_end_ms,
                until_ms,
                decode_started_audio,
                decode_started_wall,
                turn_start_ms=self._turn_start_ms,
                audio_end_ms=event.at_ms,
            )
            self._no_input_deadline = None  # armed by a wait behind a prompt the caller talked over
            self.log.emit(event.at_ms, "turn_held", until_ms=until_ms)
            return
        result = self._understand_turn(hypothesis, speech_start_ms, event.speech_end_ms)
        self._carry_out(result, decode_started_wall, earliest_ms=event.at_ms, base_ms=decode_started_audio)

    def _words_on_the_clock(self, hypothesis: Hypothesis, going_on: _HeldTurn | None) -> list[list[Any]]:
        """The words of a finished turn with their times on the audio clock. A held turn that went on
        was read again without its pause: the words after the pause are moved by it; one joined has the
        held words first, at their own times."""
        if going_on is not None and going_on.joined:
            held = [
                [w.text, w.start_ms + going_on.turn_start_ms, w.end_ms + going_on.turn_start_ms]
                for w in going_on.hypothesis.words
            ]
            return held + [
                [w.text, w.start_ms + self._turn_start_ms, w.end_ms + self._turn_start_ms]
                for w in hypothesis.words
            ]
        cut = going_on.audio_end_ms - self._turn_start_ms if going_on is not None else None
        gap = going_on.gap_ms if going_on is not None else 0
        on_clock = []
        for w in hypothesis.words:
            shift = self._turn_start_ms + (gap if cut is not None and w.start_ms >= cut else 0)
            on_clock.append([w.text, w.start_ms + shift, w.end_ms + shift])
        return on_clock

    def _understand_turn(
        self, hypothesis: Hypothesis, speech_start_ms: int, speech_end_ms: int
    ) -> TurnResult:
        """The dialog's answer to a finished turn, recorded for QA."""
        text, unsure = self._reading(hypothesis.text.strip(), hypothesis.alternatives)
        record = TurnRecord(speech_start_ms, speech_end_ms, text)
        self.turns.append(record)
        result = self.conversation.hear_unsure(text, unsure) if unsure else self.conversation.hear(text)
        self._record_result(record, result)
        return result

    def _answer_held_turn(self) -> None:
        """The wait of a held turn is over (or a key was pressed): the bot answers what was said."""
        held, self._held = self._held, None
        if held is None:
            return
        result = self._understand_turn(held.hypothesis, held.speech_start_ms, held.speech_end_ms)
        self._carry_out(result, held.decode_wall_s, earliest_ms=self.now_ms, base_ms=held.decode_audio_ms)

    def _reading(self, text: str, alternatives: tuple[str, ...]) -> tuple[str, str | None]:
        """The recogniser's best reading, unless the dialog does not understand it and does understand a
        later one of its N-best: what the current state expects breaks the recogniser's near-ties. Then
        the closed set's answer when it is sure; when it only leans, the free reading with the answer it
        leans to, to be asked back. A later reading understood only as another request, while a closed
        set is asked for (an hour, a store, a product), gives way to a sure closed-set answer, and a
        first reading of one or two words that does so to a leading one (`_answer_more_likely`)."""
        understood = self._understood_reading(text, alternatives, strict=True)
        if understood is not None:
            if self._answer_more_likely(text, understood):
                # a short first reading is as good as not understood: a leader is asked back too
                short_first = understood == text
                closed = self._closed_set_reading(clear_lead_only=not short_first)
                if closed is not None and closed[1]:
                    return closed[0], None
                if closed is not None and short_first:
                    return text, closed[0]  # "Marseille Vieux-Port, c'est bien ça ?"
            order = self._order_heard(understood)
            if order is not None:
                return understood, order  # "La commande 458129, c'est bien ça ?"
            return self._with_names_heard(understood), None
        closed = self._closed_set_reading()
        if closed is not None:
            reading, sure = closed
            return (reading, None) if sure else (text, reading)
        order = self._order_heard(text)
        if order is not None:
            return text, order  # "C'est le cas 5, 8, 1, 3, 0.", a digit short: "La commande 458130, …"
        # Nothing better: a reading the dialog acts on all the same (a near-tie of two requests) rather
        # than a first reading it does not understand at all.
        return self._understood_reading(text, alternatives, strict=False) or text, None

    def _with_names_heard(self, reading: str) -> str:
        """`reading`, or the same request with the product or the store it was heard without, when the
        turn's audio clearly says it there: a product in its middle ("… une afficura de l'effort …" for
        "une applique murale Laiton", `Conversation.product_in_the_request`), a store at its end or after
        "magasin de" ("… au magasin de lui ?" for "de Lille", `Conversation.store_in_the_request`), the
        day at the end of an opening-hours question ("… est ouvert du monde ?" for "dimanche",
        `Conversation.day_in_the_request`); then a call-back time after its verb (`_with_time_heard`)."""
        conversation = self.conversation
        finders = (
            conversation.product_in_the_request,
            conversation.store_in_the_request,
            conversation.day_in_the_request,  # last: its words before the day hold the store found
        )
        for find in finders:
            try:
                found = find(reading)
            except Exception as exc:  # a second chance: its failure must not cost the call
                self.log.emit(self.now_ms, "asr_closed_set_error", error=f"{type(exc).__name__}: {exc}")
                continue
            if found is not None:
                reading = self._with_ending_scored(reading, found)
        return self._with_time_heard(reading)

    def _with_time_heard(self, reading: str) -> str:
        """`reading`, or the same call-back request with the day the turn's audio clearly says after its
        verb, and the hour after that day when none was heard and one leads (`Conversation.
        time_in_the_request`, `closed_set.time_heard`). The time is read back before anything is booked."""
        try:
            found = self.conversation.time_in_the_request(reading)
            heard = time_heard(found, self._scores_and_priors) if found else None
        except Exception as exc:  # a second chance: its failure must not cost the call
            self.log.emit(self.now_ms, "asr_closed_set_error", error=f"{type(exc).__name__}: {exc}")
            return reading
        if found is None or heard is None:
            return reading
        self.log.emit(
            self.now_ms,
            "asr_time_in_request",
            day=_described(heard.day) if heard.day is not None else found.day_said,
            hour=_described(heard.hour) if heard.hour is not None else None,
            hour_taken=heard.hour is not None and heard.hour.sure_when_read_back,
            accepted=heard.reading is not None,
            after=found.prefix,
            heard=found.heard,
        )
        return heard.reading or reading

    def _with_ending_scored(self, reading: str, found: RequestEndings) -> str:
        """The request with the name whose ending is clearly the best end of the turn's audio after the
        request's own words, and not far behind what was heard (`ending_taken`); else `reading`."""
        scored = self._best_ending(found)
        if scored is None:
            return reading
        best, heard_score = scored
        taken = ending_taken(best, heard_score, found)
        self.log.emit(
            self.now_ms,
            _ENDING_EVENTS[found.source],
            **_described(best),
            accepted=taken,
            after=found.prefix,
            heard=found.heard,
            heard_score=round(heard_score, 2),
        )
        return best.reading if taken else reading

    def _best_ending(self, found: RequestEndings) -> tuple[ClosedSetPick, float] | None:
        """The ending of `found` the turn's audio supports best after its prefix, and the score of what
        was heard there; None when nothing could be scored."""
        scored = self._scores_and_priors([found.heard, *found.endings], found.prefix)
        if scored is None:
            return None
        scores, priors = scored
        best = pick(found.endings, scores[1:], priors[1:] if priors else None)
        return None if best is None else (best, scores[0])

    def _order_heard(self, reading: str) -> str | None:
        """`reading` with a known order in place of the number heard, which no order has, when the turn's
        audio clearly says that order among those a digit or two away, and not far behind the number as
        heard (`Conversation.order_in_the_turn`, `closed_set.order_taken`): "4, 108, 1, 2, 9." for
        "quatre, cinq, huit, un, deux, neuf". The dialog asks it back; None otherwise."""
        try:
            found = self.conversation.order_in_the_turn(reading)
        except Exception as exc:  # a second chance: its failure must not cost the call
            self.log.emit(self.now_ms, "asr_closed_set_error", error=f"{type(exc).__name__}: {exc}")
            return None
        scored = self._best_ending(found) if found is not None else None
        if found is None or scored is None:
            return None
        best, heard_score = scored
        taken = order_taken(best, heard_score)
        self.log.emit(
            self.now_ms,
            "asr_order_near",
            **_described(best),
            accepted=taken,
            heard=found.heard,
            heard_score=round(heard_score, 2),
        )
        return best.reading if taken else None

    def _answer_more_likely(self, first: str, understood: str) -> bool:
        """While a closed set is asked for, a later reading of the N-best that only changes the subject
        is less likely than an answer: a caller asked a question mostly answers it. "Vers seize heures"
        came back "Vertez-les heures." (an opening-hours question) to "À quelle heure ?", "Celui de
        Lyon" came back "C'est lui, c'est le client." (a transfer, third reading) to "Quel magasin ?".
        Only a sure closed-set answer wins (the full lead: a store is not read back). So is a first
        reading of one or two words: "Marseille" came back "L'appel." (a call-back request) to "Dans
        quel magasin ?"; it is read as if not understood (a leader is asked back). A longer first
        reading, a person asked for and a goodbye keep their meaning."""
        conversation = self.conversation
        if not conversation.choices:
            return False
        if understood == first and len(first.split()) > _SHORT_ANSWER_WORDS:
            return False
        return conversation.changes_subject(understood)

    def _understood_reading(self, text: str, alternatives: tuple[str, ...], strict: bool) -> str | None:
        """The first of the N-best readings the dialog understands (`strict` as `understands` takes it),
        logged as `asr_rescored` when it is not the first; None when none is. While a guess asked back
        awaits a yes or a no, a later reading counts only as one, or as a person asked for."""
        if self.conversation.understands(text, strict):
            return text
        yes_no_only = self.conversation.guess_asked_back
        for rank, alternative in enumerate(alternatives, start=2):
            if yes_no_only and parse_yes_no(alternative) is None and not wants_human(alternative):
                # "Oui." heard "Merci." after "Marseille Vieux-Port, c'est bien ça ?", its third reading
                # "La fille.": a later reading is a yes or a no there (or a person asked for), not
                # another store
                continue
            if self.conversation.understands(alternative, strict):
                self.log.emit(self.now_ms, "asr_rescored", text=alternative, rank=rank, first=text)
                return alternative
        return None

    def _closed_set_reading(self, clear_lead_only: bool = False) -> tuple[str, bool] | None:
        """When the question expects one of a closed set ("Pour quel magasin ?") and no free reading was
        understood: the answer whose phrases the audio supports best, and whether it is clearly ahead of
        the others (sure) or only ahead (to be asked back); None when nothing leads. `clear_lead_only`:
        sure only with the full lead (`ClosedSetPick.sure`), even for an answer read back."""
        choices = self.conversation.choices
        scored = self._scores_and_priors(list(choices)) if choices else None
        found = pick(choices, *scored) if scored is not None else None
        if found is None:
            return None
        # An hour is read back with the call-back's day before anything is booked: that is its ask-back.
        asked_back = self.conversation.choice_asked_back
        sure = found.sure if asked_back or clear_lead_only else found.sure_when_read_back
        # Not for an hour: on bench/closed_set_bench.py --hours it took one more right and one more wrong.
        second_look = self._short_turn_rescored(choices) if asked_back and not sure else None
        looked = None if second_look is None else _described(second_look)
        if second_look is not None and (
            second_look.sure or (second_look.leads and second_look.margin > found.margin)
        ):
            found, sure = second_look, second_look.sure
        elif looked is not None:
            looked["kept_the_first"] = True  # it leads further: it stands (and is asked back)
        leads = asked_back and found.leads and not clear_lead_only  # only then is it asked back
        self.log.emit(
            self.now_ms,
            "asr_closed_set",
            **_described(found),
            accepted=sure,
            ask_back=leads and not sure,
            second_look=looked,
        )
        if sure or leads:
            return found.reading, sure
        return None

    def _short_turn_rescored(self, choices: Mapping[str, str]) -> ClosedSetPick | None:
        """The closed set picked again from the recogniser's second look at a short turn, when it has
        one (`Recognizer.rescore_short_turn`): a bare "Lyon" came out "C'est." and scored Marseille
        first, where Whisper's encoder on its full window put Lyon clearly first (bench/
        closed_set_bench.py --second-look). Only when the first pick is not sure: a sure "Paris" scored
        lower there; and only for an answer that may be asked back (a store, a product). It replaces
        the first pick when sure, or when it leads (`ClosedSetPick.leads`) further: a first leader
        asked back and declined ("Marseille Vieux-Port, c'est bien ça ?" "Non") is not offered again,
        where a second pick that only replaced it would be dropped."""
        try:
            rescored = self.recognizer.rescore_short_turn(list(choices))
        except Exception as exc:  # a second chance: its failure must not cost the call
            self.log.emit(self.now_ms, "asr_closed_set_error", error=f"{type(exc).__name__}: {exc}")
            return None
        return pick(choices, *rescored) if rescored is not None else None

    def _scores_and_priors(
        self, phrases: list[str], prefix: str = "", priors: bool = True
    ) -> tuple[list[float], list[float] | None] | None:
        """The recogniser's closed-set scores of `phrases` for the last turn and their priors (unless
        not `priors`); None when it gives no scores or fails (scoring is a second chance: its failure
        must not cost the call); the scores stand without their priors when only those fail."""
        try:
            scores = self.recognizer.score(phrases, prefix)
        except Exception as exc:
            self.log.emit(self.now_ms, "asr_closed_set_error", error=f"{type(exc).__name__}: {exc}")
            return None
        if not scores:
            return None
        if not priors:
            return scores, None
        try:
            discounts = self.recognizer.prior(phrases, prefix)
        except Exception as exc:
            self.log.emit(self.now_ms, "asr_closed_set_error", error=f"prior: {type(exc).__name__}: {exc}")
            discounts = None
        return scores, discounts

    def _hints(self) -> tuple[str, ...]:
        if self._listen is not None and self._listen.hints:
            return self._listen.hints
        return tuple(self.conversation.hints)

    def _primer(self) -> str:
        """The Listen's primer; a caller who talks over the question gets the dialog's own (the Listen
        comes once the question has been played)."""
        return self._listen.primer if self._listen is not None else self.conversation.primer

    # ------------------------------------------------------------------ timers and DTMF
    def _check_timers(self) -> None:
        if self._held is not None and not self._in_turn and self.now_ms >= self._held.until_ms:
            self._answer_held_turn()
        if self._digit_deadline is not None and self.now_ms >= self._digit_deadline:
            self._deliver_digits()
        if (
            self._no_input_deadline is not None
            and not self._in_turn
            and self._held is None
            and not self._outbound
            and self.now_ms >= self._no_input_deadline
        ):
            self._no_input_deadline = None
            self.log.emit(self.now_ms, "no_input")
            record = TurnRecord(self.now_ms, self.now_ms, "")
            self.turns.append(record)
            started = self._wall()
            result = self.conversation.no_input()
            self._record_result(record, result)
            self._carry_out(result, started)

    def _deliver_digits(self) -> None:
        digits, self._digits, self._digit_deadline = self._digits.rstrip("#") or self._digits, "", None
        if not digits:
            return
        started = self._wall()
        record = TurnRecord(self.now_ms, self.now_ms, "", dtmf=digits)
        self.turns.append(record)
        result = self.conversation.dtmf(digits)
        self._record_result(record, result)
        self._carry_out(result, started)

    def _arm_no_input(self) -> None:
        if self._listen is not None:
            self._no_input_deadline = max(self.now_ms, self._audio_ready_ms) + self._listen.timeout_ms

    # ------------------------------------------------------------------ carrying out decisions
    def _record_result(self, record: TurnRecord, result: TurnResult) -> None:
        record.intent = result.intent
        record.confidence = result.confidence
        record.slots = dict(result.slots)
        self.log.emit(
            self.now_ms,
            "intent",
            intent=result.intent,
            confidence=round(result.confidence, 3),
            slots=result.slots,
            state=self.conversation.state,
        )
        self._first_audio_pending = record

    def _carry_out(
        self,
        result: TurnResult,
        started_wall: float,
        earliest_ms: int | None = None,
        base_ms: int | None = None,
    ) -> None:
        """Queue the bot's speech and remember what to do once it has been played."""
        self._listen = None
        self._no_input_deadline = None
        # A wait still queued behind a prompt the caller cut short (a key over the greeting) is answered.
        self._after_audio = [action for action in self._after_audio if not isinstance(action, Listen)]
        said: list[str] = []
        refused = False
        for action in result.actions:
            if isinstance(action, Say):
                if refused:
                    continue  # the dialog's "c'est noté" would be a lie: the refusal was said instead
                self._queue_speech(action.text, action.barge_in)
                said.append(action.text)
            elif isinstance(action, ScheduleCallback):
                # Stored before the caller hears "c'est noté": a confirmed request survives a crash.
                try:
                    self.channel.schedule_callback(action)
                except CallbackRefused as refusal:
                    # A limit the dialog could not check (the store's caps, the number's region…): the
                    # caller hears why, in French, and the call ends as the dialog planned.
                    refused = True
                    goodbye = any(isinstance(later, Hangup) for later in result.actions)
                    refusals = self.callback_refusals
                    sentence = refusals.reason(refusal.code) + (f" {refusals.goodbye}" if goodbye else "")
                    self._queue_speech(sentence, False)
                    said.append(sentence)
                    self.outcome = Outcome("hangup", reason=f"callback refused: {refusal.code}")
                    self._callback_refused = True
                    self.log.emit(self.now_ms, "callback_refused", code=refusal.code, reason=str(refusal))
                    continue
                self.outcome = Outcome("callback", queue=action.queue, callback_at=action.at)
                self.log.emit(self.now_ms, "callback", at=action.at, phone=action.phone, queue=action.queue)
            else:
                self._after_audio.append(action)
        if said:
            if self._first_audio_pending is not None:
                self._first_audio_pending.bot = " ".join(said)
        else:
            self._first_audio_pending = None
        # When may the answer start on the audio clock? Not before the decision point, and not before
        # the work that produced it would have finished had it started at `base_ms` in real time.
        elapsed_ms = int((self._wall() - started_wall) * 1000)
        base = self.now_ms if base_ms is None else base_ms
        ready = max(self.now_ms if earliest_ms is None else earliest_ms, base + elapsed_ms)
        self._audio_ready_ms = -(-ready // FRAME_MS) * FRAME_MS  # next frame boundary
        self.log.emit(
            self.now_ms,
            "decision",
            compute_ms=elapsed_ms,
            started_ms=base,  # on the audio clock: the pause when a speculative decode ran
            audio_ready_ms=self._audio_ready_ms,
        )
        if not self._outbound and self._after_audio:
            self._audio_finished()

    def _audio_finished(self) -> None:
        pending, self._after_audio = self._after_audio, []
        for action in pending:
            if isinstance(action, Listen):
                self._listen = action
                self._use_end_silence(action.end_silence_ms)
                self._arm_no_input()
                self.log.emit(
                    self.now_ms,
                    "listen",
                    timeout_ms=action.timeout_ms,
                    hints=len(action.hints),
                    **({"primer": action.primer} if action.primer else {}),
                )
            elif isinstance(action, Transfer):
                self.log.emit(
                    self.now_ms,
                    "transfer",
                    queue=action.queue,
                    reason=action.reason,
                    context=action.context.as_dict(),
                )
                self.channel.transfer(action)
                self._end(Outcome("transfer", queue=action.queue, reason=action.reason))
                return
            elif isinstance(action, Hangup):
                self.log.emit(self.now_ms, "hangup", reason=action.reason)
                self.channel.hangup(action.reason)
                keep_callback = self.outcome is not None and (
                    self.outcome.type == "callback" or self._callback_refused
                )
                self._end(
                    self.outcome
                    if keep_callback and self.outcome
                    else Outcome("hangup", reason=action.reason)
                )
                return

    def _use_end_silence(self, end_silence_ms: int | None) -> None:
        """The state may want a longer end-of-turn silence (a number read out in groups)."""
        wanted = end_silence_ms or self._default_end_silence_ms
        if self.endpointer.config.end_silence_ms != wanted:
            self.endpointer.config = replace(self.endpointer.config, end_silence_ms=wanted)

    def _end(self, outcome: Outcome) -> None:
        self.outcome = outcome
        self.ended = True
        self._listen = None
        self._finish()

    def _finish(self) -> None:
        self.log.emit(self.now_ms, "session_end", outcome=self.outcome.as_dict() if self.outcome else None)

    def close(self) -> None:
        """Release the call's recogniser and log file; the call is over for good (BYE received or sent)."""
        if self._closed:
            return
        self._closed = True
        self.recognizer.close()
        self.log.close()

    # ------------------------------------------------------------------ failure containment
    def _guarded(self, step: Callable[[], None]) -> None:
        """Run one step; if it breaks, apologise and hand the caller to a person instead of dying."""
        try:
            step()
        except Exception as exc:
            self.log.emit(
                self.now_ms,
                "error",
                error=f"{type(exc).__name__}: {exc}",
                where=traceback.format_exc(limit=3).splitlines()[-3:],
            )
            if self.ended:
                return
            self._in_turn = False
            self._held = self._going_on = None
            self._outbound.clear()
            self._after_audio = []
            context = self._safe_context()
            with contextlib.suppress(Exception):  # even synthesis failed: transfer in silence
                self._queue_speech(self.apology, barge_in=False)
            self._audio_ready_ms = self.now_ms
            self._after_audio.append(Transfer(self.fallback_queue, "error", context))
            if not self._outbound:
                self._audio_finished()

    def _safe_context(self) -> CallContext:
        try:
            return self.conversation.context()
        except Exception:
            return CallContext(None, None, {}, tuple(t.transcript for t in self.turns), "")
