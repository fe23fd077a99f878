"""Webhooks: signed JSON POSTs to a real HTTP receiver on 127.0.0.1, retried with back-off, never
holding up the caller's side, and what a call sends (through the gateway's real handler factory)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from callbot.config import ConfigError, load_settings
from callbot.ops.webhooks import WebhookSender, WebhookTarget, signature

SECRET = "a-secret-of-32-characters-or-so!"


class Receiver:
    """A webhook receiver: answers the statuses in `script` in turn (then 200), keeps what it got."""

    def __init__(self, script: list[int] | None = None, hold: threading.Event | None = None) -> None:
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

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
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
