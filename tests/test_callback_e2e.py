"""Call-backs placed by `callbot serve` itself, end to end, over real SIP on 127.0.0.1.

One gateway for the module (`python -m callbot.cli serve --asr whisper`) with a 24/7 queue, a trunk that
points at a SIPp callee, and the dispatcher polling its SQLite store every 200 ms with a 3 s retry delay
(test-accelerated: the defaults are 1 s and 5/15/30 min). Each test stores a call-back due now, as the
first call would have, and plays the person called back with SIPp: the gateway must dial them, announce
itself, hear "oui, c'est bien ça" (a Pico recording through μ-law RTP, recognised by Whisper), and REFER
them to the queue with the first call's context; a busy line is dialled again after the retry delay.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote

import pytest
import yaml

from callbot.asr import RecognizerEngine, load_engine
from callbot.audio.wav import read_wav
from callbot.callbacks import CallbackRequest, CallbackStatus, CallbackStore
from callbot.calls import CallRecordStore
from callbot.dialog import Conversation, default_flow_path, load_flow
from callbot.dialog.actions import ScheduleCallback
from callbot.dialog.callback_call import CallbackCallDialog, CallbackCallRequest
from callbot.dialog.nlu import PARIS, parse_yes_no
from callbot.dialog.nlu.normalize import normalize
from callbot.session.call_session import RECORDING_NOTICE
from callbot.sip.testing import (
    ServeHandle,
    finish_sipp,
    free_port,
    free_port_block,
    line_pcap,
    prepare_sipp_dir,
    serve_process,
    sipp_args,
    sipp_process,
    transcribe,
)
from callbot.tts import PromptCache, create_synthesizer

pytestmark = pytest.mark.slow

RATE = 8000
PERSON = "+33611223344"
QUEUE_URI = "sip:service-client@acd.test"
RETRY_DELAY_S = 3.0
CALLERS = Path(__file__).parent / "fixtures" / "callers"
FLOW = load_flow(default_flow_path())


@pytest.fixture(scope="module")
def callee_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory, callee_port: int) -> Iterator[ServeHandle]:
    work = tmp_path_factory.mktemp("callback-e2e")
    queues = work / "queues.yaml"
    queues.write_text(
        yaml.safe_dump(
            {
                "queues": {
                    "service_client": {
                        "sip_uri": QUEUE_URI,
                        "hours": {"lundi-dimanche": ["00:00-24:00"]},
                        "holidays": "none",
                    }
                }
            }
        )
    )
    settings = {
        "queues": str(queues),
        "callbacks": {"poll_s": 0.2, "retry_delays_s": [RETRY_DELAY_S], "lease_s": 60},
        "sip": {
            "worker": {
                "pjsip_log_level": 1,
                "trunk_uri_template": f"sip:{{number}}@127.0.0.1:{callee_port}",
            }
        },
    }
    with serve_process(work, settings=settings) as handle:
        assert "call-backs: dialled through sip:{number}@127.0.0.1" in handle.log_text()
        yield handle


@pytest.fixture(scope="module")
def store(gateway: ServeHandle) -> CallbackStore:
    """The gateway's own store (SQLite in its data_dir): what the first call wrote and ops read."""
    return CallbackStore(gateway.data_dir)


@pytest.fixture(scope="module")
def announcement_ms() -> int:
    """How long the bot talks from the answer until it listens: recording notice, greeting, question."""
    prompts = PromptCache(create_synthesizer("pico"), RATE)
    request = CallbackCallRequest("x", PERSON, "service_client", first_call_context(), datetime.now(UTC))
    said = CallbackCallDialog(request, FLOW.callback_call, now=lambda: datetime.now(PARIS)).start()
    texts = [RECORDING_NOTICE, *(a.text for a in said.actions if hasattr(a, "text"))]
    return sum(len(prompts.get(text)) * 500 // RATE for text in texts)


@pytest.fixture(scope="module")
def whisper() -> RecognizerEngine:
    return load_engine("whisper")


@pytest.fixture
def sipp_dir(tmp_path: Path) -> Path:
    return prepare_sipp_dir(tmp_path)


def first_call_context():  # type: ignore[no-untyped-def]
    """The context a real first call leaves: order 458129 asked about, then a call-back requested."""
    now = datetime(2026, 11, 23, 10, 0, tzinfo=PARIS)
    conversation = Conversation(FLOW, now=lambda: now, caller=PERSON)
    conversation.start()
    conversation.hear("où en est ma commande 458129")
    conversation.hear("je voudrais être rappelé demain à quinze heures")
    result = conversation.hear("oui c'est bien ça")
    (booked,) = [a for a in result.actions if isinstance(a, ScheduleCallback)]
    return booked.context


def store_due_call_back(store: CallbackStore) -> CallbackRequest:
    """What the first call stored, due in a moment (the test's accelerated clock)."""
    return store.add(
        due_at=datetime.now(UTC) + timedelta(seconds=1),
        queue="service_client",
        phone=PERSON,
        context=first_call_context(),
        caller=PERSON,
        call_id=f"first-call-{uuid.uuid4().hex[:8]}",
    )


def person_says_yes(sipp_dir: Path, onset_ms: int) -> None:
    """callee.pcap: line noise from the answer, then "Oui, c'est bien ça" (Pico) from `onset_ms`."""
    line_pcap(sipp_dir / "callee.pcap", read_wav(CALLERS / "oui_2.wav").channel(0), onset_ms, seed=3)


def callee(scenario: str, port: int, keys: dict[str, str] | None = None) -> list[str]:
    return sipp_args(
        scenario, remote=None, local_port=port, media_port=free_port_block(8), keys=keys, timeout_s=90
    )


def wait_for(store: CallbackStore, request: CallbackRequest, status: CallbackStatus) -> CallbackRequest:
    deadline = time.monotonic() + 20
    while (current := store.get(request.id)).status != status:
        assert time.monotonic() < deadline, f"still {current.status} ({current.last_reason})"
        time.sleep(0.2)
    return current


def test_a_due_call_back_is_dialled_announced_and_put_through_with_the_first_calls_context(
    gateway: ServeHandle,
    store: CallbackStore,
    callee_port: int,
    sipp_dir: Path,
    announcement_ms: int,
    whisper: RecognizerEngine,
) -> None:
    person_says_yes(sipp_dir, onset_ms=announcement_ms + 800)
    keys = {"speak_after_ms": "0"}
    with sipp_process(callee("uas_callback.xml", callee_port, keys), sipp_dir) as uas:
        time.sleep(0.3)
        request = store_due_call_back(store)
        run = finish_sipp(uas, sipp_dir, timeout=90)
    assert run.returncode == 0, f"{run.errors}\n{gateway.log_text()[-3000:]}"

    # The outbound INVITE names the request; the REFER carries the first call's context.
    invite = run.headers("INVITE")
    assert invite["X-Callbot-Callback"] == str(request.id)
    assert run.request("INVITE").startswith(f"INVITE sip:{PERSON}@127.0.0.1:{callee_port}")
    refer = run.headers("REFER")
    assert refer["Refer-To"].startswith(f"<{QUEUE_URI}")
    assert refer["X-Callbot-Reason"] == "callback_answered"
    assert refer["X-Callbot-Caller"] == PERSON
    assert unquote(refer["X-Callbot-Intent"]) == "rappel"
    summary = unquote(refer["X-Callbot-Summary"])
    assert summary.startswith("rappel : client joint et disponible ; Suivi de commande 458129"), summary
    assert json.loads(unquote(refer["X-Callbot-Slots"]))["numero_commande"] == "458129"

    done = wait_for(store, request, CallbackStatus.DONE)
    assert done.attempts == 1 and done.last_reason == "put through to service_client (callback_answered)"

    # The call-back call has its call record (docs/ops.md), written by the gateway when the call ended.
    records, deadline = CallRecordStore(store), time.monotonic() + 20
    while not records.list(outcome="transferred"):
        assert time.monotonic() < deadline, "no call record of the call-back call"
        time.sleep(0.2)
    record = records.get(invite["Call-ID"])
    assert (record.direction, record.outcome, record.queue) == ("callback", "transferred", "service_client")

    # What the person heard: the announcement, on the call's recording (bot on the right).
    call_id = invite["Call-ID"]
    recording, log = gateway.call_files(call_id)
    events = [json.loads(line) for line in log.read_text().splitlines()]
    heard_by_bot = [e["text"] for e in events if e["event"] == "asr_final"]
    # The person's "Oui, c'est bien ça", heard as a yes (under load its first word was once heard
    # "Vous, c'est bien ça.": what counts is the yes the transfer above acted on).
    assert heard_by_bot and parse_yes_no(heard_by_bot[0]) is True, heard_by_bot
    bot = read_wav(recording).channel(1)
    heard = normalize(transcribe(whisper, bot[: announcement_ms * RATE // 500]))
    assert "service client" in heard and "rappeler" in heard and "disponible" in heard, heard


def test_a_busy_person_is_dialled_again_after_the_retry_delay(
    gateway: ServeHandle, store: CallbackStore, callee_port: int, sipp_dir: Path, announcement_ms: int
) -> None:
    with sipp_process(callee("uas_busy.xml", callee_port), sipp_dir) as busy:
        time.sleep(0.3)
        request = store_due_call_back(store)
        busy_run = finish_sipp(busy, sipp_dir, timeout=30)
    refused_at = time.monotonic()
    assert busy_run.returncode == 0, busy_run.errors
    assert busy_run.headers("INVITE")["X-Callbot-Callback"] == str(request.id)
    waiting = wait_for(store, request, CallbackStatus.PENDING)
    assert (waiting.attempts, waiting.last_sip_status) == (1, 486)

    person_says_yes(sipp_dir, onset_ms=announcement_ms + 800)
    with sipp_process(callee("uas_callback.xml", callee_port, {"speak_after_ms": "0"}), sipp_dir) as uas:
        run = finish_sipp(uas, sipp_dir, timeout=90)
    assert run.returncode == 0, f"{run.errors}\n{gateway.log_text()[-3000:]}"
    done = wait_for(store, request, CallbackStatus.DONE)
    assert done.attempts == 2
    assert done.updated_at.timestamp() - waiting.updated_at.timestamp() >= RETRY_DELAY_S - 0.5
    assert time.monotonic() - refused_at >= RETRY_DELAY_S - 0.5
