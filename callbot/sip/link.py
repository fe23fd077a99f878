"""The worker's end of the link to its call handler: one Unix-socket connection, re-dialled when lost.

Two plain threads, neither of which touches pjsua2 (a pjsua2 call from an unregistered thread aborts the
process): the sender batches worker events onto the socket, the receiver writes bot audio straight into
the calls' outbound buffers and queues every other command for the PJSIP loop thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Client, Connection
from queue import Empty, SimpleQueue

from callbot.sip.protocol import ClearAudio, Command, Event, PlayAudio, WorkerHello

log = logging.getLogger(__name__)

MAX_BATCH = 256
RECONNECT_S = 0.2


class HandlerLink:
    """Connects to the handler host at `address`, keeps trying while it is away."""

    def __init__(
        self,
        address: str,
        authkey: bytes | None,
        hello: WorkerHello,
        events: SimpleQueue[Event | None],
        commands: SimpleQueue[Command],
        audio_command: Callable[[PlayAudio | ClearAudio], None],
    ) -> None:
        self.address = address
        self.authkey = authkey
        self.hello = hello
        self.events = events
        self.commands = commands
        self.audio_command = audio_command
        self.connected = threading.Event()
        self.ever_connected = threading.Event()
        self._stopping = threading.Event()
        self._conn: Connection | None = None
        self._sender = threading.Thread(target=self._run, name="handler-link", daemon=True)

    def start(self) -> None:
        self._sender.start()

    def close(self, timeout: float = 2.0) -> None:
        """Send what is queued (CallEnded of the last calls), then close."""
        self._stopping.set()
        self.events.put(None)
        self._sender.join(timeout)
        conn = self._conn
        if conn is not None:
            conn.close()

    def _run(self) -> None:
        while not self._stopping.is_set():
            conn = self._connect()
            if conn is None:
                return
            try:
                self._send_loop(conn)
            except (OSError, EOFError, ValueError) as exc:
                log.warning("handler link lost: %s", exc)
            finally:
                self.connected.clear()
                conn.close()

    def _connect(self) -> Connection | None:
        announced = False
        while not self._stopping.is_set():
            self._discard_pending_events()
            try:
                conn = Client(self.address, family="AF_UNIX", authkey=self.authkey)
                conn.send([self.hello])
            except (OSError, EOFError) as exc:
                if not announced:
                    log.info("waiting for the call handler at %s (%s)", self.address, exc)
                    announced = True
                time.sleep(RECONNECT_S)
                continue
            self._conn = conn
            self.connected.set()
            self.ever_connected.set()
            log.info("connected to the call handler at %s", self.address)
            threading.Thread(target=self._receive, args=(conn,), name="handler-recv", daemon=True).start()
            return conn
        return None

    def _discard_pending_events(self) -> None:
        # Without a handler the worker rejects calls and hangs up the ones it had: their events are moot.
        while True:
            try:
                if self.events.get_nowait() is None:
                    self._stopping.set()
            except Empty:
                return

    def _send_loop(self, conn: Connection) -> None:
        while self.connected.is_set():
            try:
                first = self.events.get(timeout=0.2)
            except Empty:
                continue
            batch: list[Event] = []
            stop = first is None
            if first is not None:
                batch.append(first)
            while len(batch) < MAX_BATCH and not stop:
                try:
                    event = self.events.get_nowait()
                except Empty:
                    break
                if event is None:
                    stop = True
                else:
                    batch.append(event)
            if batch:
                conn.send(batch)
            if stop:
                self._stopping.set()
                return

    def _receive(self, conn: Connection) -> None:
        try:
            while True:
                message = conn.recv()
                for command in message if isinstance(message, list) else [message]:
                    if isinstance(command, PlayAudio | ClearAudio):
                        self.audio_command(command)
                    else:
                        self.commands.put(command)
        except (OSError, EOFError, ValueError) as exc:
            if not self._stopping.is_set():
                log.warning("handler link closed: %s", exc or "end of stream")
        except Exception:  # a message we cannot unpickle: drop the link rather than the worker
            log.exception("handler link sent an unreadable message; reconnecting")
        self.connected.clear()
