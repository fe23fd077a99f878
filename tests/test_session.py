"""CallSession behaviour: greeting, turns, latency accounting, barge-in, echo, DTMF, no-input, failures.

Real parts: the default retail flow, Pico speech (bot and caller), webrtcvad. The recogniser is scripted
(it returns the text the test says the caller said) so that these tests pin down the session's logic;
tests/test_replay_e2e.py runs the same path with the real recogniser.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from callbot.asr.base import Hypothesis, Recognizer, Word
from callbot.audio import FRAME_MS, AudioFrame, frames_from_pcm, silence
from callbot.dialog import Conversation, default_flow_path, load_flow
from callbot.dialog.conversation import SLOT_PRIMERS
from callbot.session import AudioClock, CallSession, EventLog, RecordingChannel
from callbot.session.call_session import ANSWER_KEY_WAIT_MS, DIGIT_TIMEOUT_MS, NUMBER_HOLD_MS, TurnRecord
from callbot.tts import PicoSynthesizer, PromptCache
from callbot.vad import Endpointer, EndpointerConfig, WebRtcDetector

pytestmark = pytest.mark.skipif(shutil.which("pico2wave") is None, reason="needs pico2wave")

RATE = 8000
NOW = datetime(2026, 11, 23, 10, 30, tzinfo=ZoneInfo("Europe/Paris"))
QUIET = silence(RATE, FRAME_MS)


class ScriptedRecognizer(Recognizer):
    """Says the caller said the next scripted line; records what audio it was given."""

    sample_rate = 16000

    def __init__(
        self,
        lines: Sequence[str | tuple[str, tuple[str, ...]]],
        wall: FakeWall | None = None,
        decode_s: float = 0.0,
    ) -> None:
        self.lines = list(lines)
        self.turn_audio: list[bytes] = []
        self.hints: list[tuple[str, ...]] = []
        self.primers: list[str] = []
        self.pauses = 0
        self.wall = wall
        self.decode_s = decode_s
        self.fail_on_finish = False

    def start_turn(self, hints: Sequence[str] = (), primer: str = "") -> None:
        self.turn_audio.append(b"")
        self.hints.append(tuple(hints))
        self.primers.append(primer)

    def accept(self, pcm: bytes) -> Hypothesis | None:
        self.turn_audio[-1] += pcm
        return None

    def pause(self) -> None:
        self.pauses += 1

    def score(self, phrases: Sequence[str], prefix: str = "") -> list[float] | None:
        """Closed-set scores from `self.closed_set` (phrase → score), when a test sets it."""
        self.scored = list(phrases)
        self.scored_after = prefix
        scores = getattr(self, "closed_set", None)
        return None if scores is None else [scores.get(phrase, -9.0) for phrase in phrases]

    def finish(self) -> Hypothesis:
        if self.fail_on_finish:
            raise RuntimeError("recogniser crashed")
        if self.wall is not None:
            self.wall.now += self.decode_s
        line = self.lines.pop(0) if self.lines else ""
        if isinstance(line, tuple):  # (best reading, N-best alternatives)
            return Hypothesis(line[0], final=True, alternatives=line[1])
        return Hypothesis(line, final=True)


class FakeWall:
    """A wall clock the test moves, to pin down how compute time maps onto the audio clock."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def flow():
    return load_flow(default_flow_path())


@pytest.fixture(scope="module")
def prompts(flow) -> PromptCache:
    cache = PromptCache(PicoSynthesizer(), RATE)
    cache.preload(flow.fixed_prompts())  # as SpeechStack does when the flow loads
    return cache


@pytest.fixture(scope="module")
def caller_voice() -> PicoSynthesizer:
    return PicoSynthesizer(speed=95, pitch=90)


def make_session(flow, prompts, recognizer, tmp_path: Path | None = None, wall=None):
    clock = AudioClock(NOW)
    log_path = tmp_path / "events.jsonl" if tmp_path else None
    kwargs = {"wall_clock": wall} if wall is not None else {}
    return CallSession(
        conversation=Conversation(flow, now=clock.now, caller="+33612345678"),
        clock=clock,
        recognizer=recognizer,
        prompts=prompts,
        endpointer=Endpointer(WebRtcDetector(), EndpointerConfig(), RATE),
        log=EventLog("test-call", log_path),
        channel=RecordingChannel(),
        sample_rate=RATE,
        fallback_queue=flow.settings.fallback_queue,
        **kwargs,
    )


class Caller:
    """Drives a session frame by frame and keeps what the bot played."""

    def __init__(self, session: CallSession) -> None:
        self.session = session
        self.t = 0
        self.bot = bytearray()
        session.start()

    def play(self, pcm: bytes) -> None:
        for frame in frames_from_pcm(pcm, RATE, start_ms=self.t):
            self.bot += self.session.tick(frame)
            self.t = frame.end_ms

    def wait(self, ms: int) -> None:
        self.play(silence(RATE, ms))

    def wait_until_listening(self, limit_ms: int = 30_000) -> None:
        end = self.t + limit_ms
        while not self.session.waiting_for_input and not self.session.ended and self.t < end:
            self.bot += self.session.tick(AudioFrame(QUIET, RATE, self.t))
            self.t += FRAME_MS
        assert self.session.waiting_for_input or self.session.ended

    def bot_level_dbfs(self, start_ms: int, end_ms: int) -> float:
        samples = np.frombuffer(bytes(self.bot), dtype="<i2")[start_ms * 8 : end_ms * 8].astype(float)
        rms = float(np.sqrt(np.mean(samples**2))) if len(samples) else 0.0
        return 20 * np.log10(max(rms, 1e-3) / 32768)


def events(tmp_path: Path) -> list[dict]:
    """The call's event log, as `make_session(…, tmp_path)` wrote it."""
    return [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]


def say(voice: PicoSynthesizer, text: str) -> bytes:
    return voice.synthesize(text, RATE) + silence(RATE, 900)


def caller_saying(session: CallSession, voice: PicoSynthesizer, *sentences: str) -> Caller:
    """A caller who says each sentence in turn, each once the bot listens again."""
    caller = Caller(session)
    caller.wait_until_listening()
    for sentence in sentences:
        caller.play(say(voice, sentence))
        caller.wait_until_listening()
    return caller


def test_the_greeting_plays_at_once_then_the_bot_listens(flow, prompts) -> None:
    caller = Caller(make_session(flow, prompts, ScriptedRecognizer([])))
    caller.wait(200)
    assert caller.bot_level_dbfs(0, 200) > -40, "the greeting starts within the first frames"
    caller.wait_until_listening()
    prompt = caller.session.log.of_type("prompt")[0]
    assert prompt["t_ms"] == 0 and prompt["duration_ms"] > 1000
    assert caller.session.log.of_type("listen")


def test_a_caller_turn_is_recognised_from_its_first_syllable_and_answered(
    flow,
    prompts,
    caller_voice,
) -> None:
    recognizer = ScriptedRecognizer(["quels sont vos horaires à Lyon"])
    caller = Caller(make_session(flow, prompts, recognizer))
    caller.wait_until_listening()
    speech = caller_voice.synthesize("Quels sont vos horaires à Lyon ?", RATE)
    spoke_at = caller.t + 300
    caller.wait(300)
    caller.play(speech + silence(RATE, 900))
    caller.wait_until_listening()

    turn = caller.session.turns[0]
    assert turn.intent == "horaires"
    assert "Lyon" in turn.bot
    assert recognizer.hints[0], "the recogniser gets the state's phrase hints"
    # Pre-roll: the recogniser's audio starts before the VAD triggered, with the speech onset in it.
    start_event = caller.session.log.of_type("speech_start")[0]
    assert start_event["t_ms"] - spoke_at <= 200
    fed_ms = len(recognizer.turn_audio[0]) // 32
    assert fed_ms >= (turn.end_ms - spoke_at) - 100
    # The answer starts once the end-of-turn silence has elapsed: response_ms counts from speech end.
    assert turn.response_ms is not None
    assert 600 <= turn.response_ms <= 1000
    assert caller.bot_level_dbfs(turn.end_ms + turn.response_ms, turn.end_ms + turn.response_ms + 500) > -40


def test_the_dialog_takes_the_reading_it_understands_among_the_recognisers_n_best(
    flow, prompts, caller_voice
) -> None:
    """The first reading means nothing in the menu; the second of the N-best is a request it handles."""
    n_best = ("C'est lui, c'est ici.", ("Quels sont vos horaires à Lyon ?", "Merci."))
    recognizer = ScriptedRecognizer([n_best])
    caller = Caller(make_session(flow, prompts, recognizer))
    caller.wait_until_listening()
    caller.play(say(caller_voice, "Quels sont vos horaires à Lyon ?"))
    caller.wait_until_listening()
    turn = caller.session.turns[0]
    assert (turn.transcript, turn.intent) == ("Quels sont vos horaires à Lyon ?", "horaires")
    [rescored] = caller.session.log.of_type("asr_rescored")
    assert rescored["rank"] == 2 and rescored["first"] == "C'est lui, c'est ici."


def test_the_first_reading_stays_when_the_dialog_understands_it(flow, prompts, caller_voice) -> None:
    recognizer = ScriptedRecognizer([("Quels sont vos horaires ?", ("Je voudrais être rappelé.",))])
    caller = Caller(make_session(flow, prompts, recognizer))
    caller.wait_until_listening()
    caller.play(say(caller_voice, "Quels sont vos horaires ?"))
    caller.wait_until_listening()
    assert caller.session.turns[0].intent == "horaires"
    assert not caller.session.log.of_type("asr_rescored")


def test_a_reading_the_dialog_only_acts_on_beats_a_first_reading_it_does_not_understand(
    flow, prompts, caller_voice
) -> None:
    """No reading is clearly understood: the first means nothing, the second is a near-tie of two
    requests. Rather than "Pardon, je n'ai pas compris" on the first, the dialog gets the second."""
    near_tie = "Bonjour, je voudrais savoir si un produit est en stop."
    recognizer = ScriptedRecognizer([("C'est possible, vous devez se raffer.", (near_tie,))])
    caller = Caller(make_session(flow, prompts, recognizer))
    caller.wait_until_listening()
    caller.play(say(caller_voice, "Bonjour, je voudrais savoir si un produit est en stock."))
    caller.wait_until_listening()
    turn = caller.session.turns[0]
    assert turn.transcript == near_tie and turn.intent is not None
    [rescored] = caller.session.log.of_type("asr_rescored")
    assert rescored["rank"] == 2


def test_compute_time_is_carried_onto_the_audio_clock_from_the_pause(flow, prompts, caller_voice) -> None:
    """A decode that takes 0.9 s of wall time, started speculatively at the pause, delays the answer."""
    wall = FakeWall()
    recognizer = ScriptedRecognizer(["quels sont vos horaires à Lyon"], wall=wall, decode_s=0.9)
    session = make_session(flow, prompts, recognizer, wall=wall)
    caller = Caller(session)
    caller.wait_until_listening()
    caller.play(say(caller_voice, "Quels sont vos horaires à Lyon ?"))
    caller.wait_until_listening()
    turn = session.turns[0]
    paused = session.log.of_type("speech_paused")[0]
    assert recognizer.pauses == 1
    assert paused["t_ms"] - paused["speech_end_ms"] == 200
    # decode started at the pause (speech end + 200 ms) and lasted 900 ms → answer ≈ 1100 ms after speech end
    assert 1100 <= turn.response_ms <= 1140


def test_the_caller_can_interrupt_the_bot(flow, prompts, caller_voice) -> None:
    recognizer = ScriptedRecognizer(["je veux parler à un conseiller"])
    caller = Caller(make_session(flow, prompts, recognizer))
    caller.wait(600)  # the greeting is playing
    assert caller.session.bot_speaking
    interrupt_at = caller.t
    caller.play(say(caller_voice, "Je veux parler à un conseiller"))
    caller.wait_until_listening()
    barge = caller.session.log.of_type("barge_in")
    assert barge and barge[0]["by"] == "speech"
    assert barge[0]["t_ms"] - interrupt_at <= 500, "the bot stops within a few frames of real speech"
    assert caller.bot_level_dbfs(barge[0]["t_ms"] + 40, barge[0]["t_ms"] + 400) < -60
    assert caller.session.outcome is not None and caller.session.outcome.type == "transfer"
    # The interruption itself was recognised, from its first syllable.
    assert len(recognizer.turn_audio) == 1 and len(recognizer.turn_audio[0]) // 32 > 1000


def test_a_caller_who_talks_over_the_question_gets_its_primer_too(flow, prompts, caller_voice) -> None:
    """ "Quand souhaitez-vous être rappelé ? Par exemple…" cut short by the time: the recogniser is primed
    for a time all the same (the Listen only comes once the question has been played)."""
    recognizer = ScriptedRecognizer(["je voudrais être rappelé", "demain à 15 h"])
    caller = Caller(make_session(flow, prompts, recognizer))
    caller.wait_until_listening()
    caller.play(say(caller_voice, "Je voudrais être rappelé."))
    caller.wait(900)  # the question is playing
    assert caller.session.bot_speaking
    caller.play(say(caller_voice, "Demain à quinze heures."))
    caller.wait_until_listening()
    assert caller.session.log.of_type("barge_in")
    assert recognizer.primers == ["", SLOT_PRIMERS["datetime"]]


def test_the_bots_own_echo_does_not_interrupt_it(flow, prompts) -> None:
    session = make_session(flow, prompts, ScriptedRecognizer([]))
    session.start()
    played: list[bytes] = []
    t = 0
    delay_frames = 3  # 60 ms echo path
    while not session.waiting_for_input and t < 20_000:
        echo = played[-delay_frames] if len(played) >= delay_frames else QUIET
        quieter = (np.frombuffer(echo, dtype="<i2") * 0.1).astype("<i2").tobytes()  # -20 dB
        played.append(session.tick(AudioFrame(quieter, RATE, t)))
        t += FRAME_MS
    assert session.waiting_for_input
    assert not session.log.of_type("barge_in")
    assert not session.log.of_type("speech_start")


def test_dtmf_zero_transfers_with_the_context(flow, prompts) -> None:
    caller = Caller(make_session(flow, prompts, ScriptedRecognizer([])))
    caller.wait_until_listening()
    caller.session.dtmf("0")
    caller.wait_until_listening()
    session = caller.session
    assert session.outcome is not None and session.outcome.type == "transfer"
    channel = session.channel
    assert isinstance(channel, RecordingChannel) and channel.transfers
    assert channel.transfers[0].context.caller == "+33612345678"
    assert session.turns[0].dtmf == "0"


def test_silence_leads_to_a_person_instead_of_a_loop(flow, prompts) -> None:
    caller = Caller(make_session(flow, prompts, ScriptedRecognizer([])))
    for _ in range(flow.settings.max_retries + 1):
        caller.wait_until_listening()
        if caller.session.ended:
            break
        caller.wait(flow.settings.no_input_timeout_ms + 40)
    caller.wait_until_listening()
    assert len(caller.session.log.of_type("no_input")) == flow.settings.max_retries + 1
    assert caller.session.outcome is not None and caller.session.outcome.type == "transfer"


def test_a_failure_inside_the_call_ends_in_an_apology_and_a_transfer(
    flow,
    prompts,
    caller_voice,
    tmp_path: Path,
) -> None:
    recognizer = ScriptedRecognizer(["n'importe quoi"])
    recognizer.fail_on_finish = True
    caller = Caller(make_session(flow, prompts, recognizer, tmp_path))
    caller.wait_until_listening()
    caller.play(say(caller_voice, "Bonjour"))  # must not raise
    caller.wait_until_listening()
    session = caller.session
    assert session.log.of_type("error")[0]["error"] == "RuntimeError: recogniser crashed"
    assert any("problème technique" in p["text"] for p in session.log.of_type("prompt"))
    assert session.outcome is not None and session.outcome.type == "transfer"
    assert session.outcome.queue == flow.settings.fallback_queue


def test_the_event_log_is_json_lines_on_the_audio_clock(flow, prompts, caller_voice, tmp_path: Path) -> None:
    caller = Caller(make_session(flow, prompts, ScriptedRecognizer(["non merci au revoir"]), tmp_path))
    caller.wait_until_listening()
    caller.play(say(caller_voice, "Non merci, au revoir"))
    caller.wait_until_listening()
    caller.session.log.close()
    records = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    kinds = [r["event"] for r in records]
    for expected in (
        "session_start",
        "prompt",
        "listen",
        "speech_start",
        "speech_end",
        "asr_final",
        "intent",
        "bot_audio_start",
        "hangup",
        "session_end",
    ):
        assert expected in kinds, expected
    times = [r["t_ms"] for r in records]
    assert times == sorted(times), "events are in audio-clock order"
    assert records[-1]["outcome"]["type"] == "hangup"


def test_a_failed_transfer_is_told_to_the_caller_and_a_call_back_offered(flow, prompts) -> None:
    caller = Caller(make_session(flow, prompts, ScriptedRecognizer([])))
    caller.wait_until_listening()
    caller.session.dtmf("0")
    caller.wait_until_listening()
    assert caller.session.outcome is not None and caller.session.outcome.type == "transfer"
    caller.session.transfer_failed(480, "Temporarily Unavailable")
    caller.wait_until_listening()
    session = caller.session
    assert not session.ended, "the caller is not dropped"
    said = [p["text"] for p in session.log.of_type("prompt")]
    assert any("joindre un conseiller" in text for text in said)
    assert session.conversation.state == "rappel"
    assert session.log.of_type("transfer_failed")[0]["status"] == 480


def test_recording_is_announced_before_the_greeting(flow, prompts) -> None:
    session = make_session(flow, prompts, ScriptedRecognizer([]))
    session.announce_recording = True
    Caller(session).wait(100)
    first = session.log.of_type("prompt")[0]["text"]
    assert "enregistré" in first


def test_the_recording_notice_cannot_be_talked_over_but_the_greeting_after_it_can(
    flow, prompts, caller_voice
) -> None:
    from callbot.session.call_session import RECORDING_NOTICE

    session = make_session(flow, prompts, ScriptedRecognizer(["je veux parler à un conseiller"]))
    session.announce_recording = True
    caller = Caller(session)
    notice_ms = len(prompts.get(RECORDING_NOTICE)) * 500 // RATE
    caller.wait(300)
    caller.play(say(caller_voice, "Allô"))  # over the notice: ignored, the notice plays on
    assert caller.t < notice_ms and session.log.of_type("barge_in") == []
    caller.wait(notice_ms - caller.t + 600)  # the greeting is playing
    interrupt_at = caller.t
    caller.play(say(caller_voice, "Je veux parler à un conseiller"))
    caller.wait_until_listening()
    barge = session.log.of_type("barge_in")
    assert len(barge) == 1 and barge[0]["t_ms"] >= interrupt_at
    assert session.outcome is not None and session.outcome.type == "transfer"


def test_a_caller_quieter_than_the_bot_can_still_interrupt_it(flow, prompts, caller_voice) -> None:
    """Callers arrive ~10 dB below the bot's prompts on a phone line; the echo guard must let them in."""
    recognizer = ScriptedRecognizer(["je veux parler à un conseiller"])
    caller = Caller(make_session(flow, prompts, recognizer))
    caller.wait(600)
    quieter = (
        np.frombuffer(say(caller_voice, "Je veux parler à un conseiller"), dtype="<i2") * 0.316
    ).astype("<i2")
    caller.play(quieter.tobytes())
    caller.wait_until_listening()
    assert caller.session.log.of_type("barge_in")
    assert caller.session.outcome is not None and caller.session.outcome.type == "transfer"


def test_a_call_to_a_closed_queue_on_christmas_day_ends_with_a_call_back_offer(
    flow,
    prompts,
    tmp_path: Path,
) -> None:
    """Real queue hours and French holidays (callbot.queues) decide; the caller is never left hanging."""
    from callbot.config import Settings
    from callbot.session.stack import SpeechStack

    queues = tmp_path / "queues.yaml"
    queues.write_text(
        "queues:\n  service_client:\n    sip_uri: sip:service-client@pbx.test\n"
        '    hours:\n      lundi-vendredi: ["09:00-18:00"]\n    holidays: FR\n',
        encoding="utf-8",
    )
    settings = Settings(queues=queues)
    stack = SpeechStack(settings, engine=_ScriptedEngine(), synthesizer=prompts.synth, flow=flow)
    christmas = datetime(2026, 12, 25, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))  # a Friday, public holiday
    session = stack.new_session(call_id="xmas", origin=christmas, caller="+33612345678")
    caller = Caller(session)
    caller.wait_until_listening()
    session.dtmf("0")
    caller.wait_until_listening()
    said = " ".join(p["text"] for p in session.log.of_type("prompt"))
    assert "absents" in said and "lundi 28 décembre à 9 h" in said
    assert not session.ended and session.conversation.state == "rappel"


def test_a_call_back_on_a_holiday_is_refused_on_the_line_with_the_nearest_free_slots(
    flow,
    prompts,
    tmp_path: Path,
) -> None:
    """The wanted time is checked against the queue's hours, holidays and slot capacity while the caller
    is still on the line (real queue file, real SQLite call-back store)."""
    from callbot.callbacks import CallbackStore
    from callbot.config import Settings
    from callbot.session.stack import SpeechStack

    queues = tmp_path / "queues.yaml"
    queues.write_text(
        "queues:\n  service_client:\n    sip_uri: sip:service-client@pbx.test\n"
        '    hours:\n      lundi-vendredi: ["09:00-18:00"]\n    holidays: FR\n',
        encoding="utf-8",
    )
    store = CallbackStore(tmp_path / "var")
    store.migrate()
    stack = SpeechStack(
        Settings(queues=queues),
        engine=_ScriptedEngine(),
        synthesizer=prompts.synth,
        flow=flow,
        callback_store=store,
    )
    eve = datetime(2026, 12, 24, 11, 0, tzinfo=ZoneInfo("Europe/Paris"))
    conversation = stack.new_session(call_id="eve", origin=eve, caller="+33612345678").conversation
    conversation.start()
    result = conversation.hear("je voudrais être rappelé demain à dix heures")
    said = " ".join(a.text for a in result.actions if hasattr(a, "text"))
    assert "férié" in said
    assert "lundi 28 décembre" in said, said
    assert not any(type(a).__name__ == "ScheduleCallback" for a in result.actions)


class _ScriptedEngine:
    name = "scripted"
    description = "scripted recogniser (tests)"

    def new_recognizer(self) -> Recognizer:
        return ScriptedRecognizer([])


def test_keys_typed_over_the_prompt_are_one_answer_for_the_wait_behind_it(flow, prompts) -> None:
    """2 over the greeting (call-back), then 1 1 4 over "Quand souhaitez-vous être rappelé ?": the three
    keys are one answer (tomorrow at 14 h), as the wait queued behind that prompt expects."""
    session = make_session(flow, prompts, ScriptedRecognizer([]))
    caller = Caller(session)
    caller.wait(1000)
    session.dtmf("2")  # over the greeting
    caller.wait(500)
    for key in "114":
        session.dtmf(key)
        caller.wait(300)
    caller.wait_until_listening()
    assert [turn.dtmf for turn in session.turns] == ["2", "114"]
    assert "demain, mardi 24 novembre, à 14 h" in (session.turns[-1].bot or "")
    assert len(session.log.of_type("listen")) == 2  # waits cut short by a key are not replayed later


def test_the_agent_reads_which_prompts_the_caller_cut_short(flow, prompts, caller_voice) -> None:
    """The caller talks over the greeting and asks for a person: the transfer context shows the
    greeting as interrupted (the words that played) and the question after it as not heard."""
    recognizer = ScriptedRecognizer(["je veux parler à un conseiller"])
    session = make_session(flow, prompts, recognizer)
    caller = Caller(session)
    caller.wait(2000)  # about a third of the greeting
    caller.play(say(caller_voice, "Je veux parler à un conseiller."))
    caller.wait(3000)  # the turn ends, the bot answers
    context = session.conversation.context()
    greeting, question = context.transcript[0], context.transcript[1]
    assert greeting.startswith("Bot (interrompu) : Bonjour et bienvenue") and greeting.endswith("…")
    assert question == "Bot (non entendu) : Que puis-je faire pour vous ?"
    cut = session.log.of_type("prompt_cut")
    assert [event["played_ms"] > 0 for event in cut] == [True, False]


#: What the `asr_closed_set` event says (accepted, ask_back) for each decision on a store answer.
CLOSED_SET_DECISIONS = {"taken": (True, False), "asked back": (False, True), "dropped": (False, False)}


def store_answered(flow, prompts, voice: PicoSynthesizer, recognizer: Recognizer, answer: str) -> Caller:
    """A caller who asks for the opening hours, then answers "Pour quel magasin ?" with `answer`."""
    session = make_session(flow, prompts, recognizer)
    return caller_saying(session, voice, "Quels sont vos horaires ?", answer)


class SecondLookRecognizer(ScriptedRecognizer):
    """A recogniser with a second look at a short turn (`rescore_short_turn`) that scores otherwise."""

    def __init__(self, lines: Sequence[str], second_look: dict[str, float] | None) -> None:
        super().__init__(lines)
        self.second_look = second_look
        self.looked = 0

    def rescore_short_turn(self, phrases: Sequence[str]) -> tuple[list[float], list[float]] | None:
        self.looked += 1
        if self.second_look is None:
            return None  # the turn was not short
        return [self.second_look.get(phrase, -9.0) for phrase in phrases], [-6.0] * len(phrases)


@pytest.mark.parametrize(
    ("first", "second", "reading", "decision"),
    [
        # a bare "Lyon" heard "C'est.": Marseille barely ahead, Lyon clearly ahead on the second look
        ({"Marseille": -4.0, "Lyon": -4.1}, {"Lyon": -3.7, "Marseille": -5.2}, "Lyon Part-Dieu", "taken"),
        (
            {"Marseille": -4.0, "Lyon": -4.1},
            {"Lyon": -4.3, "Marseille": -5.0},
            "Lyon Part-Dieu",
            "asked back",
        ),
        ({"Marseille": -4.0, "Lyon": -4.1}, None, "Marseille Vieux-Port", "dropped"),  # a long turn
        # a second pick that does not lead (too unlikely) leaves the first one, asked back
        (
            {"Marseille": -4.5, "Lyon": -4.8},
            {"Lyon": -5.4, "Marseille": -5.8},
            "Marseille Vieux-Port",
            "asked back",
        ),
        # the first pick leads further: it stands, and is asked back
        (
            {"Marseille": -3.5, "Lyon": -3.8},
            {"Lyon": -4.5, "Marseille": -4.6},
            "Marseille Vieux-Port",
            "asked back",
        ),
    ],
)
def test_a_short_answer_not_clearly_picked_gets_a_second_look(
    flow, prompts, caller_voice, first, second, reading, decision
):
    recognizer = SecondLookRecognizer(["quels sont vos horaires", "C'est.", "oui"], second)
    recognizer.closed_set = first  # type: ignore[attr-defined]
    caller = store_answered(flow, prompts, caller_voice, recognizer, "Lyon.")
    [event] = caller.session.log.of_type("asr_closed_set")
    assert recognizer.looked == 1
    if second is None:
        assert event["second_look"] is None  # the turn was not short
    else:
        assert event["second_look"]["reading"] in ("Lyon Part-Dieu", "Marseille Vieux-Port")
        assert event["second_look"].get("kept_the_first", False) == (reading != "Lyon Part-Dieu")
    assert event["reading"] == reading
    assert (event["accepted"], event["ask_back"]) == CLOSED_SET_DECISIONS[decision]
    if decision == "taken":
        assert "Lyon Part-Dieu" in (caller.session.turns[1].bot or "")


def test_a_second_look_that_fails_leaves_the_first_pick(flow, prompts, caller_voice):
    """Scoring is a second chance: its failure is logged and must not cost the call."""

    class FailingLook(SecondLookRecognizer):
        def rescore_short_turn(self, phrases: Sequence[str]) -> tuple[list[float], list[float]] | None:
            raise RuntimeError("encoder failed")

    recognizer = FailingLook(["quels sont vos horaires", "C'est.", "oui"], None)
    recognizer.closed_set = {"Marseille": -3.5, "Lyon": -3.8}  # type: ignore[attr-defined]
    caller = store_answered(flow, prompts, caller_voice, recognizer, "Marseille.")
    [error] = caller.session.log.of_type("asr_closed_set_error")
    assert "encoder failed" in error["error"]
    [event] = caller.session.log.of_type("asr_closed_set")
    assert event["second_look"] is None and event["ask_back"] and event["reading"] == "Marseille Vieux-Port"


def test_a_sure_closed_set_answer_gets_no_second_look(flow, prompts, caller_voice):
    """ "Paris" scored lower with the encoder on the full window: a sure first pick stands."""
    recognizer = SecondLookRecognizer(["quels sont vos horaires", "Torez."], {"Lyon": -1.0})
    recognizer.closed_set = {"Paris": -2.3, "Lyon": -6.0}  # type: ignore[attr-defined]
    caller = store_answered(flow, prompts, caller_voice, recognizer, "Paris.")
    [event] = caller.session.log.of_type("asr_closed_set")
    assert recognizer.looked == 0 and event["second_look"] is None
    assert event["reading"] == "Paris Rivoli" and event["accepted"]


@pytest.mark.parametrize(
    ("scores", "decision"),
    [
        ({"Celui de Marseille": -1.2, "Celui de Lille": -3.0}, "taken"),
        ({"Celui de Marseille": -1.2, "Celui de Lille": -1.5}, "asked back"),  # ahead, not clearly
        ({"Celui de Marseille": -4.5}, "asked back"),  # alone, but unlikely
        ({"Celui de Marseille": -1.2, "Celui de Lille": -1.3}, "dropped"),  # too close to tell
        ({"Celui de Marseille": -5.5}, "dropped"),  # too unlikely
    ],
)
def test_a_closed_set_answer_is_taken_when_clearly_ahead_and_asked_back_when_only_ahead(
    flow, prompts, caller_voice, scores, decision
):
    """ "Pour quel magasin ?" then an answer no free reading makes sense of: the audio is scored
    against the stores the question expects."""
    recognizer = ScriptedRecognizer(["quels sont vos horaires", "C'est lui, c'est ici.", "oui"])
    recognizer.closed_set = scores  # type: ignore[attr-defined]
    caller = store_answered(flow, prompts, caller_voice, recognizer, "Celui de Marseille.")
    answer = caller.session.turns[1]
    assert "Celui de Marseille" in recognizer.scored  # type: ignore[attr-defined]
    [event] = caller.session.log.of_type("asr_closed_set")
    assert event["reading"] == "Marseille Vieux-Port"
    assert (event["accepted"], event["ask_back"]) == CLOSED_SET_DECISIONS[decision]
    if decision == "taken":
        assert answer.transcript == "Marseille Vieux-Port" and "Marseille" in (answer.bot or "")
    elif decision == "asked back":
        assert answer.transcript == "C'est lui, c'est ici."
        assert answer.bot == "Marseille Vieux-Port, c'est bien ça ?"
        caller.play(say(caller_voice, "Oui."))
        caller.wait_until_listening()
        assert "Marseille" in (caller.session.turns[2].bot or "")  # the yes takes the store
    else:
        assert answer.transcript == "C'est lui, c'est ici." and "Je n'ai pas reconnu le magasin" in (
            answer.bot or ""
        )


@pytest.mark.parametrize(
    ("heard", "scores", "answered"),
    [
        (("Bisous à calendar.", ("quels sont vos horaires",)), {"À 15h.": -1.5}, True),
        (("Bisous à calendar.", ("quels sont vos horaires",)), {"À 15h.": -4.5}, False),  # no sure hour
        (("quels sont vos horaires", ()), {"À 15h.": -1.5}, False),  # the first reading keeps its meaning
    ],
)
def test_a_later_reading_that_changes_the_subject_gives_way_to_a_sure_hour(
    flow, prompts, caller_voice, heard, scores, answered
):
    """ "À quelle heure ?" then an N-best whose first reading means nothing and whose next one is another
    request (an opening-hours question): the day's times are scored; a sure hour is taken as the
    answer, else the new request is. A first reading that is another request is taken as said."""
    recognizer = ScriptedRecognizer(["je voudrais être rappelé", "jeudi", heard])
    recognizer.closed_set = scores  # type: ignore[attr-defined]
    caller = caller_saying(
        make_session(flow, prompts, recognizer),
        caller_voice,
        "Je voudrais être rappelé.",
        "Jeudi.",
        "Vers quinze heures.",
    )
    answer = caller.session.turns[2].bot or ""
    if answered:
        assert answer.startswith("Je vous rappelle jeudi 26 novembre à 15 h")
    else:
        assert answer.startswith("Pour quel magasin ?")


@pytest.mark.parametrize(
    ("scores", "answered"),
    [
        ({"Celui de Lyon": -1.7}, True),
        ({"Celui de Lyon": -4.5}, False),  # only leading: the other request is taken as heard
    ],
)
def test_a_later_reading_that_changes_the_subject_gives_way_to_a_sure_store(
    flow, prompts, caller_voice, scores, answered
):
    """ "Quel magasin ?" then "Celui de Lyon" heard "C'est lui, c'est lié de lui.", whose third reading
    is another request (it was "C'est lui, c'est le client.", a transfer to customer service until
    "client" became a framing word): the stores are scored first, and a sure one is the answer."""
    readings = ("C'est lui, c'est lié de Louis.", "C'est lui, c'est pour les horaires.")
    heard = ("C'est lui, c'est lié de lui.", readings)
    recognizer = ScriptedRecognizer(["je voudrais l'adresse d'un magasin", heard])
    recognizer.closed_set = scores  # type: ignore[attr-defined]
    caller = caller_saying(
        make_session(flow, prompts, recognizer),
        caller_voice,
        "Je voudrais l'adresse d'un de vos magasins.",
        "Celui de Lyon.",
    )
    answer = caller.session.turns[1].bot or ""
    if answered:
        assert "Lyon Part-Dieu se trouve" in answer
    else:
        assert answer.startswith("Pour quel magasin ?")  # the opening hours asked, as heard


@pytest.mark.parametrize(
    ("scores", "found"),
    [
        ({"de Lille": -1.5, "de lui": -1.0}, True),
        ({"de Lille": -3.5, "de lui": -0.5}, False),  # far below what was heard: a store forced on
        ({"de Lille": -2.85, "de lui": -0.5}, False),  # "… de Nantes" heard "de nôme" got Lyon, 2.35 below
        ({"de Lille": -1.5, "de Lyon": -1.6, "de lui": -1.0}, False),  # too close to tell
    ],
)
def test_a_store_lost_at_the_end_of_a_request_is_scored_among_the_store_endings(
    flow, prompts, caller_voice, scores, found
):
    """ "Je voudrais l'adresse du magasin de Lille" heard "… du magasin de lui.": the stores' endings
    are scored after the request's own words, and a clear winner not far below what was heard names
    the store."""
    recognizer = ScriptedRecognizer(["Je voudrais l'adresse du magasin de lui."])
    recognizer.closed_set = scores  # type: ignore[attr-defined]
    caller = caller_saying(
        make_session(flow, prompts, recognizer), caller_voice, "Je voudrais l'adresse du magasin de Lille."
    )
    assert recognizer.scored_after == "Je voudrais l'adresse du magasin"  # type: ignore[attr-defined]
    assert recognizer.scored[0] == "de lui" and "de la Grand-Place" in recognizer.scored  # type: ignore[attr-defined]
    answer = caller.session.turns[0].bot or ""
    if found:
        assert "21 place du Général-de-Gaulle" in answer
    else:
        assert answer.startswith("Quel magasin ?")


@pytest.mark.parametrize(
    ("scores", "answer"),
    [
        ({"dimanche": -1.0, "du monde": -1.3}, "est fermé le dimanche 29 novembre"),
        ({"dimanche": -4.0, "du monde": -1.3}, "est ouvert aujourd'hui"),  # far below what was heard
        ({"dimanche": -1.0, "demain": -1.2, "du monde": -1.3}, "est ouvert aujourd'hui"),  # too close
    ],
)
def test_a_day_lost_at_the_end_of_an_hours_question_is_scored_among_the_days(
    flow, prompts, caller_voice, scores, answer
):
    """ "Est-ce que le magasin de Lille est ouvert dimanche ?" heard "… ouvert du monde ?": the days are
    scored after the question's own words, and a clear winner not far below what was heard is the day
    asked about; otherwise the hours of today, as heard."""
    recognizer = ScriptedRecognizer(["Est-ce que le magasin de Lille est ouvert du monde ?"])
    recognizer.closed_set = scores  # type: ignore[attr-defined]
    caller = caller_saying(
        make_session(flow, prompts, recognizer),
        caller_voice,
        "Est-ce que le magasin de Lille est ouvert dimanche ?",
    )
    assert recognizer.scored_after == "Est-ce que le magasin de Lille est ouvert"  # type: ignore[attr-defined]
    assert recognizer.scored[0] == "du monde" and "samedi" in recognizer.scored  # type: ignore[attr-defined]
    assert answer in (caller.session.turns[0].bot or "")


@pytest.mark.parametrize(
    ("heard", "scores", "answer"),
    [
        ("L'appel.", {"Marseille": -2.0, "Lyon": -4.0}, "Le magasin Marseille Vieux-Port se trouve"),
        ("L'appel.", {"Marseille": -4.3, "Lyon": -4.8}, "Marseille Vieux-Port, c'est bien ça ?"),  # leads
        ("L'appel.", {}, "Quand souhaitez-vous être rappelé"),  # nothing leads: the call-back as heard
        ("Je voudrais être rappelé.", {"Marseille": -2.0}, "Quand souhaitez-vous être rappelé"),
    ],
    ids=["sure", "leading", "nothing", "a sentence"],
)
def test_a_one_or_two_word_answer_that_changes_the_subject_is_read_as_not_understood(
    flow, prompts, caller_voice, heard, scores, answer
):
    """ "Quel magasin ?" then "Marseille" heard "L'appel." (a call-back request): one or two words that
    change the subject are read as if not understood, so the stores decide: a sure one is the answer,
    a leading one is asked back; a sentence keeps its meaning."""
    recognizer = ScriptedRecognizer(["je voudrais l'adresse d'un magasin", heard])
    recognizer.closed_set = scores  # type: ignore[attr-defined]
    caller = caller_saying(
        make_session(flow, prompts, recognizer),
        caller_voice,
        "Je voudrais l'adresse d'un de vos magasins.",
        "Marseille.",
    )
    assert (caller.session.turns[1].bot or "").startswith(answer)


@pytest.mark.parametrize(
    ("scores", "asked"),
    [
        ({"4, 5, 8, 1, 2, 9.": -1.2, "4, 108, 1, 2, 9.": -0.6}, True),
        ({"45, 81, 29.": -1.2, "4, 108, 1, 2, 9.": -0.6}, True),  # an order is as good as its best form
        ({"4, 5, 8, 1, 2, 9.": -3.0, "4, 108, 1, 2, 9.": -0.6}, False),  # far below what was heard
        ({"4, 5, 8, 1, 2, 9.": -4.5, "4, 108, 1, 2, 9.": -4.0}, False),  # a poor fit, whatever was heard
    ],
)
def test_a_known_order_a_digit_or_two_from_the_number_heard_is_asked_back(
    flow, prompts, caller_voice, scores, asked, tmp_path
):
    """ "Quel est votre numéro de commande ?" then "quatre, cinq, huit, un, deux, neuf" heard "4, 108,
    1, 2, 9." (no order has 4108129): the known orders a digit or two away are scored after the
    answer's own words, written as callers say them, and a clear winner not far below what was heard
    is asked back; a yes gives its status."""
    recognizer = ScriptedRecognizer(["je voudrais suivre ma commande", "4, 108, 1, 2, 9.", "oui c'est ça"])
    recognizer.closed_set = scores  # type: ignore[attr-defined]
    caller = caller_saying(
        make_session(flow, prompts, recognizer, tmp_path),
        caller_voice,
        "Je voudrais suivre ma commande.",
        "Quatre, cinq, huit, un, deux, neuf.",
        "Oui, c'est ça.",
    )
    assert recognizer.scored[0] == "4, 108, 1, 2, 9."  # type: ignore[attr-defined]
    assert "458 129." in recognizer.scored  # type: ignore[attr-defined]
    [near] = [e for e in events(tmp_path) if e["event"] == "asr_order_near"]
    assert (near["reading"], near["accepted"]) == ("458129.", asked)
    assert near["margin"] is None  # the one order near: nothing else in the running (JSON has no inf)
    second, third = caller.session.turns[1].bot or "", caller.session.turns[2].bot or ""
    if asked:
        assert second == "La commande 458129, c'est bien ça ?"
        assert third.startswith("Votre commande 458129 est expédiée.")
    else:
        assert second.startswith("Je ne trouve aucune commande avec le numéro 4108129.")


def test_an_order_answer_heard_a_digit_short_is_asked_back_as_the_near_order(
    flow, prompts, caller_voice, tmp_path
):
    """ "quatre, cinq, huit, un, trois, zéro" heard "C'est le cas 1, 8, 1, 3, 0.": no number the dialog
    takes, so nothing is understood; the known orders a digit or two from 18130 are scored all the
    same, and the one the audio says is asked back instead of "Je n'ai pas saisi le numéro"."""
    recognizer = ScriptedRecognizer(["je voudrais suivre ma commande", "C'est le cas 1, 8, 1, 3, 0.", "oui"])
    recognizer.closed_set = {"4, 5, 8, 1, 3, 0.": -1.0, "1, 8, 1, 3, 0.": -0.7}  # type: ignore[attr-defined]
    caller = caller_saying(
        make_session(flow, prompts, recognizer, tmp_path),
        caller_voice,
        "Je voudrais suivre ma commande.",
        "C'est le quatre, cinq, huit, un, trois, zéro.",
        "Oui.",
    )
    [near] = [e for e in events(tmp_path) if e["event"] == "asr_order_near"]
    assert (near["reading"], near["accepted"]) == ("C'est le cas 458130.", True)
    assert caller.session.turns[1].bot == "La commande 458130, c'est bien ça ?"
    assert (caller.session.turns[2].bot or "").startswith("Votre commande 458130")


def order_asked_back_then_keyed(
    flow, prompts, voice, tmp_path: Path, keys: str, asked_again: bool
) -> tuple[TurnRecord, int]:
    """ "S'agit-il toujours de la commande 458129 ?" (asked again with its keys after an answer not
    understood when `asked_again`), then `keys` typed 200 ms apart: the keyed turn, and how long the
    session waited after the last key before answering."""
    lines = ["où en est ma commande 458129", "Et elle arrive quand exactement ?", "Bla bla."]
    said = ["Où en est ma commande quatre cinq huit un deux neuf ?", "Et elle arrive quand exactement ?"]
    caller = caller_saying(
        make_session(flow, prompts, ScriptedRecognizer(lines), tmp_path),
        voice,
        *([*said, "Bla bla."] if asked_again else said),
    )
    asked = caller.session.turns[-1].bot or ""
    assert asked.startswith("Pardon") == asked_again and "S'agit-il toujours de la commande 458129 ?" in asked
    for key in keys:
        caller.session.dtmf(key)
        caller.wait(200)
    caller.wait(DIGIT_TIMEOUT_MS)
    caller.wait_until_listening()
    keyed = caller.session.turns[-1]
    pressed = [e["t_ms"] for e in events(tmp_path) if e["event"] == "dtmf"]
    return keyed, keyed.start_ms - pressed[-1]


@pytest.mark.parametrize(
    ("keys", "answer"),
    [("1", "Votre commande 458129 est expédiée."), ("471942", "Votre commande 471942 est annulée")],
    ids=["yes by key", "another order typed"],
)
def test_a_key_that_answers_a_guess_asked_again_with_its_keys_is_taken_without_the_full_wait(
    flow, prompts, caller_voice, keys, answer, tmp_path
):
    """Once told "tapez 1 pour oui, 2 pour non", a lone 1 is the yes after a short wait, not the 3 s a
    keyed number gets between its digits; a number typed there is still taken whole."""
    keyed, waited = order_asked_back_then_keyed(flow, prompts, caller_voice, tmp_path, keys, asked_again=True)
    assert (keyed.dtmf, (keyed.bot or "")[: len(answer)]) == (keys, answer)
    expected = ANSWER_KEY_WAIT_MS if keys == "1" else DIGIT_TIMEOUT_MS
    assert expected - 20 <= waited <= expected + 20


def test_a_lone_key_to_a_guess_asked_the_first_time_waits_for_more(flow, prompts, caller_voice, tmp_path):
    """No keys offered yet: a 1 may start a number typed with a pause, so it gets the full wait."""
    keyed, waited = order_asked_back_then_keyed(flow, prompts, caller_voice, tmp_path, "1", asked_again=False)
    assert keyed.dtmf == "1" and (keyed.bot or "").startswith("Votre commande 458129 est expédiée.")
    assert DIGIT_TIMEOUT_MS - 20 <= waited <= DIGIT_TIMEOUT_MS + 20


def answer_to_a_store_asked_back(flow, prompts, caller_voice, said: str, later: tuple[str, ...]) -> str:
    """What the bot says to `said`, heard "Merci." with the `later` N-best readings, after it asked
    "Marseille Vieux-Port, c'est bien ça ?"."""
    recognizer = ScriptedRecognizer(["je voudrais l'adresse d'un magasin", "L'appel.", ("Merci.", later)])
    recognizer.closed_set = {"Marseille": -4.3, "Lyon": -4.8}  # type: ignore[attr-defined]
    caller = caller_saying(
        make_session(flow, prompts, recognizer),
        caller_voice,
        "Je voudrais l'adresse d'un de vos magasins.",
        "Marseille.",
        said,
    )
    assert caller.session.turns[1].bot == "Marseille Vieux-Port, c'est bien ça ?"
    return caller.session.turns[2].bot or ""


def test_while_a_guess_is_asked_back_a_later_reading_counts_only_as_a_yes_or_a_no(
    flow, prompts, caller_voice
):
    """ "Oui." heard "Merci.", its second reading "La fille.", its third "Oui.": the yes, not Lille."""
    answer = answer_to_a_store_asked_back(flow, prompts, caller_voice, "Oui.", ("La fille.", "Oui."))
    assert answer.startswith("Le magasin Marseille Vieux-Port se trouve")


def test_while_a_guess_is_asked_back_a_later_reading_may_still_ask_for_a_person(flow, prompts, caller_voice):
    said = "Je veux parler à un conseiller."
    assert "conseiller" in answer_to_a_store_asked_back(flow, prompts, caller_voice, said, (said,))


_AFFICURA = "une afficura de l'effort aux magasins de Lille"


@pytest.mark.parametrize(
    ("scores", "found"),
    [
        ({"une applique murale Laiton aux magasins de Lille": -2.15, _AFFICURA: -0.93}, True),
        ({"une applique murale Laiton aux magasins de Lille": -3.5, _AFFICURA: -0.5}, False),  # far below
        (
            {
                "une applique murale Laiton aux magasins de Lille": -1.5,
                "une ampoule LED à filament aux magasins de Lille": -1.6,
                _AFFICURA: -1.0,
            },
            False,  # too close to tell
        ),
    ],
)
def test_a_product_lost_in_a_stock_request_is_scored_among_the_products_said_there(
    flow, prompts, caller_voice, scores, found
):
    """ "Est-ce qu'il vous reste une applique murale Laiton au magasin de Lille ?" heard "… une afficura
    de l'effort aux magasins de Lille.": each product is scored where the unknown words were, after the
    request's own words, and a clear winner not far below what was heard names the product."""
    recognizer = ScriptedRecognizer(["Oui, il vous reste une afficura de l'effort aux magasins de Lille."])
    recognizer.closed_set = scores  # type: ignore[attr-defined]
    caller = caller_saying(
        make_session(flow, prompts, recognizer),
        caller_voice,
        "Est-ce qu'il vous reste une applique murale Laiton au magasin de Lille ?",
    )
    assert recognizer.scored_after == "Oui, il vous reste"  # type: ignore[attr-defined]
    assert recognizer.scored[0] == _AFFICURA  # type: ignore[attr-defined]
    [event] = caller.session.log.of_type("asr_product_in_request")
    assert event["accepted"] is found
    answer = caller.session.turns[0].bot or ""
    if found:
        assert "applique murale Laiton" in answer and "Lille Grand Place" in answer
    else:
        assert answer.startswith("Quel produit")


def test_the_recogniser_is_primed_with_the_kind_of_answer_the_question_expects(flow, prompts, caller_voice):
    """The dialog's `Listen.primer` reaches the recogniser at the start of the caller's next turn: a
    time while the call-back time is asked, nothing at the menu or for the read-back's yes or no."""
    recognizer = ScriptedRecognizer(["je voudrais être rappelé", "demain à 15 h", "oui"])
    caller_saying(
        make_session(flow, prompts, recognizer),
        caller_voice,
        "Je voudrais être rappelé.",
        "Demain à quinze heures.",
        "Oui.",
    )
    assert recognizer.primers == ["", SLOT_PRIMERS["datetime"], ""]


@pytest.mark.parametrize(
    ("scores", "taken"),
    [
        ({"À 15h.": -1.5}, True),
        ({"À 15h.": -2.5, "À 15h30.": -2.85}, True),  # a good score, a smaller lead: the read-back confirms
        ({"À 15h.": -2.5, "À 15h30.": -2.7}, False),  # a near-tie
        ({"À 15h.": -3.5, "À 15h30.": -3.9}, False),  # a poorer score needs the full lead
        ({"À 15h.": -4.5}, False),
    ],
)
def test_an_hour_from_the_closed_set_is_taken_when_clearly_ahead_and_never_asked_back(
    flow, prompts, caller_voice, scores, taken
):
    """ "Jeudi 26 novembre, d'accord. À quelle heure ?" then an answer no free reading makes sense of:
    the day's times are scored; a clear lead is read back as the call-back time, and so is a good score
    a little ahead (the read-back is its confirmation); a near-tie is not asked back (near-ties between
    hours were mostly wrong, and the time is read back anyway)."""
    recognizer = ScriptedRecognizer(["je voudrais être rappelé", "jeudi", "Bisous à calendar."])
    recognizer.closed_set = scores  # type: ignore[attr-defined]
    caller = caller_saying(
        make_session(flow, prompts, recognizer),
        caller_voice,
        "Je voudrais être rappelé.",
        "Jeudi.",
        "Plutôt à quinze heures.",
    )
    assert "À quinze heures." in recognizer.scored  # type: ignore[attr-defined]
    [event] = caller.session.log.of_type("asr_closed_set")
    assert (event["reading"], event["accepted"], event["ask_back"]) == ("le 26 novembre à 15 h", taken, False)
    answer = caller.session.turns[2].bot or ""
    if taken:
        assert answer.startswith("Je vous rappelle jeudi 26 novembre à 15 h")
    else:
        assert "Je n'ai pas compris le moment" in answer


@pytest.mark.parametrize(
    ("reworded", "expected"),
    [
        ({}, "Nous ne pouvons pas rappeler ce numéro. Au revoir."),
        (
            {"phone_not_allowed": "Ce numéro est hors de notre zone.", "goodbye": "Bonne journée."},
            "Ce numéro est hors de notre zone. Bonne journée.",
        ),
    ],
    ids=["default words", "the flow's callback_refused words"],
)
def test_a_call_back_the_store_refuses_is_explained_in_french_instead_of_confirmed(
    flow, prompts, tmp_path: Path, reworded: dict[str, str], expected: str
) -> None:
    """A caller from New Caledonia (an international call for the centre) books a call-back by keypad:
    2 (call-back), 1 1 4 (tomorrow at 14 h), 1 (yes to the number read back). The store refuses the
    number, so the caller hears why ("Nous ne pouvons pas rappeler ce numéro.", or the flow's words for
    it), never "c'est noté", and nothing is stored (real SQLite store with its default limits, no queues
    file)."""
    import dataclasses

    from callbot.callbacks import CallbackStore
    from callbot.config import Settings
    from callbot.dialog.flow import CallbackRefusalPrompts
    from callbot.session.stack import SpeechStack

    flow = dataclasses.replace(flow, callback_refused=CallbackRefusalPrompts(**reworded))

    store = CallbackStore(tmp_path / "var")
    store.migrate()
    stack = SpeechStack(
        Settings(), engine=_ScriptedEngine(), synthesizer=prompts.synth, flow=flow, callback_store=store
    )
    caller_id = "+687751234"

    class StoreChannel(RecordingChannel):
        def schedule_callback(self, action) -> None:
            stack.store_callback(action, caller=caller_id, call_id="nc-1")

    session = stack.new_session(call_id="nc-1", origin=NOW, caller=caller_id, channel=StoreChannel())
    caller = Caller(session)
    caller.wait(1000)
    session.dtmf("2")
    caller.wait_until_listening()
    for key in "114":
        session.dtmf(key)
        caller.wait(300)
    caller.wait_until_listening()
    session.dtmf("1")
    caller.wait_until_listening()

    said = " ".join(p["text"] for p in session.log.of_type("prompt"))
    assert expected in said, said
    assert "noté" not in said
    (refusal,) = session.log.of_type("callback_refused")
    assert refusal["code"] == "phone_not_allowed"
    assert session.outcome is not None and session.outcome.reason == "callback refused: phone_not_allowed"
    assert store.list() == []
    store.close()


# ------------------------------------------------------------------------- numbers read out in groups
class ResumingRecognizer(ScriptedRecognizer):
    """A recogniser that can take its last turn up again (as Whisper's does): one turn's audio grows."""

    def __init__(self, lines: Sequence[str]) -> None:
        super().__init__(lines)
        self.resumed = 0

    def resume_turn(self) -> bool:
        self.resumed += 1
        return True


def saying_with_a_pause(voice: PicoSynthesizer, first: str, then: str) -> bytes:
    """`first`, a pause of about a second (longer than the end of a turn), then `then` (the rest of a
    number). Pico's own silences around its words make most of the pause."""
    return voice.synthesize(first, RATE) + silence(RATE, 300) + say(voice, then)


def until_held(caller: Caller, limit_ms: int = 3000) -> None:
    """Let the line go quiet until the session holds the caller's turn."""
    end = caller.t + limit_ms
    while not caller.session.log.of_type("turn_held") and caller.t < end:
        caller.wait(FRAME_MS)


def caller_pausing(session: CallSession, voice: PicoSynthesizer, first: str, then: str) -> None:
    """Once the bot listens, a caller says `first`, pauses longer than the end of a turn, then says
    `then`; until the bot listens again."""
    caller = Caller(session)
    caller.wait_until_listening()
    caller.play(saying_with_a_pause(voice, first, then))
    caller.wait_until_listening()


def caller_held(session: CallSession, voice: PicoSynthesizer) -> Caller:
    """A caller who says "Ma commande numéro quatre" once the bot listens and stops there: returned once
    the session holds the turn."""
    caller = Caller(session)
    caller.wait_until_listening()
    caller.play(voice.synthesize("Ma commande numéro quatre", RATE))
    until_held(caller)
    return caller


def test_a_turn_that_stops_inside_an_order_number_waits_for_the_rest(flow, prompts, caller_voice) -> None:
    """ "… la commande quatre, sept, un, neuf, quatre" then, after a pause longer than the end of a turn,
    "deux": the bot does not answer the five digits; the same turn goes on and is read whole."""
    recognizer = ResumingRecognizer(
        [
            "je voudrais des nouvelles de la commande 4 7 1 9 4",
            "je voudrais des nouvelles de la commande 4 7 1 9 4 2",
        ]
    )
    session = make_session(flow, prompts, recognizer)
    caller = Caller(session)
    caller.wait_until_listening()
    started = caller.t
    caller.play(
        saying_with_a_pause(
            caller_voice, "Des nouvelles de la commande quatre, sept, un, neuf, quatre", "deux"
        )
    )
    caller.wait_until_listening()

    [turn] = session.turns
    assert turn.slots == {"numero_commande": "471942"}
    assert "471942" in (turn.bot or "")
    assert recognizer.resumed == 1 and len(recognizer.turn_audio) == 1  # one turn, its audio kept
    assert turn.start_ms - started < 600  # the turn starts with the first words, not with "deux"
    [held] = session.log.of_type("turn_held")
    [went_on] = session.log.of_type("speech_continued")
    assert went_on["t_ms"] < held["until_ms"]


def test_a_held_turn_is_answered_when_nothing_follows(flow, prompts, caller_voice) -> None:
    """Nothing more after "ma commande numéro quatre": the bot answers after the longer wait."""
    recognizer = ResumingRecognizer(["ma commande numéro 4"])
    session = make_session(flow, prompts, recognizer)
    caller = caller_held(session, caller_voice)
    [held] = session.log.of_type("turn_held")
    assert not session.waiting_for_input and not session.turns  # the bot holds its answer
    caller.wait_until_listening()

    [turn] = session.turns
    assert turn.intent == "suivi_commande" and recognizer.resumed == 0
    assert turn.response_ms is not None and turn.response_ms >= 600 + NUMBER_HOLD_MS
    [answer] = [p for p in session.log.of_type("prompt") if p["t_ms"] >= held["until_ms"]][:1]
    assert "numéro" in answer["text"]


def test_a_recogniser_that_cannot_go_on_has_both_texts_joined(flow, prompts, caller_voice) -> None:
    recognizer = ScriptedRecognizer(["je voudrais des nouvelles de la commande 4 7 1", "9 4 2"])
    session = make_session(flow, prompts, recognizer)
    caller_pausing(session, caller_voice, "La commande quatre, sept, un", "neuf, quatre, deux")

    [turn] = session.turns
    assert turn.transcript == "je voudrais des nouvelles de la commande 4 7 1 9 4 2"
    assert turn.slots == {"numero_commande": "471942"}


def test_a_number_said_whole_is_answered_without_waiting(flow, prompts, caller_voice) -> None:
    recognizer = ResumingRecognizer(["je voudrais des nouvelles de la commande 4 7 1 9 4 2"])
    session = make_session(flow, prompts, recognizer)
    caller_saying(session, caller_voice, "La commande quatre, sept, un, neuf, quatre, deux")

    assert not session.log.of_type("turn_held")
    assert session.turns[0].response_ms is not None and session.turns[0].response_ms < 600 + NUMBER_HOLD_MS


def test_a_key_pressed_while_a_turn_is_held_answers_the_words_first(flow, prompts, caller_voice) -> None:
    recognizer = ResumingRecognizer(["ma commande numéro 4"])
    session = make_session(flow, prompts, recognizer)
    caller = caller_held(session, caller_voice)
    assert session.log.of_type("turn_held") and not session.turns
    for key in "471942#":
        session.dtmf(key)
    caller.wait_until_listening()

    assert [(t.transcript, t.dtmf) for t in session.turns] == [("ma commande numéro 4", None), ("", "471942")]
    assert session.turns[1].slots == {"numero_commande": "471942"}


# ------------------------------------------------------------------------- a call-back time in the request
@pytest.mark.parametrize(
    ("scores", "answer"),
    [
        ({"mercredi": -1.9, "vers 16 heures": -1.2}, "Je vous rappelle mercredi 25 novembre à 16 h"),
        ({"mercredi": -1.9}, "Mercredi 25 novembre, d'accord. À quelle heure ?"),  # no hour leads
        ({"mercredi": -4.6}, "Quand souhaitez-vous être rappelé ?"),  # no day sure
    ],
    ids=["day and hour", "day only", "nothing sure"],
)
def test_a_call_back_time_heard_as_other_words_after_the_verb_is_scored(
    flow, prompts, caller_voice, scores, answer
):
    """ "… me rappeler mercredi à seize heures ?" heard "… me rappeler très bien chez eux.": the days are
    scored after the request's words, then the hours after the day found; the time is read back."""
    recognizer = ScriptedRecognizer(["Alors voilà, on pourrait me rappeler très bien chez eux."])
    recognizer.closed_set = scores  # type: ignore[attr-defined]
    caller = caller_saying(
        make_session(flow, prompts, recognizer),
        caller_voice,
        "On pourrait me rappeler mercredi à seize heures ?",
    )
    assert (caller.session.turns[0].bot or "").startswith(answer)
    [event] = caller.session.log.of_type("asr_time_in_request")
    assert event["day"]["reading"] == "le 25 novembre" and event["heard"] == "très bien chez eux"


def test_the_hours_after_a_day_heard_are_scored_after_that_day(flow, prompts, caller_voice) -> None:
    recognizer = ScriptedRecognizer(["Rappelez-moi après demain et en geur."])
    recognizer.closed_set = {"à 11 heures": -1.0}  # type: ignore[attr-defined]
    caller = caller_saying(
        make_session(flow, prompts, recognizer), caller_voice, "Rappelez-moi après-demain à onze heures"
    )
    assert recognizer.scored_after == "Rappelez-moi après demain"  # type: ignore[attr-defined]
    assert (caller.session.turns[0].bot or "").startswith("Je vous rappelle mercredi 25 novembre à 11 h")


def test_a_turn_held_after_talking_over_the_greeting_is_answered_once(flow, prompts, caller_voice) -> None:
    """The caller talks over the greeting (a wait is then queued behind it, with its no-input timer) and
    stops inside an order number: the hold does not let the no-input timer answer the turn a second time."""
    recognizer = ResumingRecognizer(["ma commande numéro 4"])
    quick = flow.settings.model_copy(update={"no_input_timeout_ms": 1500})  # its deadline passes mid-turn
    session = make_session(dataclasses.replace(flow, settings=quick), prompts, recognizer)
    caller = Caller(session)
    caller.wait(400)
    caller.play(caller_voice.synthesize("Ma commande numéro quatre", RATE) + silence(RATE, 3000))
    caller.wait_until_listening()
    assert session.log.of_type("turn_held") and not session.log.of_type("no_input")
    [turn] = session.turns
    assert turn.intent == "suivi_commande"


def test_a_hang_up_during_a_hold_keeps_the_caller_s_last_words(flow, prompts, caller_voice) -> None:
    recognizer = ResumingRecognizer(["ma commande numéro 4"])
    session = make_session(flow, prompts, recognizer)
    caller_held(session, caller_voice)
    session.hangup()
    assert [t.transcript for t in session.turns] == ["ma commande numéro 4"]
    assert session.outcome is not None and session.outcome.type == "caller_hangup"


def test_a_turn_that_goes_on_keeps_its_words_when_the_second_reading_is_empty(
    flow, prompts, caller_voice
) -> None:
    recognizer = ResumingRecognizer(["je voudrais des nouvelles de la commande 4 7 1 9 4", ""])
    session = make_session(flow, prompts, recognizer)
    caller_pausing(
        session, caller_voice, "Des nouvelles de la commande quatre, sept, un, neuf, quatre", "deux"
    )
    [turn] = session.turns
    assert turn.transcript == "je voudrais des nouvelles de la commande 4 7 1 9 4"
    assert not session.log.of_type("asr_empty")


class WordTimingRecognizer(ResumingRecognizer):
    """Gives each reading's words with times in its turn's audio, as Whisper does: a reading that goes
    on puts its new last word where the audio read before ended."""

    def __init__(self, lines: Sequence[str]) -> None:
        super().__init__(lines)
        self.read_ms: int | None = None

    def finish(self) -> Hypothesis:
        hypothesis = super().finish()
        audio_ms = len(self.turn_audio[-1]) // 32  # 16 kHz PCM16
        said = hypothesis.text.split()
        words = [Word(word, 10 * index, 10 * index + 10) for index, word in enumerate(said)]
        if self.read_ms is not None:
            words[-1] = Word(said[-1], self.read_ms, self.read_ms + 200)
        self.read_ms = audio_ms
        return replace(hypothesis, words=tuple(words))


def test_the_words_after_the_pause_of_a_turn_that_went_on_keep_their_times(
    flow, prompts, caller_voice
) -> None:
    """The turn is read again without its pause: the word said after it ("2") is put back at its time
    on the audio clock, after the pause, not where the audio read before ended."""
    recognizer = WordTimingRecognizer(["la commande 4 7 1 9 4", "la commande 4 7 1 9 4 2"])
    session = make_session(flow, prompts, recognizer)
    caller_pausing(session, caller_voice, "La commande quatre, sept, un, neuf, quatre", "deux")
    [held] = session.log.of_type("turn_held")
    [went_on] = session.log.of_type("speech_continued")
    last_word = session.log.of_type("asr_final")[-1]["words"][-1]
    assert last_word[0] == "2"
    assert held["t_ms"] < last_word[1] <= went_on["t_ms"]  # from the new speech's pre-roll on
