"""The call-back dispatcher's `Dialer`, over SIP: dial the number, wait until the call is over.

`callbot.callbacks.Dispatcher` places due call-backs through a blocking `dial(DialRequest) -> DialResult`.
`SipDialer` does it with the handler host: it originates the call through a worker (the number goes
through the worker's trunk template), and when the person answers, the host's handler factory gets the
call as usual, with `CallStarted.metadata["callback"]` holding the `DialRequest` (queue, queue URI,
context): the handler announces the call-back and transfers to the queue. `dial` returns once that
call has ended, so the dispatcher keeps its lease for the whole call. What the answered call achieved
(put through, a voicemail, the wrong person…) is read from the handler by `judge`, when given;
otherwise an answered call counts as reached, with the call's end as the reason.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING

from callbot.audio.frame import AudioFrame
from callbot.sip.host import BaseCallHandler, CallControl, CallHandler, HandlerFactory, HandlerHost
from callbot.sip.protocol import CallEnded, CallStarted, DtmfIn, PlaybackMark, TransferStatus

if TYPE_CHECKING:
    from callbot.callbacks.dispatcher import DialRequest, DialResult

_TOKEN = "dial_token"

#: Reads what an answered call-back call achieved from its handler, once the call is over.
CallJudge = Callable[[CallHandler, CallEnded], "DialResult"]


def reached(handler: CallHandler, ended: CallEnded) -> DialResult:
    """The default judge: an answered call reached the person."""
    from callbot.callbacks.dispatcher import DialResult

    return DialResult(True, 200, ended.reason)


class _EndWatcher(BaseCallHandler):
    """Passes every event on to the real handler and reports the call's result to the waiting dialer."""

    def __init__(self, inner: CallHandler, ended: Future[DialResult], judge: CallJudge) -> None:
        self.inner = inner
        self.ended = ended
        self.judge = judge

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
            try:
                self.ended.set_result(self.judge(self.inner, ended))
            except Exception as exc:  # a broken judge must not leave the dispatcher waiting for ever
                self.ended.set_exception(exc)


class SipDialer:
    """Implements `callbot.callbacks.dispatcher.Dialer` on a running `HandlerHost`."""

    def __init__(
        self,
        host: HandlerHost,
        *,
        caller_id: str | None = None,
        answer_timeout_s: float = 30.0,
        max_call_s: float = 3600.0,
        judge: CallJudge = reached,
        reserve_slots: int = 0,
    ) -> None:
        self.host = host
        self.caller_id = caller_id
        self.answer_timeout_s = answer_timeout_s
        self.max_call_s = max_call_s
        self.judge = judge
        self.reserve_slots = reserve_slots
        self._waiting: dict[str, tuple[DialRequest, Future[DialResult]]] = {}
        self._starting = 0  # dial() calls that have not yet reached a worker
        self._lock = threading.Lock()
        host.factory = self._watching(host.factory)

    def free_capacity(self) -> int:
        """How many more call-backs can be placed now: free call slots on the connected workers, less
        those kept for callers (`reserve_slots`) and those being dialled. For `Dispatcher(capacity=...)`."""
        free = sum(link.free_slots for link in self.host.connected_links())
        with self._lock:
            return max(0, free - self.reserve_slots - self._starting)

    def dial(self, request: DialRequest) -> DialResult:
        from callbot.callbacks.dispatcher import DialResult

        token = uuid.uuid4().hex
        ended: Future[DialResult] = Future()
        with self._lock:
            self._waiting[token] = (request, ended)
            self._starting += 1
        starting = True
        try:
            originating = self.host.originate(
                request.phone,
                caller_id=self.caller_id,
                headers={"X-Callbot-Callback": str(request.callback_id)},
                metadata={_TOKEN: token, "callback_id": str(request.callback_id)},
                timeout_s=self.answer_timeout_s,
            )
            with self._lock:  # from here the worker link counts the call in its free slots
                self._starting -= 1
            starting = False
            result = originating.result(self.answer_timeout_s + 30)
            if not result.answered:
                return DialResult(False, result.status_code or None, result.reason)
            try:
                return ended.result(self.max_call_s)
            except TimeoutError:
                return DialResult(True, 200, f"call still up after {self.max_call_s:.0f} s")
        finally:
            with self._lock:
                self._waiting.pop(token, None)
                if starting:
                    self._starting -= 1

    def _watching(self, factory: HandlerFactory) -> HandlerFactory:
        def build(started: CallStarted, control: CallControl) -> CallHandler:
            with self._lock:
                waiting = self._waiting.get(str(started.metadata.get(_TOKEN)))
            if waiting is None:
                return factory(started, control)
            request, ended = waiting
            # The request stays in this process (the worker only carried a token): add it for the handler.
            started.metadata["callback"] = request
            return _EndWatcher(factory(started, control), ended, self.judge)

        return build
