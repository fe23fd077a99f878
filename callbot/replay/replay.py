"""Replay a recording of the caller's side through the full audio path, faster than real time.

QA replays recorded calls to check transcripts, decisions and latency after a flow or model change. The
recording goes through the very `CallSession` a live call uses; only the channel differs.

Two timings:
- `turns` (default): the caller's turns are cut out of the recording (by the same VAD) and each is
  released when the bot waits for input, as if the caller answered every prompt. This is what a
  recording of the caller alone needs, since the bot may now speak longer or shorter than it did.
- `original`: the caller channel is played as it was recorded (a stereo recording of a real call),
  barge-ins included.
"""

from __future__ import annotations

import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Literal

from callbot.audio.frame import FRAME_MS, AudioFrame, frames_from_pcm, silence
from callbot.audio.resample import resample
from callbot.audio.wav import read_wav
from callbot.dialog.actions import ScheduleCallback
from callbot.session.call_session import CallSession, Outcome, TurnRecord
from callbot.session.channel import RecordingChannel
from callbot.session.events import jsonable
from callbot.session.stack import TELEPHONE_RATE, SpeechStack
from callbot.vad import SpeechEnded, SpeechStarted

#: The caller starts speaking this long after the bot has finished its prompt.
ANSWER_DELAY_MS = 400
#: Silence that separates two caller turns in a recording of the caller's side.
TURN_GAP_MS = 1800
#: Once the recording has no more turns, the caller waits this long before hanging up.
HANGUP_GRACE_MS = 1000
#: The caller id a replay presents unless told otherwise: a live call nearly always has one, and flows
#: behave differently without it (they must ask for a number to call back).
DEFAULT_REPLAY_CALLER = "+33612345678"
#: A replay never runs longer than the recording plus this much audio (a flow stuck in a loop).
MAX_EXTRA_AUDIO_MS = 180_000

Timing = Literal["turns", "original"]
#: A caller who answers what the recording did not plan for (`replay_call(answer=...)`): given what the bot
#: said after the caller's last turn and the index of the recording's next turn, the 8 kHz PCM16 to say
#: first, or None to go on with the recording.
AnswerHook = Callable[[str, int], bytes | None]


@dataclass(frozen=True)
class CallerTurn:
    """One stretch of caller speech cut from a recording, with pre-roll and trailing silence."""

    start_ms: int
    end_ms: int
    pcm: bytes


@dataclass
class ReplayResult:
    """What a replay produced: the session's turns, its outcome and the event log."""

    source: str
    turns: list[TurnRecord]
    outcome: Outcome
    events: list[dict[str, Any]]
    audio_ms: int
    wall_ms: int
    bot_audio: bytes
    #: What the session heard, frame by frame on its clock (turn timing moves the caller's turns).
    caller_audio: bytes = b""

    @property
    def real_time_factor(self) -> float:
        return self.wall_ms / self.audio_ms if self.audio_ms else 0.0

    def as_dict(self) -> dict[str, Any]:
        turns = []
        for t in self.turns:
            turn: dict[str, Any] = {
                "start_ms": t.start_ms,
                "end_ms": t.end_ms,
                "transcript": t.transcript,
                "intent": t.intent,
                "slots": jsonable(t.slots),
                "bot": t.bot,
                "response_ms": t.response_ms,
            }
            if t.dtmf is not None:
                turn["dtmf"] = t.dtmf
            turns.append(turn)
        return {
            "source": self.source,
            "turns": turns,
            "outcome": self.outcome.as_dict(),
            "audio_ms": self.audio_ms,
            "wall_ms": self.wall_ms,
            "real_time_factor": round(self.real_time_factor, 3),
        }


def load_caller_audio(path: str | Path) -> bytes:
    """The caller's side of a recording as 8 kHz PCM16: left channel of a stereo file, any rate."""
    wav = read_wav(path)
    return resample(wav.channel(0), wav.sample_rate, TELEPHONE_RATE)


def split_caller_turns(stack: SpeechStack, pcm: bytes, sample_rate: int = TELEPHONE_RATE) -> list[CallerTurn]:
    """Cut a caller recording into turns with the session's endpointer, stretched to `TURN_GAP_MS`.

    A caller's turns are seconds apart (the bot spoke in between), while within a turn callers pause
    for less (between the digit groups of a number): only a long silence separates two turns.
    """
    endpointer = stack.new_endpointer(sample_rate)
    endpointer.config = replace(
        endpointer.config, end_silence_ms=max(TURN_GAP_MS, endpointer.config.end_silence_ms)
    )
    turns: list[CallerTurn] = []
    start: int | None = None
    bytes_per_ms = sample_rate * 2 // 1000
    for frame in frames_from_pcm(pcm, sample_rate):
        for event in endpointer.process(frame):
            if isinstance(event, SpeechStarted):
                start = event.preroll[0].start_ms if event.preroll else event.at_ms
            elif isinstance(event, SpeechEnded) and start is not None:
                end = event.at_ms
                turns.append(CallerTurn(start, end, pcm[start * bytes_per_ms : end * bytes_per_ms]))
                start = None
    if start is not None:  # the recording stops mid-speech: keep what there is
        turns.append(CallerTurn(start, len(pcm) // bytes_per_ms, pcm[start * bytes_per_ms :]))
    return turns


def replay_call(
    stack: SpeechStack,
    path: str | Path,
    *,
    now: datetime,
    timing: Timing = "turns",
    caller: str | None = DEFAULT_REPLAY_CALLER,
    log_stream: IO[str] | None = None,
    log_path: str | Path | None = None,
    store_callbacks: bool = False,
    answer: AnswerHook | None = None,
) -> ReplayResult:
    """Run a caller recording through a fresh CallSession and report what the bot did.

    With `store_callbacks`, a call-back the caller confirms is stored in the stack's call-back store, as
    on a live call. With `answer` (turn timing only), a scripted caller can answer a question the
    recording did not plan for (bench/task_success.py answers "c'est bien ça ?" as a caller would).
    """
    pcm = load_caller_audio(path)
    channel = StoringChannel(stack, caller, str(path)) if store_callbacks else RecordingChannel()
    session = stack.new_session(
        call_id=f"replay-{uuid.uuid4().hex[:8]}",
        origin=now,
        caller=caller,
        channel=channel,
        log_stream=log_stream,
        log_path=log_path,
    )
    started = time.perf_counter()
    bot_audio = bytearray()
    caller_audio = bytearray()
    if timing == "turns":
        turns = split_caller_turns(stack, pcm)
        _drive_turn_by_turn(session, turns, len(pcm), bot_audio, caller_audio, answer)
    else:
        _drive_original(session, pcm, bot_audio, caller_audio)
    wall_ms = int((time.perf_counter() - started) * 1000)
    session.hangup()  # the line is closed: after the bot's own hang-up or transfer, this only releases
    assert session.outcome is not None
    return ReplayResult(
        source=str(path),
        turns=session.turns,
        outcome=session.outcome,
        events=session.log.events,
        audio_ms=session.now_ms,
        wall_ms=wall_ms,
        bot_audio=bytes(bot_audio),
        caller_audio=bytes(caller_audio),
    )


class StoringChannel(RecordingChannel):
    """A replay channel that stores confirmed call-backs durably, as the SIP channel does."""

    def __init__(self, stack: SpeechStack, caller: str | None, source: str) -> None:
        super().__init__()
        self.stack = stack
        self.caller = caller
        self.source = source

    def schedule_callback(self, action: ScheduleCallback) -> None:
        super().schedule_callback(action)
        self.stack.store_callback(action, caller=self.caller, call_id=f"replay:{self.source}")


def _drive_turn_by_turn(
    session: CallSession,
    turns: list[CallerTurn],
    pcm_len: int,
    bot_audio: bytearray,
    heard: bytearray,
    answer: AnswerHook | None = None,
) -> None:
    pending: deque[bytes] = deque()
    remaining = deque(turns)
    considered = 0  # session turns whose bot reply the answer hook has seen
    quiet = silence(TELEPHONE_RATE, FRAME_MS)
    limit_ms = pcm_len // (TELEPHONE_RATE * 2 // 1000) + MAX_EXTRA_AUDIO_MS
    hangup_at: int | None = None
    session.start()
    t = 0
    while not session.ended and t < limit_ms:
        if not pending and session.waiting_for_input:
            reply = None
            if answer is not None and session.turns and len(session.turns) != considered:
                considered = len(session.turns)
                reply = answer(session.turns[-1].bot, len(turns) - len(remaining))
            if reply:
                limit_ms += len(reply) // (TELEPHONE_RATE * 2 // 1000) + ANSWER_DELAY_MS
            if reply or remaining:
                said = reply if reply else remaining.popleft().pcm
                pending.extend([quiet] * (ANSWER_DELAY_MS // FRAME_MS))
                pending.extend(f.pcm for f in frames_from_pcm(said, TELEPHONE_RATE))
            elif hangup_at is None:
                hangup_at = t + HANGUP_GRACE_MS
        if hangup_at is not None and t >= hangup_at and session.waiting_for_input:
            session.hangup()
            break
        chunk = pending.popleft() if pending else quiet
        heard += chunk
        bot_audio += session.tick(AudioFrame(chunk, TELEPHONE_RATE, t))
        t += FRAME_MS


def _drive_original(session: CallSession, pcm: bytes, bot_audio: bytearray, heard: bytearray) -> None:
    session.start()
    t = 0
    for frame in frames_from_pcm(pcm, TELEPHONE_RATE):
        if session.ended:
            return
        heard += frame.pcm
        bot_audio += session.tick(frame)
        t = frame.end_ms
    quiet = silence(TELEPHONE_RATE, FRAME_MS)
    end = t + MAX_EXTRA_AUDIO_MS
    while not session.ended and t < end:
        if session.waiting_for_input:
            return
        heard += quiet
        bot_audio += session.tick(AudioFrame(quiet, TELEPHONE_RATE, t))
        t += FRAME_MS
