"""`callbot serve` end to end: the real conversation (Whisper, Pico, the retail flow) behind real SIP.

One gateway for the module (`python -m callbot.cli serve --asr whisper`: supervisor, a pjsua2 worker, a
conversation host that loads Whisper once). SIPp callers on 127.0.0.1 speak Pico caller recordings
(tests/fixtures/callers) or press keys, and the tests read what came back: the REFER and its context
headers, the call's stereo recording (bot on the right) run through Whisper as a listener would hear it,
and the call's JSON-lines event log.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
import yaml

from callbot.asr import RecognizerEngine, load_engine
from callbot.audio.wav import read_wav
from callbot.dialog import Conversation, default_flow_path, load_flow
from callbot.dialog.actions import Say
from callbot.dialog.french import WEEKDAYS
from callbot.dialog.nlu import PARIS
from callbot.dialog.nlu.normalize import normalize
from callbot.session.call_session import RECORDING_NOTICE
from callbot.sip.context import decode_user_to_user
from callbot.sip.rtp_pcap import write_keys_pcap
from callbot.sip.testing import (
    SCENARIOS,
    SIPP_PCAPS,
    ServeHandle,
    SippRun,
    frame_levels,
    free_port,
    free_port_block,
    line_pcap,
    prepare_sipp_dir,
    run_sipp,
    serve_process,
    sipp_args,
    sipp_process,
    transcribe,
)
from callbot.tts import PromptCache, create_synthesizer
from callbot.vad.echo import BOT_SILENT_DBFS

pytestmark = pytest.mark.slow

RATE = 8000
CALLER = "+33612345678"
CALLERS = Path(__file__).parent / "fixtures" / "callers"
CALLS_DIR = Path(__file__).parent / "fixtures" / "calls"
UTTERANCES = {u["file"]: u for u in yaml.safe_load((CALLERS / "manifest.yaml").read_text())["utterances"]}
CALLS: list[dict[str, Any]] = yaml.safe_load((CALLS_DIR / "manifest.yaml").read_text())["calls"]
FLOW = load_flow(default_flow_path())
SERVICE_CLIENT_URI = FLOW.queues["service_client"].sip_uri
RETAIL_DATA = yaml.safe_load((default_flow_path().parent / "retail-data.yaml").read_text())
SILENT_DBFS = -50.0


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeHandle]:
    with serve_process(tmp_path_factory.mktemp("sip-e2e")) as handle:
        yield handle


@pytest.fixture(scope="module")
def prompts() -> PromptCache:
    """The bot's voice, as the gateway synthesises it (same engine, same rate)."""
    return PromptCache(create_synthesizer("pico"), RATE)


@pytest.fixture(scope="module")
def opening(prompts: PromptCache) -> bytes:
    """What the bot says from the answer until it listens: the recording notice, then the greeting."""
    said = Conversation(FLOW, now=lambda: datetime.now(PARIS), caller=CALLER).start().actions
    texts = [RECORDING_NOTICE, *(a.text for a in said if isinstance(a, Say))]
    return b"".join(prompts.get(text) for text in texts)


@pytest.fixture(scope="module")
def notice_ms(prompts: PromptCache) -> int:
    """Length of the recording notice, which may not be interrupted."""
    return ms(prompts.get(RECORDING_NOTICE))


@pytest.fixture(scope="module")
def whisper() -> RecognizerEngine:
    return load_engine("whisper")


@pytest.fixture
def sipp_dir(tmp_path: Path) -> Path:
    return prepare_sipp_dir(tmp_path)


# ------------------------------------------------------------------------------------------ calling
@dataclass
class Call:
    """One finished call, seen from both ends: SIPp's messages, the gateway's recording and event log."""

    call_id: str
    run: SippRun
    recording: Path
    log: Path
    events: list[dict[str, Any]]

    def of_type(self, event: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["event"] == event]

    def index(self, event: str) -> int:
        return next(i for i, e in enumerate(self.events) if e["event"] == event)

    def bot_audio(self, start_ms: int, end_ms: int | None = None) -> bytes:
        """The bot's side of the recording (right channel) between two audio-clock times."""
        bot = read_wav(self.recording).channel(1)
        return bot[start_ms * RATE // 500 : None if end_ms is None else end_ms * RATE // 500]


def ms(pcm: bytes) -> int:
    return len(pcm) * 500 // RATE


@dataclass(frozen=True)
class Utterance:
    """A caller's words from the fixtures: 8 kHz PCM, where the speech lies in it, what is said."""

    pcm: bytes
    speech_ms: tuple[int, int]
    text: str


def caller_utterance(wav: str) -> Utterance:
    """One of tests/fixtures/callers."""
    entry = UTTERANCES[wav]
    audio = read_wav(CALLERS / wav)
    assert audio.sample_rate == RATE
    return Utterance(audio.channel(0), tuple(entry["speech_ms"]), entry["text"])


def first_turn_of_call(wav: str) -> Utterance:
    """The first caller turn of one of tests/fixtures/calls, with 300 ms of the line before it."""
    (entry,) = [c for c in CALLS if c["file"] == wav]
    audio = read_wav(CALLS_DIR / wav)
    assert audio.sample_rate == RATE
    onset, offset = entry["turns"][0]["speech_ms"]
    pcm = audio.channel(entry["caller_channel"])[(onset - 300) * RATE // 500 : (offset + 500) * RATE // 500]
    return Utterance(pcm, (300, 300 + offset - onset), entry["turns"][0]["text"])


def speech_pcap(sipp_dir: Path, utterance: Utterance, *, onset_ms: int, gain_db: float = 0.0) -> int:
    """caller.pcap: line noise from the answer, then the caller's speech from `onset_ms`. Returns when the
    caller stops (ms)."""
    lead_ms, end_ms = utterance.speech_ms
    line_pcap(sipp_dir / "caller.pcap", utterance.pcm, onset_ms - lead_ms, gain_db=gain_db)
    return onset_ms - lead_ms + end_ms


def bot_keeps_talking_from(opening: bytes, after_ms: int, span_ms: int = 1500) -> int:
    """A moment after `after_ms` from which the bot talks on for `span_ms` without a pause longer than
    the echo guard's memory (200 ms): interrupting there means interrupting the bot mid-speech."""
    levels = frame_levels(opening)
    for start in range(after_ms // 20, len(levels) - span_ms // 20):
        quiet = longest = 0
        for level in levels[start - 10 : start + span_ms // 20]:
            quiet = quiet + 1 if level < BOT_SILENT_DBFS else 0
            longest = max(longest, quiet)
        if levels[start] > -40 and longest * 20 <= 160:
            return start * 20
    raise AssertionError("the greeting has no 1.5 s of uninterrupted speech to talk over")


def keys_pcap(sipp_dir: Path) -> None:
    """The caller presses 0 (RFC 4733 telephone-event, SIPp's own capture) as caller.pcap."""
    shutil.copy(SIPP_PCAPS / "dtmf_2833_0.pcap", sipp_dir / "caller.pcap")


def place_call(
    gateway: ServeHandle,
    sipp_dir: Path,
    scenario: str,
    *,
    speak_after_ms: int = 0,
    listen_ms: int | None = None,
    call_id: str | None = None,
) -> Call:
    """One SIPp caller (tests/sipp/`scenario`) who plays caller.pcap `speak_after_ms` after the answer
    and, in scenarios that end with the caller hanging up, listens `listen_ms` from then on."""
    call_id = call_id or f"e2e-{uuid.uuid4().hex[:12]}@127.0.0.1"
    args = sipp_args(
        scenario,
        remote=gateway.address,
        local_port=free_port(),
        media_port=free_port_block(8),
        duration_ms=listen_ms,
        keys={"speak_after_ms": str(speak_after_ms)},
        extra=["-cid_str", call_id],
        timeout_s=120,
    )
    run = run_sipp(args, sipp_dir, timeout=130)
    recording, log = gateway.call_files(call_id)
    deadline = time.monotonic() + 15
    while not (recording.exists() and _last_event(log) == "session_end"):
        if time.monotonic() > deadline:
            raise AssertionError(
                f"no recording or log of {call_id}:\n{run.errors}\n{gateway.log_text()[-3000:]}"
            )
        time.sleep(0.1)
    events = [json.loads(line) for line in log.read_text().splitlines()]
    return Call(call_id, run, recording, log, events)


def _last_event(log: Path) -> str | None:
    """The last event the gateway has finished writing: the log is read while it is written, so a last
    line without its newline is still being written (it failed to parse as '{"t_ms": 16080, "event')."""
    text = log.read_text() if log.exists() else ""
    lines = text[: text.rfind("\n") + 1].splitlines()
    return str(json.loads(lines[-1])["event"]) if lines else None


# ------------------------------------------------------------------------------------------ listening
def clock_times(text: str) -> set[tuple[int, int]]:
    """Times of day in a transcript, however Whisper wrote them: "10h", "10 heures", "19 heures 30"."""
    found = re.findall(r"\b(\d{1,2}) ?(?:h|heures?)\b(?: ?(\d{2})\b)?", normalize(text))
    return {(int(hour), int(minute or 0)) for hour, minute in found}


def share_of_words_heard(said: str, heard: str) -> float:
    """Share of the words of four letters or more in `said` that a listener's transcript holds
    (compared on their first five letters, so that "habituels" heard as "habituel" counts)."""
    wanted = [w[:5] for w in normalize(said).split() if len(w) >= 4]
    got = {w[:5] for w in normalize(heard).split()}
    return sum(w in got for w in wanted) / max(len(wanted), 1)


def opening_hours(store_name: str, day: date) -> set[tuple[int, int]]:
    """Opening and closing times of a store on a day, read from the flow's data file (exceptions first)."""
    store = next(s for s in RETAIL_DATA["stores"].values() if s["name"] == store_name)
    exception = (store.get("exceptions") or {}).get(day)
    hours = exception if isinstance(exception, str) else (exception or {}).get("hours")
    text = hours or store["hours"][WEEKDAYS[day.weekday()]]
    return {(int(h), int(m)) for h, m in re.findall(r"(\d{1,2}):(\d{2})", text)}


# ------------------------------------------------------------------------------------------ tests
def test_a_caller_asking_for_an_agent_is_referred_to_the_queue_with_the_context(
    gateway: ServeHandle, sipp_dir: Path, opening: bytes
) -> None:
    speech_pcap(sipp_dir, caller_utterance("conseiller_1.wav"), onset_ms=ms(opening) + 500)

    call = place_call(gateway, sipp_dir, "uac_bot_transfer.xml")

    assert call.run.returncode == 0, call.run.errors  # the scenario checks the context headers (check_it)
    headers = call.run.headers("REFER")
    assert headers["Refer-To"].startswith(f"<{SERVICE_CLIENT_URI}?User-to-User=")
    assert headers["X-Callbot-Intent"] == "conseiller"
    assert unquote(headers["X-Callbot-Reason"]) == "intent:conseiller"
    assert headers["X-Callbot-Caller"] == CALLER
    assert "conseiller" in unquote(headers["X-Callbot-Summary"])
    uui = json.loads(decode_user_to_user(headers["User-to-User"]))
    assert uui == {"c": call.call_id, "i": "conseiller", "n": CALLER}
    # The caller spoke once the greeting was over, and was understood.
    (start,) = call.of_type("speech_start")
    assert start["barge_in"] is False and start["t_ms"] >= ms(opening)
    (intent,) = call.of_type("intent")
    assert intent["intent"] == "conseiller"
    assert call.of_type("session_end")[-1]["outcome"] == {
        "type": "transfer",
        "queue": "service_client",
        "reason": "intent:conseiller",
    }


def test_a_caller_asking_the_opening_hours_hears_todays_and_the_call_is_logged_next_to_its_recording(
    gateway: ServeHandle, sipp_dir: Path, opening: bytes, prompts: PromptCache, whisper: RecognizerEngine
) -> None:
    utterance = first_turn_of_call("horaires.wav")  # "…les horaires d'ouverture du magasin de Lyon ?"
    stop_ms = speech_pcap(sipp_dir, utterance, onset_ms=ms(opening) + 500)
    conversation = Conversation(FLOW, now=lambda: datetime.now(PARIS), caller=CALLER)
    conversation.start()
    reply = [a.text for a in conversation.hear(utterance.text).actions if isinstance(a, Say)]
    # A Call-ID may hold "/" (RFC 3261): the log must still land next to the recording, in its folder.
    call_id = f"e2e/horaires/{uuid.uuid4().hex[:8]}@127.0.0.1"

    call = place_call(
        gateway,
        sipp_dir,
        "uac_bot_caller.xml",
        listen_ms=stop_ms + 3000 + sum(ms(prompts.get(text)) for text in reply),
        call_id=call_id,
    )

    assert call.run.returncode == 0, call.run.errors
    assert call.recording.parent == call.log.parent == gateway.recordings
    assert call.log.with_suffix("").name == call.recording.with_suffix("").name
    (intent,) = call.of_type("intent")
    assert intent["intent"] == "horaires"
    assert intent["slots"] == {"magasin": "lyon_part_dieu"}  # no day said: today, in Paris
    expected = opening_hours("Lyon Part-Dieu", datetime.now(PARIS).date())
    # What the bot said: today's hours from the data file, exactly.
    answer = call.events[call.index("intent") + 1]
    assert answer["event"] == "prompt"
    today_sentence = answer["text"].split(".")[0]
    if expected:
        assert clock_times(today_sentence) == expected, today_sentence
    else:
        assert "fermé" in today_sentence

    heard = transcribe(whisper, call.bot_audio(call.of_type("speech_end")[0]["t_ms"]))

    # What the caller heard: that answer. Whisper base hears Pico's "vingt heures" as "1h" and garbles
    # "dix-neuf heures" now and then, so the exact hours are checked on what the bot said (above) and
    # the ear gets the words of the reply and the opening time.
    said = " ".join(e["text"] for e in call.events[call.index("intent") :] if e["event"] == "prompt")
    assert share_of_words_heard(said, heard) >= 0.5, f"said: {said}\nheard: {heard}"
    if expected:
        assert min(expected) in clock_times(heard), f"opening time {min(expected)} not heard: {heard}"


def test_pressing_0_transfers_to_the_service_client_queue(
    gateway: ServeHandle, sipp_dir: Path, notice_ms: int
) -> None:
    keys_pcap(sipp_dir)

    call = place_call(gateway, sipp_dir, "uac_bot_transfer.xml", speak_after_ms=notice_ms + 1000)

    assert call.run.returncode == 0, call.run.errors
    headers = call.run.headers("REFER")
    assert headers["Refer-To"].startswith(f"<{SERVICE_CLIENT_URI}?User-to-User=")
    assert unquote(headers["X-Callbot-Reason"]) == "dtmf:0"
    assert "touche 0" in unquote(headers["X-Callbot-Summary"])
    assert json.loads(decode_user_to_user(headers["User-to-User"]))["c"] == call.call_id
    assert [e["digit"] for e in call.of_type("dtmf")] == ["0"]
    assert call.of_type("barge_in")[0]["by"] == "dtmf"  # the key cut the greeting short
    assert call.of_type("session_end")[-1]["outcome"]["type"] == "transfer"


FORGED_USER = "%2B33612345678%0D%0A2026-12-06%2012%3A00%3A00,000%20callbot%20INFO%20%3Cfake%20log%20line%3E"


def test_a_caller_id_with_a_line_break_forges_no_line_anywhere_and_is_not_trusted_as_a_number(
    gateway: ServeHandle, sipp_dir: Path, notice_ms: int
) -> None:
    """A From user of "+33612345678 CR LF <a log line>" (%-escaped on the wire, as a peer may send it):
    after the call (0 pressed: a REFER with the transfer context), no line of the gateway's log, the
    call's event log or the REFER starts with the forged text, and the conversation got no caller
    number (the caller id is not a valid phone number, so nothing would be read back or called)."""
    scenario = sipp_dir / "uac_forged_caller.xml"
    original = (SCENARIOS / "uac_bot_transfer.xml").read_text()
    # No number is trusted from such a caller id: the REFER carries no X-Callbot-Caller to check.
    without_caller_check = original.replace(
        'check_it="true"\n            assign_to="caller"', 'assign_to="caller"'
    )
    assert without_caller_check != original
    scenario.write_text(without_caller_check.replace("sip:+33612345678@", f"sip:{FORGED_USER}@"))
    keys_pcap(sipp_dir)

    call = place_call(gateway, sipp_dir, str(scenario), speak_after_ms=notice_ms + 1000)

    assert call.run.returncode == 0, call.run.errors
    refer = call.run.request("REFER")
    written = [*gateway.log_text().splitlines(), *call.log.read_text().splitlines(), *refer.splitlines()]
    forged = [line for line in written if line.startswith("2026-12-06 12:00:00,000") or "<fake" in line]
    assert forged == []
    assert any("%0D%0A" in line for line in gateway.log_text().splitlines())  # the call was logged, escaped
    for line in call.log.read_text().splitlines():
        json.loads(line)  # every event is still one JSON line
    context = json.loads(decode_user_to_user(call.run.headers("REFER")["User-to-User"]))
    assert "\n" not in json.dumps(context) and "\r" not in json.dumps(context)
    assert call.of_type("session_end")[-1]["outcome"]["type"] == "transfer"
    assert "X-Callbot-Caller" not in call.run.headers("REFER")


def test_a_caller_talking_over_the_greeting_silences_the_bot_within_300_ms(
    gateway: ServeHandle, sipp_dir: Path, opening: bytes, notice_ms: int
) -> None:
    # At the fixtures' own level (about 10 dB below the bot's prompts) the echo guard does not let a
    # caller through while the bot speaks; this caller talks over the bot at the bot's own level.
    onset = bot_keeps_talking_from(opening, notice_ms + 1000)
    stop_ms = speech_pcap(sipp_dir, caller_utterance("horaires_1.wav"), onset_ms=onset, gain_db=10)

    call = place_call(gateway, sipp_dir, "uac_bot_caller.xml", listen_ms=stop_ms + 2500)

    assert call.run.returncode == 0, call.run.errors
    (barge,) = call.of_type("barge_in")
    assert barge["by"] == "speech" and barge["dropped_ms"] > 1000
    t = barge["t_ms"]
    would_have_said = frame_levels(opening[(t + 300) * 16 : (t + 1300) * 16])
    assert sum(level > -40 for level in would_have_said) > 25, "the test must interrupt the bot mid-speech"
    after = frame_levels(call.bot_audio(t + 300, t + 1300))
    assert len(after) == 50 and max(after) < SILENT_DBFS, f"the bot still spoke after the barge-in: {after}"
    # The interruption was the caller's turn: decoded, and answered.
    assert call.of_type("speech_start")[0]["barge_in"] is True
    assert call.of_type("asr_final")[0]["text"].strip()
    assert call.of_type("bot_audio_start"), "the bot never answered the interruption"


def test_a_refused_transfer_keeps_the_caller_and_offers_a_call_back(
    gateway: ServeHandle, sipp_dir: Path, notice_ms: int, whisper: RecognizerEngine
) -> None:
    keys_pcap(sipp_dir)

    call = place_call(
        gateway,
        sipp_dir,
        "uac_bot_refer_refused.xml",  # answers the REFER 403 Forbidden, fails on a BYE from the bot
        speak_after_ms=notice_ms + 1000,
        listen_ms=9000,
    )

    assert call.run.returncode == 0, call.run.errors
    assert "\nSIP/2.0 403 Forbidden" in call.run.messages
    (failed,) = call.of_type("transfer_failed")
    assert (failed["status"], failed["queue"]) == (403, "service_client")
    after = call.events[call.index("transfer_failed") + 1 :]
    said = [e["text"] for e in after if e["event"] == "prompt"]
    assert any("rappel" in text for text in said), f"no call-back offered after the failure: {said}"
    assert call.of_type("session_end")[-1]["outcome"] == {"type": "caller_hangup"}
    heard = normalize(transcribe(whisper, call.bot_audio(failed["t_ms"])))
    assert "rappel" in heard, f"the caller did not hear the call-back offer: {heard}"


def test_a_call_back_is_booked_with_the_keypad_alone(
    gateway: ServeHandle, sipp_dir: Path, notice_ms: int
) -> None:
    """2 in the menu (call-back), 1 1 4 (tomorrow at 14 h), 1 (yes to the read-back), all as RFC 4733
    telephone-events: the call-back is stored before the bot says goodbye and hangs up."""
    from callbot.callbacks import CallbackStore

    keys = [(0, "2"), (3000, "1"), (3600, "1"), (4200, "4"), (9000, "1")]
    write_keys_pcap(sipp_dir / "caller.pcap", keys, total_ms=9500)
    before = datetime.now(PARIS).date()
    call = place_call(gateway, sipp_dir, "uac_keypad_callback.xml", speak_after_ms=notice_ms + 1000)
    after = datetime.now(PARIS).date()

    assert call.run.returncode == 0, call.run.errors  # the bot hung up (BYE) after the booking
    assert [e["digit"] for e in call.of_type("dtmf")] == ["2", "1", "1", "4", "1"]
    outcome = call.of_type("session_end")[-1]["outcome"]
    assert outcome["type"] == "callback"
    tomorrow_at_14 = {  # the call's day is the gateway's today (a call across midnight: either day)
        datetime.combine(day + timedelta(days=1), clock_time(14), tzinfo=PARIS).isoformat()
        for day in (before, after)
    }
    assert outcome["callback_at"] in tomorrow_at_14
    store = CallbackStore(gateway.data_dir)
    try:
        [request] = [r for r in store.list() if r.call_id == call.call_id]
        assert request.phone == CALLER and request.status.value == "pending"
    finally:
        store.close()


def test_a_worker_killed_mid_call_leaves_a_truthful_record_and_a_valid_recording(
    gateway: ServeHandle, sipp_dir: Path
) -> None:
    """kill -9 of the SIP worker during a call: the conversation host records the call as `worker_lost`
    (never `caller_hangup`), the recording the worker was writing is finished as a valid WAV (no
    `.wav.part` left), and the supervisor brings the worker back for the next tests."""
    line_pcap(sipp_dir / "caller.pcap", bytes(1600), noise_ms=500)
    call_id = f"e2e-killed-{uuid.uuid4().hex[:8]}@127.0.0.1"
    args = sipp_args(
        "uac_bot_caller.xml",
        remote=gateway.address,
        local_port=free_port(),
        media_port=free_port_block(8),
        duration_ms=30_000,
        keys={"speak_after_ms": "0"},
        extra=["-cid_str", call_id],
        timeout_s=60,
    )
    recording, log = gateway.call_files(call_id)
    part = recording.with_name(recording.name + ".part")
    status_path = gateway.data_dir / "sip" / "status.json"
    victim = json.loads(status_path.read_text())["worker-0"]["pid"]
    with sipp_process(args, sipp_dir):
        deadline = time.monotonic() + 15
        while not (part.exists() and part.stat().st_size > 16_000):  # ~0.5 s of audio flushed
            assert time.monotonic() < deadline, gateway.log_text()[-3000:]
            time.sleep(0.1)
        time.sleep(1.0)
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 15
        while _last_event(log) != "session_end":
            assert time.monotonic() < deadline, gateway.log_text()[-3000:]
            time.sleep(0.1)

    events = [json.loads(line) for line in log.read_text().splitlines()]
    names = [event["event"] for event in events]
    assert "worker_lost" in names and "caller_hangup" not in names
    assert events[-1]["outcome"]["type"] == "worker_lost"
    assert recording.exists() and not part.exists()
    audio = read_wav(recording)
    assert audio.channels == 2 and len(audio.channel(0)) >= RATE  # at least the 0.5 s seen, as 16-bit
    deadline = time.monotonic() + 20
    while True:  # back for the next tests: restarted, reconnected to its host, known to the front
        status = json.loads(status_path.read_text())["worker-0"]
        reconnected = gateway.log_text().count("callbot.sip.host INFO worker sip-0") >= 2
        if status["pid"] not in (None, victim) and reconnected:
            break
        assert time.monotonic() < deadline, gateway.log_text()[-3000:]
        time.sleep(0.2)
    assert status["restarts"] == 1
    time.sleep(1.5)  # one dispatcher probe round


def test_nothing_the_gateway_writes_is_readable_by_other_users(gateway: ServeHandle) -> None:
    """Recordings, event logs, the call-back database and the run files (which hold secrets) are the
    gateway user's alone: files 0600, folders 0700 (the module's earlier calls wrote some of each)."""
    data_dir = gateway.data_dir
    written = [data_dir, *data_dir.rglob("*")]
    assert any(path.suffix == ".wav" for path in written) and any(path.suffix == ".db" for path in written)
    shared = [
        f"{path.relative_to(data_dir.parent)} {oct(path.stat().st_mode & 0o777)}"
        for path in written
        if path.exists() and not path.is_socket() and path.stat().st_mode & 0o077
    ]
    assert shared == []
