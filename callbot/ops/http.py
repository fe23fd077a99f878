"""The HTTP side of `callbot serve`: `/metrics`, `/healthz`, `/readyz`, the JSON API and the ops page.

Standard library `http.server` (threaded), read-only, small. Loopback by default; on any other address
a bearer token is required (`http.token` or `$CALLBOT_HTTP_TOKEN`), for every path but the two health
probes a load balancer polls. Nothing here can stop a call: the server runs in the supervisor's
process, reads the database, the live-call folder and the metric files, and writes nothing.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

from callbot.callbacks.admin import parse_day, parse_moment
from callbot.calls.store import CallRecordStore, day_bounds
from callbot.clock import Clock, wall_clock
from callbot.config import ConfigError
from callbot.dialog.graph import FlowGraph
from callbot.ops.collector import CallbackFigures, GatewayCollector
from callbot.ops.live import LiveCallBoard
from callbot.ops.metrics import forget_dead_processes
from callbot.ops.multiproc import multiprocess_dir
from callbot.queues.directory import QueueDirectory
from callbot.queues.hours import PARIS

log = logging.getLogger("callbot.ops.http")
READY_METRIC = "callbot_sip_workers_connected"


class HttpConfigError(ConfigError):
    """The HTTP side cannot start as configured (one line for the user)."""


def parse_http_address(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise HttpConfigError(f"--http {value!r}: expected ADDRESS:PORT, e.g. 127.0.0.1:8080")
    return host, int(port)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class OpsContext:
    """What the HTTP side reads; every part may be missing (the page says so)."""

    records: CallRecordStore | None = None
    callbacks: CallbackFigures | None = None
    board: LiveCallBoard | None = None
    queues: QueueDirectory | None = None
    status_file: Path | None = None
    flow_name: str = ""
    flow_graph: FlowGraph | None = None
    clock: Clock = wall_clock
    token: str | None = None

    # -------------------------------------------------------------------------------- readings

    def registry(self) -> CollectorRegistry:
        """What `/metrics` serves: every gateway process's metrics, and the figures read from the
        database and the supervisor's status file."""
        registry = self._processes()
        registry.register(GatewayCollector(self.callbacks, self.status_file))
        return registry

    def _processes(self) -> CollectorRegistry:
        registry = CollectorRegistry()
        folder = multiprocess_dir()
        if folder is None:  # one process (tests, a library user): its own metrics
            registry.register(_Chain(REGISTRY))
            return registry
        from prometheus_client import multiprocess

        forget_dead_processes(folder)
        multiprocess.MultiProcessCollector(registry, str(folder))
        return registry

    def workers_connected(self) -> int:
        """SIP workers connected to their conversation host, over all hosts (no database read: a load
        balancer polls this)."""
        total = 0.0
        for family in self._processes().collect():
            if family.name == READY_METRIC:
                total += sum(sample.value for sample in family.samples)
        return int(total)

    def period(self, query: dict[str, list[str]]) -> tuple[datetime, datetime]:
        today = self.clock().astimezone(PARIS).date()
        if "from" in query or "to" in query:
            start = parse_moment(query["from"][0]) if "from" in query else datetime(2000, 1, 1, tzinfo=PARIS)
            end = parse_moment(query["to"][0]) if "to" in query else self.clock() + timedelta(days=1)
            return start, end
        day = parse_day(query["day"][0], today) if "day" in query else today
        return day_bounds(day)

    def queue_states(self) -> list[dict[str, Any]]:
        if self.queues is None:
            return []
        now = self.clock().astimezone(PARIS)
        states = []
        for name in self.queues:
            status = self.queues.status(name, now)
            state = "saturated" if status.open and status.saturated else ("open" if status.open else "closed")
            states.append(
                {
                    "queue": name,
                    "state": state,
                    "estimated_wait_s": status.estimated_wait_s,
                    "why": "" if status.takes_calls else status.why_not_fr(now),
                }
            )
        return states


class _Chain:
    """Makes the default registry's collectors part of another registry."""

    def __init__(self, source: CollectorRegistry) -> None:
        self.source = source

    def collect(self) -> Any:
        return self.source.collect()


class OpsServer:
    """`ThreadingHTTPServer` on `address:port` (port 0: any free one; see `url`)."""

    def __init__(self, context: OpsContext, host: str, port: int) -> None:
        if not is_loopback(host) and not context.token:
            raise HttpConfigError(
                f"--http {host}:{port} is not a loopback address: set http.token (or $CALLBOT_HTTP_TOKEN) "
                "so that only bearers of the token read call data"
            )
        self.context = context
        handler = type("OpsHandler", (_Handler,), {"context": context})
        self.server = ThreadingHTTPServer((host, port), handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, name="ops-http", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        host = str(host)
        return f"http://{f'[{host}]' if ':' in host else host}:{port}/"

    def start(self) -> OpsServer:
        self._thread.start()
        return self

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _Handler(BaseHTTPRequestHandler):
    context: OpsContext
    server_version = "callbot-ops"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/") or "/"
        query = parse_qs(parts.query)
        if path not in ("/healthz", "/readyz") and not self._authorised():
            self._send(
                HTTPStatus.UNAUTHORIZED,
                b"bearer token required\n",
                "text/plain",
                {"WWW-Authenticate": 'Bearer realm="callbot"'},
            )
            return
        try:
            self._route(path, query)
        except (ValueError, KeyError) as exc:
            status = HTTPStatus.NOT_FOUND if isinstance(exc, KeyError) else HTTPStatus.BAD_REQUEST
            self._json({"error": exc.args[0] if exc.args else str(exc)}, status)
        except Exception:
            log.exception("GET %s failed", self.path)
            self._json({"error": "internal error"}, HTTPStatus.INTERNAL_SERVER_ERROR)

    def _authorised(self) -> bool:
        token = self.context.token
        if not token:
            return True
        given = self.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())

    def _route(self, path: str, query: dict[str, list[str]]) -> None:
        context = self.context
        if path == "/healthz":
            self._send(HTTPStatus.OK, b"ok\n", "text/plain")
        elif path == "/readyz":
            connected = context.workers_connected()
            status = HTTPStatus.OK if connected else HTTPStatus.SERVICE_UNAVAILABLE
            self._send(
                status,
                f"{'ready' if connected else 'not ready'}: {connected} SIP worker(s) connected "
                "to their call handler\n".encode(),
                "text/plain",
            )
        elif path == "/metrics":
            self._send(HTTPStatus.OK, generate_latest(context.registry()), CONTENT_TYPE_LATEST)
        elif path == "/api/stats":
            self._json(self._records().stats(*context.period(query)).as_dict())
        elif path == "/api/calls":
            limit = int(query.get("limit", ["100"])[0])
            start, end = context.period(query) if query.keys() & {"day", "from", "to"} else (None, None)
            self._json([record.as_dict() for record in self._records().list(start, end, limit=limit)])
        elif path == "/api/live":
            self._json(context.board.calls() if context.board else [])
        elif path.startswith("/api/calls/") and path.endswith("/recording"):
            self._recording(unquote(path[len("/api/calls/") : -len("/recording")]))
        elif path.startswith("/api/calls/"):
            self._json(self._records().get(unquote(path[len("/api/calls/") :])).as_dict())
        elif path == "/":
            from callbot.ops.page import render_page

            self._send(HTTPStatus.OK, render_page(context).encode(), "text/html; charset=utf-8")
        else:
            self._json({"error": f"no such page: {path}"}, HTTPStatus.NOT_FOUND)

    def _records(self) -> CallRecordStore:
        if self.context.records is None:
            raise KeyError("call records are not kept here")
        return self.context.records

    def _recording(self, ident: str) -> None:
        record = self._records().get(ident)
        path = Path(record.recording_path) if record.recording_path else None
        if path is None or not path.is_file():
            raise KeyError(f"call {ident!r} has no recording")
        self._send(HTTPStatus.OK, path.read_bytes(), "audio/wav")

    def _json(self, value: Any, status: HTTPStatus = HTTPStatus.OK) -> None:
        self._send(status, json.dumps(value, ensure_ascii=False).encode(), "application/json")

    def _send(
        self, status: HTTPStatus, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
