"""Watches a SIP call's conversation: keeps it on the live board and, when the call ends, writes its
call record and counts it in the metrics.

`CallRecorder.watch` wraps the gateway's `SessionCallHandler`; every event still reaches the session
as before. The record is written whatever happened: a handler that raised is counted as an error (and
the exception goes on to the host, which logs it), a worker that died ends the call with "worker
lost", a conversation that could not even start gets an `error` record of its own. Writing the record
never raises into the call: a database that is down costs a log line, not a caller.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from callbot.audio.frame import AudioFrame
from callbot.calls.records import CallRecord, flow_hash, record_from_session, transcript_of_turns
from callbot.clock import Clock, wall_clock
from callbot.ops import metrics
from callbot.privacy import mask_number, redact_event
from callbot.sip.host import BaseCallHandler
from callbot.sip.protocol import CallEnded, CallStarted, DtmfIn, PlaybackMark, TransferStatus

if TYPE_CHECKING:
    from callbot.calls.store import CallRecordStore
    from callbot.dialog.flow import Flow
    from callbot.ops.live import LiveCallBoard
    from callbot.ops.webhooks import WebhookSender
    from callbot.session.call_session import CallSession
    from callbot.sip.session_adapter import SessionCallHandler

log = logging.getLogger("callbot.ops.recorder")
_LIVE_EVERY_FRAMES = 25  # the live board is refreshed twice a second
_FAILURES_KEPT = 20


def call_direction(call: CallStarted) -> str:
    """`callback` for the calls the gateway places to keep a call-back, else `inbound`."""
    return "callback" if call.direction == "outbound" and "callback" in call.metadata else "inbound"


class CallRecorder:
    """One per conversation host: where records go (None: not kept) and the live board (None: none)."""

    def __init__(
        self,
        records: CallRecordStore | None,
        board: LiveCallBoard | None,
        flow: Flow,
        clock: Clock = wall_clock,
        webhooks: WebhookSender | None = None,
        *,
        redact: bool = False,
    ) -> None:
        #: `redact` setting: numbers masked and words said left out of records, the live board and
        #: webhooks (callbot/privacy.py).
        self.redact = redact
        self.records = records
        self.webhooks = webhooks
        self.board = board
        self.flow = flow
        self.flow_hash = flow_hash(flow)
        self.clock = clock

    def watch(self, call: CallStarted, handler: SessionCallHandler, started_at: datetime) -> RecordedCall:
        return RecordedCall(self, call, handler, started_at)

    def failed_to_start(self, call: CallStarted, started_at: datetime, error: BaseException) -> None:
        """The conversation could not be built: the host hangs up; the call still gets its record."""
        record = CallRecord(
            call_id=call.call_id,
            started_at=started_at,
            ended_at=self.clock(),
            direction=call_direction(call),
            outcome="error",
            caller=call.caller_number,
            called=call.callee,
            flow=self.flow.name,
            flow_hash=self.flow_hash,
            end_reason="the conversation could not start",
            errors=1,
            error_text=f"{type(error).__name__}: {error}",
        )
        self.keep(record, ())

    def keep(
        self, record: CallRecord, response_ms: tuple[int, ...], compute_ms: tuple[int, ...] = ()
    ) -> None:
        """Count the finished call and store its record (a storage failure is logged, never raised)."""
        if self.redact:
            record = replace(
                record, caller=mask_number(record.caller), called=mask_number(record.called), transcript=()
            )
        metrics.CALLS.labels(record.direction, record.outcome).inc()
        if record.outcome == "transferred":
            metrics.TRANSFERS.labels(record.queue or "?").inc()
        if record.outcome == "callback":
            metrics.CALLBACKS_BOOKED.inc()
        if record.errors:
            metrics.CALL_ERRORS.inc(record.errors)
        for ms in response_ms:
            metrics.RESPONSE_SECONDS.observe(ms / 1000)
        for ms in compute_ms:
            metrics.TURN_COMPUTE_SECONDS.observe(ms / 1000)
        if self.records is not None:
            try:
                self.records.add(record)
            except Exception:
                log.exception("the record of call %s could not be stored", record.call_id)
        if self.webhooks is not None:
            self.webhooks.send("call_ended", record.as_dict())


class RecordedCall(BaseCallHandler):
    """A `SessionCallHandler` seen by ops: live while it runs, a record once it has ended."""

    def __init__(
        self, recorder: CallRecorder, call: CallStarted, inner: SessionCallHandler, started_at: datetime
    ) -> None:
        self.recorder = recorder
        self.call = call
        self.inner = inner
        self.started_at = started_at
        self.direction = call_direction(call)
        self.failures: list[str] = []
        self._frames = 0
        self._finished = False
        metrics.CALLS_IN_PROGRESS.labels(self.direction).inc()
        self._show()

    @property
    def session(self) -> CallSession:
        """The conversation (the gateway's call-back judge reads its outcome)."""
        session: CallSession = self.inner.session  # type: ignore[assignment]
        return session

    def on_audio(self, frame: AudioFrame) -> None:
        self._guard(lambda: self.inner.on_audio(frame))
        self._frames += 1
        if self._frames % _LIVE_EVERY_FRAMES == 0:
            self._show()

    def on_dtmf(self, dtmf: DtmfIn) -> None:
        self._guard(lambda: self.inner.on_dtmf(dtmf))

    def on_playback_mark(self, mark: PlaybackMark) -> None:
        self._guard(lambda: self.inner.on_playback_mark(mark))

    def on_transfer_status(self, status: TransferStatus) -> None:
        self._guard(lambda: self.inner.on_transfer_status(status))
        outcome = self.session.outcome
        if status.final and status.ok and self.recorder.webhooks is not None:
            queue = outcome.queue if outcome is not None and outcome.type == "transfer" else None
            summary = self._summary(queue)
            self.recorder.webhooks.send(
                "transferred", redact_event(summary) if self.recorder.redact else summary
            )

    def _summary(self, queue: str | None) -> dict[str, object]:
        """What a webhook receiver needs of the call so far (the transcript only if the target asks)."""
        turns = self.session.turns
        return {
            "call_id": self.call.call_id,
            "direction": self.direction,
            "caller": self.call.caller_number,
            "called": self.call.callee,
            "started_at": self.started_at.isoformat(),
            "queue": queue,
            "intents": [t.intent for t in turns if t.intent],
            "transcript": list(transcript_of_turns(turns)),
        }

    def on_ended(self, ended: CallEnded) -> None:
        try:
            self._guard(lambda: self.inner.on_ended(ended))
        finally:
            self._finish(ended)

    def _guard(self, step: Callable[[], None]) -> None:
        try:
            step()
        except Exception as exc:
            if len(self.failures) < _FAILURES_KEPT:  # a call failing on every frame stays a few lines
                self.failures.append(
                    f"{type(exc).__name__}: {exc} ({traceback.format_exc(limit=2).splitlines()[-2].strip()})"
                )
            raise

    def _show(self) -> None:
        """Refresh the call on the live board; never raises (the page is not worth a call)."""
        try:
            self._write_live_state()
        except Exception:
            log.debug("live state of call %s not written", self.call.call_id, exc_info=True)

    def _write_live_state(self) -> None:
        board = self.recorder.board
        if board is None:
            return
        session = self.session
        said = next((t for t in reversed(session.turns) if t.transcript or t.dtmf), None)
        try:
            state = session.conversation.state
        except Exception:
            state = "?"
        state_now = {
            "call_id": self.call.call_id,
            "direction": self.direction,
            "caller": self.call.caller_number,
            "called": self.call.callee,
            "started_at": self.started_at.isoformat(),
            "state": state,
            "turns": len(session.turns),
            "last_said": (said.transcript or f"[touches {said.dtmf}]") if said else "",
            "last_bot": session.turns[-1].bot if session.turns else "",
            # Enough for a record should this host die under the call (callbot/ops/orphans.py).
            "flow": self.recorder.flow.name,
            "flow_hash": self.recorder.flow_hash,
            "intents": [t.intent for t in session.turns if t.intent],
            "transcript": list(transcript_of_turns(session.turns)),
        }
        board.update(self.call.call_id, redact_event(state_now) if self.recorder.redact else state_now)

    def _finish(self, ended: CallEnded) -> None:
        if self._finished:
            return
        self._finished = True
        metrics.CALLS_IN_PROGRESS.labels(self.direction).dec()
        if self.recorder.board is not None:
            self.recorder.board.remove(self.call.call_id)
        session = self.session
        try:
            record = record_from_session(
                session,
                call_id=self.call.call_id,
                started_at=self.started_at,
                ended_at=self.recorder.clock(),
                direction=self.direction,
                caller=self.call.caller_number,
                called=self.call.callee,
                flow=self.recorder.flow,
                flow_hash=self.recorder.flow_hash,
                end_reason=ended.reason,
                recording_path=ended.recording_path,
                # The worker process died under the call: the caller was cut off, whatever the dialog did.
                extra_errors=[*self.failures, *(["worker lost"] if ended.reason == "worker lost" else [])],
            )
        except Exception as exc:  # the session is in pieces: still one row, marked as an error
            log.exception("call %s: building its record failed", self.call.call_id)
            record = CallRecord(
                call_id=self.call.call_id,
                started_at=self.started_at,
                ended_at=self.recorder.clock(),
                direction=self.direction,
                outcome="error",
                caller=self.call.caller_number,
                called=self.call.callee,
                end_reason=ended.reason,
                errors=len(self.failures) + 1,
                error_text="; ".join([*self.failures, f"{type(exc).__name__}: {exc}"]),
                recording_path=ended.recording_path,
            )
        outcome = session.outcome
        if self.recorder.webhooks is not None and outcome is not None and outcome.type == "callback":
            booked = {
                **self._summary(record.queue),
                "at": outcome.callback_at.isoformat() if outcome.callback_at else None,
            }
            self.recorder.webhooks.send(
                "callback_booked", redact_event(booked) if self.recorder.redact else booked
            )
        responses = tuple(t.response_ms for t in session.turns if t.response_ms is not None)
        computes = tuple(int(e.get("compute_ms") or 0) for e in session.log.of_type("decision"))
        self.recorder.keep(record, responses, computes)
