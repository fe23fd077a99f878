"""The call-handler side of the SIP link: runs conversations in a process of its own.

`HandlerHost` listens on a Unix socket; each SIP worker connects to it and streams its calls' events.
For every answered call the host asks a `HandlerFactory` for a `CallHandler` and drives it from one
thread per call, in event order, so a slow turn (recognition, synthesis) in one call never delays
another call's audio. The handler talks back through its `CallControl`: play, clear, transfer, hang up.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import itertools
import json
import logging
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from multiprocessing.connection import Connection, Listener
from pathlib import Path
from typing import Any, Protocol

from callbot.audio.frame import AudioFrame
from callbot.dialog.actions import CallContext
from callbot.sip.context import TransferContext, transfer_headers
from callbot.sip.media import finish_partial_recording
from callbot.sip.protocol import (
    AudioIn,
    CallEnded,
    CallStarted,
    ClearAudio,
    Command,
    DtmfIn,
    Event,
    Hangup,
    Originate,
    OriginateResult,
    PlayAudio,
    PlaybackMark,
    SendDtmf,
    Transfer,
    TransferStatus,
    WorkerHello,
    call_file_stem,
)

log = logging.getLogger("callbot.sip.host")

#: `CallEnded.reason` of the calls of a worker whose link broke (it died, or lost the host).
WORKER_LOST = "worker lost"


class CallHandler(Protocol):
    """The conversation side of one call. Methods run on the call's own thread, in event order."""

    def on_audio(self, frame: AudioFrame) -> None:
        """20 ms of caller audio, stamped on the call's frame clock (one call every 20 ms)."""

    def on_dtmf(self, dtmf: DtmfIn) -> None:
        """A key pressed by the caller."""

    def on_playback_mark(self, mark: PlaybackMark) -> None:
        """Audio queued with `CallControl.play(..., mark=...)` has been played out."""

    def on_transfer_status(self, status: TransferStatus) -> None:
        """REFER progress; on a final failure (`ok` False) the call is still up and yours."""

    def on_ended(self, ended: CallEnded) -> None:
        """The call is over (whoever ended it); nothing will be delivered after this."""


HandlerFactory = Callable[[CallStarted, "CallControl"], CallHandler]


class BaseCallHandler:
    """A handler that ignores everything: subclass it and override what you need."""

    def on_audio(self, frame: AudioFrame) -> None:
        pass

    def on_dtmf(self, dtmf: DtmfIn) -> None:
        pass

    def on_playback_mark(self, mark: PlaybackMark) -> None:
        pass

    def on_transfer_status(self, status: TransferStatus) -> None:
        pass

    def on_ended(self, ended: CallEnded) -> None:
        pass


class CallControl:
    """What a handler can ask of its call. Thread-safe; every method returns at once."""

    def __init__(self, link: WorkerLink, call: CallStarted) -> None:
        self.link = link
        self.call = call

    @property
    def call_id(self) -> str:
        return self.call.call_id

    def play(self, pcm: bytes, mark: str | None = None) -> None:
        """Queue PCM16 mono audio at `call.sample_rate` after what is already queued."""
        self.link.send(PlayAudio(self.call_id, pcm, mark))

    def clear_audio(self) -> None:
        """Drop the queued bot audio at once (the caller barged in)."""
        self.link.send(ClearAudio(self.call_id))

    def transfer(
        self,
        target: str,
        context: TransferContext | CallContext | None = None,
        *,
        after_playback: bool = True,
        embed_in_refer_to: bool = True,
    ) -> None:
        """Blind-transfer the caller to `target` (SIP URI, or queue name for the worker's URI template)."""
        if isinstance(context, CallContext):
            context = TransferContext.from_call_context(context)
        if context is None:
            context = TransferContext(caller=self.call.caller)
        headers, embedded = transfer_headers(context, self.call_id)
        self.link.send(
            Transfer(self.call_id, target, headers, embedded if embed_in_refer_to else (), after_playback)
        )

    def hangup(self, reason: str = "bot hangup", after_playback: bool = True) -> None:
        self.link.send(Hangup(self.call_id, reason, after_playback))

    def send_dtmf(self, digits: str) -> None:
        self.link.send(SendDtmf(self.call_id, digits))


class _CallRunner:
    """One call's handler and the thread that feeds it its events in order."""

    def __init__(self, link: WorkerLink, started: CallStarted, factory: HandlerFactory) -> None:
        self.link = link
        self.started = started
        self.control = CallControl(link, started)
        self.events: queue.SimpleQueue[Event] = queue.SimpleQueue()
        self.handler: CallHandler | None = None
        self._factory = factory
        self.thread = threading.Thread(target=self._run, name=f"call-{started.call_id[:24]}", daemon=True)

    def _run(self) -> None:
        try:
            self.handler = self._factory(self.started, self.control)
        except Exception:
            log.exception("handler factory failed for call %s; hanging up", self.started.call_id)
            self.control.hangup("handler failed to start", after_playback=False)
        while True:
            event = self.events.get()
            if self.handler is not None:
                try:
                    self._deliver(self.handler, event)
                except Exception:
                    log.exception(
                        "handler of call %s failed on %s", self.started.call_id, type(event).__name__
                    )
            if isinstance(event, CallEnded):
                return

    def _deliver(self, handler: CallHandler, event: Event) -> None:
        if isinstance(event, AudioIn):
            handler.on_audio(AudioFrame(event.pcm, self.started.sample_rate, event.start_ms))
        elif isinstance(event, DtmfIn):
            handler.on_dtmf(event)
        elif isinstance(event, PlaybackMark):
            handler.on_playback_mark(event)
        elif isinstance(event, TransferStatus):
            handler.on_transfer_status(event)
        elif isinstance(event, CallEnded):
            handler.on_ended(event)


class WorkerLink:
    """The host's view of one connected SIP worker."""

    def __init__(self, host: HandlerHost, conn: Connection) -> None:
        self.host = host
        self.conn = conn
        self.hello: WorkerHello | None = None
        self.calls: dict[str, _CallRunner] = {}
        self.closed = threading.Event()
        self._send_lock = threading.Lock()
        self._close_lock = threading.Lock()
        self._conn_closed = False
        self._originations: dict[str, Future[OriginateResult]] = {}
        self._ids = itertools.count(1)

    @property
    def worker_id(self) -> str:
        return self.hello.worker_id if self.hello else "?"

    @property
    def free_slots(self) -> int:
        if self.hello is None or self.closed.is_set():
            return 0
        return self.hello.max_calls - len(self.calls) - len(self._originations)

    def send(self, command: Command) -> None:
        try:
            with self._send_lock:
                self.conn.send(command)
        except (OSError, ValueError) as exc:
            log.warning("command %s to worker %s lost: %s", type(command).__name__, self.worker_id, exc)

    def originate(
        self,
        target: str,
        *,
        caller_id: str | None = None,
        headers: Mapping[str, str] | None = None,
        metadata: Mapping[str, Any] | None = None,
        timeout_s: float = 30.0,
    ) -> Future[OriginateResult]:
        """Dial out; the future resolves when answered or failed. An answered call then reaches the
        handler factory as a `CallStarted` with `direction="outbound"` and this `metadata`."""
        request_id = f"{self.worker_id}-{os.getpid()}-{next(self._ids)}"
        future: Future[OriginateResult] = Future()
        self._originations[request_id] = future
        self.send(
            Originate(
                request_id, target, caller_id, tuple((headers or {}).items()), dict(metadata or {}), timeout_s
            )
        )
        return future

    def serve(self) -> None:
        try:
            while True:
                batch = self.conn.recv()
                for event in batch if isinstance(batch, list) else [batch]:
                    self._dispatch(event)
        except (EOFError, OSError):
            pass
        except Exception:
            log.exception("unreadable message from worker %s; dropping the link", self.worker_id)
        finally:
            self._lost()

    def _dispatch(self, event: Event) -> None:
        if isinstance(event, WorkerHello):
            self.hello = event
            log.info(
                "worker %s (pid %d) connected, %d call slots", event.worker_id, event.pid, event.max_calls
            )
            self.host._worker_connected(self)
        elif isinstance(event, CallStarted):
            runner = _CallRunner(self, event, self.host.factory)
            self.calls[event.call_id] = runner
            runner.thread.start()
        elif isinstance(event, OriginateResult):
            future = self._originations.pop(event.request_id, None)
            if future is not None:
                future.set_result(event)
        else:
            call_runner = self.calls.get(event.call_id)
            if call_runner is None:
                return
            call_runner.events.put(event)
            if isinstance(event, CallEnded):
                del self.calls[event.call_id]

    def close_connection(self) -> None:
        """Close the link's socket once, whichever thread asks first: the host stopping and the link's
        own thread losing the worker may both close it, and two unguarded closes race (the second fails
        with EBADF, or closes a descriptor another thread has since opened)."""
        with self._close_lock:
            if self._conn_closed:
                return
            self._conn_closed = True
        with contextlib.suppress(OSError):
            self.conn.close()

    def _lost(self) -> None:
        self.closed.set()
        self.close_connection()
        dead = self.hello is not None and _process_gone(self.hello.pid)
        for call_id, runner in list(self.calls.items()):
            recording = self._finish_recording(call_id) if dead else None
            runner.events.put(CallEnded(call_id, WORKER_LOST, 0, 0, recording))
        self.calls.clear()
        for request_id, future in list(self._originations.items()):
            future.set_result(OriginateResult(request_id, False, 503, "worker lost"))
        self._originations.clear()
        log.warning("worker %s disconnected", self.worker_id)
        self.host._worker_lost(self)

    def _finish_recording(self, call_id: str) -> str | None:
        """The recording a dead worker was writing for `call_id`, made a valid WAV (it cannot do it)."""
        directory = self.hello.recording_dir if self.hello is not None else None
        if directory is None:
            return None
        part = Path(directory) / f"{call_file_stem(call_id)}.wav.part"
        finished = finish_partial_recording(part) if part.exists() else None
        if finished is not None:
            log.warning("recording of %s finished for the lost worker: %s", call_id, finished)
        return str(finished) if finished is not None else None


def _process_gone(pid: int, wait_s: float = 2.0) -> bool:
    """True once `pid` has exited (gone, or a zombie its parent has not reaped yet). The link breaks as
    the process dies, so it is given `wait_s`; a worker still alive only lost its link, and finishes
    its own recordings."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return True
        if state in ("Z", "X"):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


class HandlerHost:
    """Accepts SIP workers on a Unix socket and runs a handler per call they carry."""

    def __init__(self, address: str | Path, factory: HandlerFactory, authkey: bytes | None = None) -> None:
        self.address = str(address)
        self.factory = factory
        self.authkey = authkey
        self.links: list[WorkerLink] = []
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.address)
        self._listener = Listener(self.address, family="AF_UNIX", authkey=authkey)
        os.chmod(self.address, 0o600)
        self._closed = False
        self._thread = threading.Thread(target=self._accept_loop, name="handler-host", daemon=True)

    def start(self) -> HandlerHost:
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._accept_loop()

    def close(self) -> None:
        self._closed = True
        self._listener.close()
        for link in list(self.links):
            link.close_connection()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.address)

    def __enter__(self) -> HandlerHost:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def wait_for_workers(self, count: int, timeout: float) -> list[WorkerLink]:
        """Block until `count` workers have said hello (raises TimeoutError otherwise)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.connected_links()) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(self.connected_links())} of {count} SIP workers connected")
                self._changed.wait(left)
            return self.connected_links()

    def connected_links(self) -> list[WorkerLink]:
        return [link for link in self.links if link.hello is not None and not link.closed.is_set()]

    def originate(self, target: str, **options: Any) -> Future[OriginateResult]:
        """Dial out through the connected worker with the most free call slots."""
        links = [link for link in self.connected_links() if link.free_slots > 0]
        if not links:
            future: Future[OriginateResult] = Future()
            future.set_result(OriginateResult("-", False, 503, "no SIP worker with a free call slot"))
            return future
        return max(links, key=lambda link: link.free_slots).originate(target, **options)

    def _accept_loop(self) -> None:
        while not self._closed:
            try:
                conn = self._listener.accept()
            except OSError:
                if self._closed:
                    return
                log.exception("accepting a worker failed")
                continue
            except Exception:  # failed authentication and the like: refuse that one, keep serving
                log.exception("worker refused")
                continue
            link = WorkerLink(self, conn)
            with self._lock:
                self.links.append(link)
            threading.Thread(target=link.serve, name="worker-link", daemon=True).start()

    def _worker_connected(self, link: WorkerLink) -> None:
        with self._changed:
            self._changed.notify_all()

    def _worker_lost(self, link: WorkerLink) -> None:
        with self._changed:
            if link in self.links:
                self.links.remove(link)
            self._changed.notify_all()


def load_factory(spec: str, options: Mapping[str, Any]) -> HandlerFactory:
    """`module:callable` → `callable(options)`, which returns the HandlerFactory to use."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"handler {spec!r}: write it as 'package.module:build_function'")
    try:
        builder = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"handler {spec!r}: {exc}") from exc
    factory: HandlerFactory = builder(dict(options))
    return factory


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m callbot.sip.host", description=__doc__.splitlines()[0])
    parser.add_argument("--address", required=True, help="Unix socket path the SIP workers connect to")
    parser.add_argument("--handler", required=True, help="module:build_function returning a HandlerFactory")
    parser.add_argument("--options", default="{}", help="JSON object passed to the build function")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        options = json.loads(args.options)
        if not isinstance(options, dict):
            raise ValueError("--options must be a JSON object")
        factory = load_factory(args.handler, options)
    except (ValueError, json.JSONDecodeError) as exc:
        print(f"callbot sip host: {exc}", file=sys.stderr)
        return 2
    authkey = os.environ.get("CALLBOT_SIP_AUTHKEY")
    host = HandlerHost(args.address, factory, authkey.encode() if authkey else None)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    host.start()
    log.info("call handler %s listening on %s", args.handler, args.address)
    # A factory may run background work that needs the host, e.g. the call-back dispatcher (serve.py).
    start_services = getattr(factory, "start_services", None)
    stop_services = start_services(host) if callable(start_services) else None
    while not stop.wait(0.5):
        pass
    if stop_services is not None:
        stop_services()  # no new outbound calls; those in progress run on like any other call
    # Calls still running belong to workers that are draining: keep serving until they are gone.
    deadline = time.monotonic() + float(os.environ.get("CALLBOT_SIP_HOST_DRAIN_S", "90"))
    while any(link.calls for link in host.links) and time.monotonic() < deadline:
        time.sleep(0.2)
    host.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
