"""Plugs a frame-driven conversation (`callbot.session.CallSession`) into a SIP call.

`CallSession` is transport-agnostic: one inbound 20 ms frame in, the bot's 20 ms for the same tick out,
DTMF and hang-up as calls, decisions through a `Channel`. Here is the SIP side of that contract:
- `SessionCallHandler` is a `CallHandler` that ticks the session with every caller frame and queues the
  returned bot audio on the call (silent frames are not sent: the worker plays silence by itself);
- `SipChannel` is the session's `Channel`: a transfer becomes a REFER with the context headers (after
  the queued audio has been played), a hang-up a BYE once the goodbye has been heard.
If the REFER fails, the caller must not be left in silence: the session's `transfer_failed(status,
reason)` is called, and when the dialog cannot take over the handler plays `transfer_failed_audio` and
hangs up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Protocol

from callbot.audio.frame import AudioFrame
from callbot.dialog.actions import ScheduleCallback, Transfer
from callbot.sip.context import TransferContext
from callbot.sip.host import WORKER_LOST, BaseCallHandler, CallControl
from callbot.sip.protocol import CallEnded, DtmfIn, TransferStatus

log = logging.getLogger("callbot.sip.session")


class TickSession(Protocol):
    """The part of `CallSession` a SIP call drives."""

    ended: bool

    def start(self) -> None: ...

    def tick(self, frame: AudioFrame) -> bytes: ...

    def dtmf(self, digit: str) -> None: ...

    def hangup(self, cause: str = "caller_hangup") -> None: ...

    def transfer_failed(self, status: int | None = None, reason: str = "") -> bool:
        """The REFER failed: True when the dialog took over (an offer, an apology), False when it could
        not and the handler must end the call itself."""
        ...


class SipChannel:
    """A session's `Channel` on a live SIP call."""

    def __init__(
        self,
        control: CallControl,
        *,
        queue_uris: Mapping[str, str] | None = None,
        schedule_callback: Callable[[ScheduleCallback], None] | None = None,
    ) -> None:
        self.control = control
        self.queue_uris = dict(queue_uris or {})
        self._schedule_callback = schedule_callback

    def transfer(self, action: Transfer) -> None:
        """REFER to the queue's URI (or to its name through the worker's transfer URI template)."""
        target = self.queue_uris.get(action.queue, action.queue)
        self.control.transfer(target, TransferContext.from_call_context(action.context, action.reason))

    def schedule_callback(self, action: ScheduleCallback) -> None:
        if self._schedule_callback is None:
            # Raising lets the session apologise and transfer instead of promising a call-back nobody keeps.
            raise RuntimeError("no call-back store is configured for SIP calls")
        self._schedule_callback(action)

    def hangup(self, reason: str) -> None:
        self.control.hangup(reason, after_playback=True)


class SessionCallHandler(BaseCallHandler):
    """Drives one `TickSession` from a SIP call's events."""

    def __init__(
        self, session: TickSession, control: CallControl, transfer_failed_audio: bytes = b""
    ) -> None:
        self.session = session
        self.control = control
        self.transfer_failed_audio = transfer_failed_audio
        session.start()

    def on_audio(self, frame: AudioFrame) -> None:
        outbound = self.session.tick(frame)
        if outbound and outbound.count(0) != len(outbound):
            self.control.play(outbound)

    def on_dtmf(self, dtmf: DtmfIn) -> None:
        self.session.dtmf(dtmf.digit)

    def on_transfer_status(self, status: TransferStatus) -> None:
        if not status.final or status.ok:
            return
        log.warning("transfer of %s failed: %d %s", self.control.call_id, status.status_code, status.reason)
        if self.session.transfer_failed(status.status_code, status.reason):
            return
        if self.transfer_failed_audio:
            self.control.play(self.transfer_failed_audio, mark="transfer-failed")
        self.control.hangup(f"transfer failed: {status.status_code} {status.reason}", after_playback=True)

    def on_ended(self, ended: CallEnded) -> None:
        if not self.session.ended:
            self.session.hangup("worker_lost" if ended.reason == WORKER_LOST else "caller_hangup")
