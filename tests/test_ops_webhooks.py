"""Webhooks: signed JSON POSTs to a real HTTP receiver on 127.0.0.1, retried with back-off, never
holding up the caller's side, and what a call sends (through the gateway's real handler factory)."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from callbot.callbacks.store import CallbackStore
from callbot.calls.schema import webhook_outbox
from callbot.clock import wall_clock
from callbot.config import ConfigError, load_settings
from callbot.ops.outbox import LEASE_S, WebhookOutbox
from callbot.ops.webhooks import WebhookSender, WebhookTarget, signature

SECRET = "a-secret-of-32-characters-or-so!"


class Receiver:
    """A webhook receiver: answers the statuses in `script` in turn (then 200), keeps what it got."""

    def __init__(
        self, script: list[int] | None = None, hold: threading.Event | None = None, port: int = 0
    ) -> None:
        self.script = list(script or [])
        self.hold = hold
        self.got: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.hold is not None:
                    receiver.hold.wait()
                receiver.got.append((dict(self.headers), body))
                self.send_response(receiver.script.pop(0) if receiver.script else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.got]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver([500])
    yield r
    r.close()


def wait_until(check: Any, what: str, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def test_an_event_is_signed_and_retried_with_the_same_delivery_id_until_accepted(receiver: Receiver) -> None:
    sender = WebhookSender([WebhookTarget(url=receiver.url, secret=SECRET)], first_retry_s=0.05)
    sender.send("call_ended", {"call_id": "c1", "outcome": "bot", "transcript": ["Client : bonjour"]})
    wait_until(lambda: sender.delivered == 1, "delivered after one retry")
    (first, body1), (second, body2) = receiver.got
    assert body1 == body2 and first["X-Callbot-Delivery"] == second["X-Callbot-Delivery"]
    expected = "sha256=" + hmac.new(SECRET.encode(), body2, hashlib.sha256).hexdigest()
    assert second["X-Callbot-Signature"] == expected == signature(SECRET, body2)
    assert second["X-Callbot-Event"] == "call_ended"
    assert json.loads(body2) == {"event": "call_ended", "call_id": "c1", "outcome": "bot"}  # no transcript


def test_the_transcript_goes_only_to_a_target_that_asks_and_only_the_events_it_takes() -> None:
    receiver = Receiver()
    try:
        target = WebhookTarget(
            url=receiver.url, secret=SECRET, events=["transferred"], include_transcript=True
        )
        sender = WebhookSender([target])
        sender.send("call_ended", {"call_id": "c1"})
        sender.send("transferred", {"call_id": "c1", "transcript": ["Client : un conseiller"]})
        wait_until(lambda: sender.delivered == 1, "delivered")
        assert receiver.events() == [
            {"event": "transferred", "call_id": "c1", "transcript": ["Client : un conseiller"]}
        ]
    finally:
        receiver.close()


def test_sending_never_waits_for_the_receiver() -> None:
    hold = threading.Event()
    receiver = Receiver(hold=hold)
    try:
        sender = WebhookSender([WebhookTarget(url=receiver.url, secret=SECRET)])
        for n in range(3):
            sender.send("call_ended", {"call_id": f"c{n}"})  # returns while the receiver is stuck
        assert receiver.got == [] and sender.delivered == 0
        hold.set()
        wait_until(lambda: sender.delivered == 3, "all three delivered once the receiver answers")
    finally:
        hold.set()
        receiver.close()


def test_a_receiver_that_keeps_failing_is_given_up_after_max_attempts() -> None:
    receiver = Receiver([503] * 10)
    try:
        target = WebhookTarget(url=receiver.url, secret=SECRET, max_attempts=3)
        sender = WebhookSender([target], first_retry_s=0.02)
        sender.send("call_ended", {"call_id": "c1"})
        wait_until(lambda: sender.given_up == 1, "given up")
        assert len(receiver.got) == 3 and sender.pending() == 0
    finally:
        receiver.close()


@pytest.mark.parametrize(
    ("hook", "message"),
    [
        ({"url": "ftp://crm", "secret": SECRET}, "webhooks.0.url"),
        ({"url": "https://crm.example/hook", "secret": "short"}, "webhooks.0.secret"),
        ({"url": "https://crm.example/hook", "secret": SECRET, "events": ["rang"]}, "webhooks.0.events"),
    ],
)
def test_bad_webhook_settings_are_refused_at_start_up(
    tmp_path: Path, hook: dict[str, Any], message: str
) -> None:
    config = tmp_path / "callbot.yaml"
    config.write_text(yaml.safe_dump({"webhooks": [hook]}))
    with pytest.raises(ConfigError, match=message):
        load_settings(config)


# --------------------------------------------------------------------------- the outbox: nothing lost


@pytest.fixture
def store(tmp_path: Path) -> Iterator[CallbackStore]:
    store = CallbackStore(tmp_path / "data")
    store.migrate()
    yield store
    store.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def after_the_lease() -> datetime:
    """A clock for a sender that looks once the first host's lease has run out."""
    return wall_clock() + timedelta(seconds=LEASE_S + 600)


def test_a_delivery_left_by_a_crashed_host_is_sent_by_the_next_once_its_lease_runs_out(
    store: CallbackStore,
) -> None:
    receiver = Receiver()
    try:
        target = WebhookTarget(url=receiver.url, secret=SECRET)
        ident = uuid.uuid4()
        body = b'{"event": "callback_booked", "call_id": "c1"}'
        WebhookOutbox(store, "host-1").add(ident, "callback_booked", target.url, body)  # then it crashed
        early = WebhookSender([target], outbox=WebhookOutbox(store, "host-2"))
        time.sleep(0.3)
        assert receiver.got == [] and rows(store)[0]["locked_by"] == "host-1"  # its lease still runs
        early.close()
        later = WebhookSender([target], outbox=WebhookOutbox(store, "host-3", clock=after_the_lease))
        wait_until(lambda: later.delivered == 1, "delivered once the lease ran out")
        [(headers, got)] = receiver.got
        assert headers["X-Callbot-Delivery"] == ident.hex and got == body  # receivers drop duplicates by it
        wait_until(lambda: rows(store) == [], "the row goes once delivered")
        later.close()
    finally:
        receiver.close()


def test_a_host_that_stops_hands_its_deliveries_to_the_next_at_once(store: CallbackStore) -> None:
    port = free_port()
    target = WebhookTarget(url=f"http://127.0.0.1:{port}/hook", secret=SECRET)
    first = WebhookSender([target], first_retry_s=30, outbox=WebhookOutbox(store, "host-1"))
    first.send("callback_booked", {"call_id": "c1", "callback_at": "2026-11-24T15:00:00+01:00"})
    wait_until(lambda: rows(store)[0]["attempts"] == 1, "first attempt failed (nobody listens)")
    first.close()  # a clean stop: the delivery is still to make, and free for the next host
    [left] = rows(store)
    assert left["locked_by"] is None and left["event"] == "callback_booked"
    receiver = Receiver(port=port)
    try:
        second = WebhookSender([target], outbox=WebhookOutbox(store, "host-2"))
        wait_until(lambda: second.delivered == 1, "delivered by the next host")
        [(headers, body)] = receiver.got
        assert headers["X-Callbot-Delivery"] == left["id"].hex
        assert json.loads(body)["callback_at"] == "2026-11-24T15:00:00+01:00"
        wait_until(lambda: rows(store) == [], "the row goes once delivered")
        second.close()
    finally:
        receiver.close()


def test_a_sender_whose_lease_was_taken_over_neither_sends_nor_deletes(store: CallbackStore) -> None:
    ident = uuid.uuid4()
    slow = WebhookOutbox(store, "host-1")
    slow.add(ident, "call_ended", "http://127.0.0.1:9/hook", b"{}")
    assert WebhookOutbox(store, "host-2").take_over() == []
    [taken] = WebhookOutbox(store, "host-3", clock=after_the_lease).take_over()
    assert taken.id == ident
    assert not slow.hold(ident, 5.0)  # host-1 must not send it now
    slow.remove(ident)
    assert rows(store)[0]["locked_by"] == "host-3"


def test_each_delivery_is_kept_until_delivered_or_given_up(store: CallbackStore) -> None:
    receiver = Receiver([503] * 2)
    try:
        accepted = WebhookTarget(url=receiver.url, secret=SECRET)
        refused = WebhookTarget(url=receiver.url + "?refused", secret=SECRET, max_attempts=2)
        first = WebhookSender([accepted], first_retry_s=0.02, outbox=WebhookOutbox(store, "h1"))
        first.send("call_ended", {"call_id": "c1"})
        wait_until(lambda: first.delivered == 1, "delivered on the third try")
        wait_until(lambda: rows(store) == [], "delivered: removed")
        assert len({headers["X-Callbot-Delivery"] for headers, _ in receiver.got}) == 1
        receiver.script = [503] * 5
        sender = WebhookSender([refused], first_retry_s=0.02, outbox=WebhookOutbox(store, "h2"))
        sender.send("call_ended", {"call_id": "c2"})
        wait_until(lambda: sender.given_up == 1, "given up")
        wait_until(lambda: rows(store) == [], "given up: removed (and logged)")
        sender.close()
        first.close()
    finally:
        receiver.close()


def test_a_delivery_for_a_target_no_longer_configured_is_given_up(store: CallbackStore) -> None:
    gone = WebhookTarget(url=f"http://127.0.0.1:{free_port()}/old", secret=SECRET)
    WebhookOutbox(store, "host-1").add(uuid.uuid4(), "call_ended", gone.url, b'{"event": "call_ended"}')
    receiver = Receiver()
    try:
        current = WebhookTarget(url=receiver.url, secret=SECRET)
        sender = WebhookSender([current], outbox=WebhookOutbox(store, "host-2", clock=after_the_lease))
        wait_until(lambda: rows(store) == [], "dropped with an error line")
        assert receiver.got == [] and sender.delivered == 0
        sender.close()
    finally:
        receiver.close()


def rows(store: CallbackStore) -> list[dict[str, Any]]:
    with store.engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(select(webhook_outbox)).all()]


def test_a_receiver_that_does_not_speak_http_fails_attempts_without_stopping_the_sender() -> None:
    """A URL pointing at something else (a TLS port, a SIP port): http.client's BadStatusLine is a
    failed attempt like any other, and the one delivery thread goes on with the next deliveries."""
    garbage = socket.socket()
    garbage.bind(("127.0.0.1", 0))
    garbage.listen()

    def answer_garbage() -> None:
        while True:
            try:
                conn, _ = garbage.accept()
            except OSError:
                return
            conn.recv(65536)
            conn.sendall(b"SIP/2.0 400 Bad Request\r\n\r\n")
            conn.close()

    threading.Thread(target=answer_garbage, daemon=True).start()
    receiver = Receiver()
    try:
        odd = WebhookTarget(
            url=f"http://127.0.0.1:{garbage.getsockname()[1]}/", secret=SECRET, max_attempts=2
        )
        good = WebhookTarget(url=receiver.url, secret=SECRET)
        sender = WebhookSender([odd, good], first_retry_s=0.02)
        sender.send("call_ended", {"call_id": "c1"})
        wait_until(lambda: sender.given_up == 1 and sender.delivered == 1, "one given up, one delivered")
        sender.send("call_ended", {"call_id": "c2"})
        wait_until(lambda: sender.delivered == 2, "the thread still delivers")
    finally:
        garbage.close()
        receiver.close()
