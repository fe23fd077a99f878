"""The call-back dispatcher's `Dialer`, over SIP: dial the number, wait until the call is over.

`callbot.callbacks.Dispatcher` places due call-backs through a blocking `dial(DialRequest) -> DialResult`.
`SipDialer` does it with the handler host: it originates the call through a worker (the number goes
through the worker's trunk template), and when the person answers, the host's handler factory gets the
call as usual, with `CallStarted.metadata["callback"]` holding the `DialRequest` (queue, queue URI,
context): the handler announces the call-back and transfers to the queue. `dial` returns once that
call has ended, so the dispatcher keeps its lease for the whole call; the result's `reason` is the
call's end ("transferred" when the person was handed to an agent).
"""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import Future
from typing import TYPE_CHECKING

from callbot.audio.frame import AudioFrame
from callbot.sip.host import BaseCallHandler, CallControl, CallHandler, HandlerFactory, HandlerHost
from callbot.sip.protocol import CallEnded, CallStarted, DtmfIn, PlaybackMark, TransferStatus

if TYPE_CHECKING:
    from callbot.callbacks.dispatcher import DialRequest, DialResult

_TOKEN = "dial_token"


class _EndWatcher(BaseCallHandler):
    """Passes every event on to the real handler and reports the call's end to the waiting dialer."""

    def __init__(self, inner: CallHandler, ended: Future[CallEnded]) -> None:
        self.inner = inner
        self.ended = ended

    def on_audio(self, frame: AudioFrame) -> None:
        self.inner.on_audio(frame)

    def on_dtmf(self, dtmf: DtmfIn) -> None:
        self.inner.on_dtmf(dtmf)

    def on_playback_mark(self, mark: PlaybackMark) -> None:
        self.inner.on_playback_mark(mark)

    def on_transfer_status(self, status: TransferStatus) -> None:
        self.inner.on_transfer_status(status)

    def on_ended(self, ended: CallEnded) -> None:
        try:
            self.inner.on_ended(ended)
        finally:
            self.ended.set_result(ended)


class SipDialer:
    """Implements `callbot.callbacks.dispatcher.Dialer` on a running `HandlerHost`."""

    def __init__(
        self,
        host: HandlerHost,
        *,
        caller_id: str | None = None,
        answer_timeout_s: float = 30.0,
        max_call_s: float = 3600.0,
    ) -> None:
        self.host = host
        self.caller_id = caller_id
        self.answer_timeout_s = answer_timeout_s
        self.max_call_s = max_call_s
        self._waiting: dict[str, tuple[DialRequest, Future[CallEnded]]] = {}
        self._lock = threading.Lock()
        host.factory = self._watching(host.factory)

    def dial(self, request: DialRequest) -> DialResult:
        from callbot.callbacks.dispatcher import DialResult

        token = uuid.uuid4().hex
        ended: Future[CallEnded] = Future()
        with self._lock:
            self._waiting[token] = (request, ended)
        try:
            result = self.host.originate(
                request.phone,
                caller_id=self.caller_id,
                headers={"X-Callbot-Callback": str(request.callback_id)},
                metadata={_TOKEN: token, "callback_id": str(request.callback_id)},
                timeout_s=self.answer_timeout_s,
            ).result(self.answer_timeout_s + 30)
            if not result.answered:
                return DialResult(False, result.status_code or None, result.reason)
            try:
                end = ended.result(self.max_call_s)
            except TimeoutError:
                return DialResult(True, 200, f"call still up after {self.max_call_s:.0f} s")
            return DialResult(True, 200, end.reason)
        finally:
            with self._lock:
                self._waiting.pop(token, None)

    def _watching(self, factory: HandlerFactory) -> HandlerFactory:
        def build(started: CallStarted, control: CallControl) -> CallHandler:
            with self._lock:
                waiting = self._waiting.get(str(started.metadata.get(_TOKEN)))
            if waiting is None:
                return factory(started, control)
            request, ended = waiting
            # The request stays in this process (the worker only carried a token): add it for the handler.
            started.metadata["callback"] = request
            return _EndWatcher(factory(started, control), ended)

        return build
