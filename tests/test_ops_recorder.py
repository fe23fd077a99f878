"""The call record `serve` writes when a SIP call ends — also when the call breaks, its worker dies or
its conversation cannot start — and the live board while it runs. The gateway's real handler factory
(`GatewayCalls`), the retail flow and Pico prompts; only the SIP link and the recogniser are stand-ins
(the SIPp end to end is tests/test_ops_e2e.py)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from callbot.audio import FRAME_MS, AudioFrame, silence
from callbot.callbacks import CallbackStore
from callbot.calls import CallRecord, CallRecordStore
from callbot.clock import ManualClock
from callbot.config import Settings
from callbot.dialog import default_flow_path, load_flow
from callbot.ops.live import LiveCallBoard
from callbot.ops.recorder import CallRecorder
from callbot.ops.webhooks import WebhookSender, WebhookTarget
from callbot.session.stack import SpeechStack
from callbot.sip.host import CallControl, CallHandler
from callbot.sip.protocol import CallEnded, CallStarted, Command, DtmfIn, Hangup, Transfer, TransferStatus
from callbot.sip.serve import GatewayCalls
from callbot.tts import PicoSynthesizer

NOW = datetime(2026, 11, 23, 10, 30, tzinfo=ZoneInfo("Europe/Paris"))
RATE = 8000


class _Link:
    """Keeps the commands a call's handler sends to its SIP worker."""

    def __init__(self) -> None:
        self.sent: list[Command] = []

    def send(self, command: Command) -> None:
        self.sent.append(command)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, silent_engine: object) -> Iterator[SpeechStack]:
    store = CallbackStore(tmp_path_factory.mktemp("db"))
    store.migrate()
    flow = load_flow(default_flow_path())
    yield SpeechStack(
        Settings(), engine=silent_engine, synthesizer=PicoSynthesizer(), flow=flow, callback_store=store
    )  # type: ignore[arg-type]
    store.close()


@pytest.fixture
def gateway(stack: SpeechStack, tmp_path: Path) -> GatewayCalls:
    assert stack.callback_store is not None
    clock = ManualClock(NOW)
    records = CallRecordStore(stack.callback_store, clock=clock)
    recorder = CallRecorder(records, LiveCallBoard(tmp_path / "live"), stack.flow, clock=clock)
    return GatewayCalls(stack, None, clock=clock, recorder=recorder)


def answer(
    gateway: GatewayCalls, call_id: str, caller: str = "+33612345678", number: str | None = "+33612345678"
) -> tuple[CallHandler, _Link]:
    call = CallStarted(
        call_id, "inbound", caller, "3000", "sip:a", "sip:b", "PCMA", RATE, caller_number=number
    )
    link = _Link()
    return gateway(call, CallControl(link, call)), link  # type: ignore[arg-type]


def play(handler: CallHandler, start_ms: int, ms: int) -> int:
    for t in range(start_ms, start_ms + ms, FRAME_MS):
        handler.on_audio(AudioFrame(silence(RATE, FRAME_MS), RATE, t))
    return start_ms + ms


def record_of(gateway: GatewayCalls, call_id: str) -> CallRecord:
    assert gateway.recorder is not None and gateway.recorder.records is not None
    return gateway.recorder.records.get(call_id)


def test_a_caller_pressing_0_is_recorded_as_transferred_and_shown_live_meanwhile(
    gateway: GatewayCalls, tmp_path: Path
) -> None:
    handler, link = answer(gateway, "keys-0@test")
    t = play(handler, 0, 1000)
    (live,) = LiveCallBoard(tmp_path / "live").calls()
    assert live["caller"] == "+33612345678" and live["state"] == "menu"
    handler.on_dtmf(DtmfIn("keys-0@test", "0", "rfc4733", t))
    while not any(isinstance(c, Transfer) for c in link.sent) and t < 60_000:
        t = play(handler, t, 200)
    handler.on_ended(CallEnded("keys-0@test", "transferred", 200, t))
    record = record_of(gateway, "keys-0@test")
    assert (record.outcome, record.queue, record.errors) == ("transferred", "service_client", 0)
    assert record.caller == "+33612345678" and record.called == "3000" and record.flow == "retail"
    assert record.transcript[-1].startswith("Bot : ")
    assert LiveCallBoard(tmp_path / "live").calls() == []


def test_a_forged_caller_id_never_reaches_the_record(gateway: GatewayCalls) -> None:
    handler, _ = answer(gateway, "forged@test", caller="%2B33612345678%0D%0Afake log line", number=None)
    handler.on_ended(CallEnded("forged@test", "caller_hangup", 200, play(handler, 0, 600)))
    assert record_of(gateway, "forged@test").caller is None  # only a valid E.164 number is kept


def test_with_redact_the_record_keeps_no_words_and_a_masked_number(gateway: GatewayCalls) -> None:
    assert gateway.recorder is not None
    gateway.recorder.redact = True
    try:
        handler, _ = answer(gateway, "redacted@test")
        handler.on_ended(CallEnded("redacted@test", "caller_hangup", 200, play(handler, 0, 600)))
    finally:
        gateway.recorder.redact = False
    record = record_of(gateway, "redacted@test")
    assert record.caller == "+336******78" and record.transcript == ()


def test_a_call_whose_worker_died_is_recorded_as_an_error(gateway: GatewayCalls) -> None:
    handler, _ = answer(gateway, "lost@test")
    play(handler, 0, 600)
    handler.on_ended(CallEnded("lost@test", "worker lost", 0, 0))
    record = record_of(gateway, "lost@test")
    assert record.outcome == "error" and record.error_text == "worker lost"


def test_a_handler_that_breaks_still_leaves_an_error_record(gateway: GatewayCalls) -> None:
    handler, _ = answer(gateway, "broken@test")

    def crash(frame: AudioFrame) -> bytes:
        raise RuntimeError("media path broke")

    handler.inner.session.tick = crash  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError):  # the host logs it and carries on with the call's next event
        play(handler, 0, 20)
    handler.on_ended(CallEnded("broken@test", "remote hangup", 200, 20))
    record = record_of(gateway, "broken@test")
    assert record.outcome == "error" and "media path broke" in (record.error_text or "")


def test_a_conversation_that_cannot_start_is_recorded_too(
    gateway: GatewayCalls, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(**_: object) -> None:
        raise OSError("no space left on device")

    monkeypatch.setattr(gateway.stack, "new_session", refuse)
    with pytest.raises(OSError):
        answer(gateway, "nostart@test")
    record = record_of(gateway, "nostart@test")
    assert record.outcome == "error" and "no space left" in (record.error_text or "")
    assert record.end_reason == "the conversation could not start"


def test_a_transferred_call_sends_its_webhooks_when_the_refer_succeeds_and_when_it_ends(
    stack: SpeechStack, tmp_path: Path
) -> None:
    got: list[dict[str, object]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        hooks = WebhookSender([WebhookTarget(url=url, secret="s" * 16, include_transcript=True)])
        assert stack.callback_store is not None
        recorder = CallRecorder(CallRecordStore(stack.callback_store), None, stack.flow, webhooks=hooks)
        gateway = GatewayCalls(stack, None, clock=ManualClock(NOW), recorder=recorder)
        handler, link = answer(gateway, "hooked@test")
        t = play(handler, 0, 400)
        handler.on_dtmf(DtmfIn("hooked@test", "0", "rfc4733", t))
        while not any(isinstance(c, Transfer) for c in link.sent) and t < 60_000:
            t = play(handler, t, 200)
        handler.on_transfer_status(TransferStatus("hooked@test", 200, "OK", True, True))
        handler.on_ended(CallEnded("hooked@test", "transferred", 200, t))
        deadline = time.monotonic() + 20
        while len(got) < 2:
            assert time.monotonic() < deadline, got
            time.sleep(0.05)
    finally:
        server.shutdown()
        server.server_close()
    transferred, ended = sorted(got, key=lambda e: e["event"] != "transferred")
    assert transferred["event"] == "transferred" and transferred["queue"] == "service_client"
    assert transferred["caller"] == "+33612345678" and transferred["transcript"]
    assert ended["event"] == "call_ended" and ended["outcome"] == "transferred"


def test_with_redact_the_callback_booked_webhook_masks_the_number_and_leaves_out_the_words(
    stack: SpeechStack,
) -> None:
    sent: list[tuple[str, dict[str, object]]] = []

    class Hooks:
        def send(self, event: str, payload: dict[str, object]) -> None:
            sent.append((event, payload))

    assert stack.callback_store is not None
    recorder = CallRecorder(
        CallRecordStore(stack.callback_store),
        None,
        stack.flow,
        webhooks=Hooks(),
        redact=True,  # type: ignore[arg-type]
    )
    gateway = GatewayCalls(stack, None, clock=ManualClock(NOW), recorder=recorder)
    handler, link = answer(gateway, "booked@test")
    t = play(handler, 0, 400)
    for keys in ("2", "114", "1"):  # a call-back, tomorrow at 14 h, yes to the read-back
        for key in keys:
            handler.on_dtmf(DtmfIn("booked@test", key, "rfc4733", t))
            t = play(handler, t, 100)
        t = play(handler, t, 1500)
    while not any(isinstance(c, Hangup) for c in link.sent) and t < 60_000:
        t = play(handler, t, 200)
    handler.on_ended(CallEnded("booked@test", "bot_hangup", 200, t))
    [booked] = [payload for event, payload in sent if event == "callback_booked"]
    assert booked["at"] == "2026-11-24T14:00:00+01:00"
    assert booked["caller"] != "+33612345678" and "78" in str(booked["caller"])  # masked, its end kept
    assert booked["transcript"] == []  # what was said stays out, as in the transferred webhook
