"""The ACD load feed over HTTP, against a real HTTP server on 127.0.0.1: figures, timeout, errors."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

import pytest

from callbot.queues import HttpLoad, LoadUnavailable, QueueDirectory

PARIS = ZoneInfo("Europe/Paris")
MONDAY_10H = datetime(2026, 11, 23, 10, 0, tzinfo=PARIS)

# path → (status, body, delay in seconds)
ROUTES: dict[str, tuple[int, bytes, float]] = {
    "/calm": (200, json.dumps({"agents_available": 4, "calls_waiting": 2, "avg_handle_s": 200}).encode(), 0),
    "/busy": (200, json.dumps({"agents_available": 1, "calls_waiting": 6, "avg_handle_s": 180}).encode(), 0),
    "/no-handle-time": (200, json.dumps({"agents_available": 2, "calls_waiting": 2}).encode(), 0),
    "/slow": (200, json.dumps({"agents_available": 4, "calls_waiting": 0}).encode(), 1.0),
    "/broken": (500, b"internal error", 0),
    "/html": (200, b"<html>maintenance</html>", 0),
    "/negative": (200, json.dumps({"agents_available": -1, "calls_waiting": 0}).encode(), 0),
}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status, body, delay = ROUTES.get(self.path, (404, b"not found", 0))
        if delay:
            time.sleep(delay)
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (the timeout test)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def acd() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def queue_with_load(url: str, timeout_ms: int = 300) -> QueueDirectory:
    return QueueDirectory.from_mapping(
        {
            "queues": {
                "sav": {
                    "sip_uri": "sip:sav@pbx",
                    "hours": {"lundi-vendredi": ["09:00-18:00"]},
                    "max_wait_s": 300,
                    "load": {"http": {"url": url, "timeout_ms": timeout_ms}},
                }
            }
        }
    )


def test_live_figures_give_the_estimated_wait(acd: str) -> None:
    status = queue_with_load(f"{acd}/calm")["sav"].status(MONDAY_10H)
    assert status.takes_calls
    assert status.estimated_wait_s == 100.0  # 2 × 200 / 4


def test_live_figures_can_saturate_the_queue(acd: str) -> None:
    status = queue_with_load(f"{acd}/busy")["sav"].status(MONDAY_10H)
    assert status.open and status.saturated
    assert status.estimated_wait_s == 1080.0


def test_missing_handle_time_falls_back_to_the_configured_one(acd: str) -> None:
    load = HttpLoad(f"{acd}/no-handle-time", default_avg_handle_s=120).current()
    assert (load.agents_available, load.calls_waiting, load.avg_handle_s) == (2, 2, 120.0)


def test_a_slow_feed_times_out_quickly_and_the_queue_counts_as_open(acd: str) -> None:
    queue = queue_with_load(f"{acd}/slow", timeout_ms=150)["sav"]
    started = time.monotonic()
    status = queue.status(MONDAY_10H)
    elapsed = time.monotonic() - started
    assert status.open and not status.saturated and status.estimated_wait_s is None
    assert "did not answer within 150 ms" in status.reason
    assert elapsed < 0.9  # well before the server's 1 s answer


def test_http_500_means_unknown_load(acd: str) -> None:
    with pytest.raises(LoadUnavailable, match="answered HTTP 500"):
        HttpLoad(f"{acd}/broken").current()
    status = queue_with_load(f"{acd}/broken")["sav"].status(MONDAY_10H)
    assert status.takes_calls and "HTTP 500" in status.reason


@pytest.mark.parametrize(
    ("path", "message"), [("/html", "did not answer JSON"), ("/negative", "not a count")]
)
def test_malformed_answers_mean_unknown_load(acd: str, path: str, message: str) -> None:
    with pytest.raises(LoadUnavailable, match=message):
        HttpLoad(f"{acd}{path}").current()


def test_a_closed_port_means_unknown_load() -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(LoadUnavailable, match="unreachable"):
        HttpLoad(f"http://127.0.0.1:{port}/load").current()
