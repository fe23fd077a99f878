"""What one finished call leaves behind for ops: a `CallRecord`, built from its session.

The outcome is read from the session's own `Outcome` (see callbot/session/call_session.py):
- a transfer is `transferred` (with its queue), a confirmed call-back `callback`;
- the bot's goodbye is `bot`: the bot answered the call by itself;
- a caller who hangs up is `bot` when the bot had answered at least one understood request (the caller
  heard the opening hours and left), else `abandoned`;
- a session that broke (an `error` event, or no outcome at all) is `error` — unless it still reached a
  queue, where the caller is in good hands and the error is counted in `errors`.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from callbot.dialog.flow import Flow
    from callbot.replay.replay import ReplayResult
    from callbot.session.call_session import CallSession, TurnRecord


@dataclass(frozen=True)
class CallRecord:
    """One row of `call_records`: a finished call as a contact-centre lead reads it."""

    call_id: str
    started_at: datetime
    ended_at: datetime
    direction: str  # inbound | callback
    outcome: str  # bot | transferred | callback | abandoned | error
    caller: str | None = None
    called: str | None = None
    flow: str | None = None
    flow_hash: str | None = None
    queue: str | None = None
    end_reason: str | None = None
    intents: tuple[str, ...] = ()
    turns: int = 0
    response_p50_ms: int | None = None
    response_p95_ms: int | None = None
    errors: int = 0
    error_text: str | None = None
    transcript: tuple[str, ...] = ()
    recording_path: str | None = None
    id: uuid.UUID = field(default_factory=uuid.uuid4)

    @property
    def duration_s(self) -> float:
        return (self.ended_at - self.started_at).total_seconds()

    @property
    def resolved_by_bot(self) -> bool:
        return self.outcome == "bot"

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON values (times ISO-8601), for the HTTP API and `calls show --json`."""
        out = asdict(self)
        out["id"] = str(self.id)
        out["started_at"] = self.started_at.isoformat()
        out["ended_at"] = self.ended_at.isoformat()
        out["intents"] = list(self.intents)
        out["transcript"] = list(self.transcript)
        out["duration_s"] = round(self.duration_s, 1)
        return out


def percentile(values: Sequence[float], share: float) -> int | None:
    """Nearest-rank percentile (`share` in 0..1); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return int(ordered[rank - 1])


def flow_hash(flow: Flow) -> str:
    """The flow file's SHA-256 (as in the event-log header): which version of the flow answered a call.
    Read once per process, not per call: records take it as `flow_hash`."""
    from callbot.dialog.flow import flow_file_sha256

    return flow_file_sha256(flow.path) or "unknown"


def outcome_of(
    session_outcome: dict[str, Any] | None, understood_turns: int, errors: int
) -> tuple[str, str | None]:
    """(outcome, queue) from the session's `Outcome.as_dict()`; see the module's docstring."""
    kind = (session_outcome or {}).get("type")
    queue = (session_outcome or {}).get("queue")
    if kind == "transfer":
        return "transferred", queue
    if kind == "callback":
        return "callback", queue
    if kind is None or kind == "error" or errors:
        return "error", None
    if kind == "hangup":
        return "bot", None
    return ("bot" if understood_turns else "abandoned"), None


def record_from_session(
    session: CallSession,
    *,
    call_id: str,
    started_at: datetime,
    ended_at: datetime,
    direction: str,
    caller: str | None,
    called: str | None,
    flow: Flow,
    flow_hash: str,
    end_reason: str | None = None,
    recording_path: str | None = None,
    extra_errors: Sequence[str] = (),
) -> CallRecord:
    """The record of a call whose session has ended (or broke): never raises on a half-built session."""
    try:
        transcript = tuple(session.conversation.context().transcript)
    except Exception:  # a broken dialog still gets its record, from the turns the session kept
        transcript = transcript_of_turns(session.turns)
    return build_record(
        session.turns,
        session.outcome.as_dict() if session.outcome is not None else None,
        [*(str(event.get("error", "")) for event in session.log.of_type("error")), *extra_errors],
        transcript,
        call_id=call_id,
        started_at=started_at,
        ended_at=ended_at,
        direction=direction,
        caller=caller,
        called=called,
        flow=flow,
        flow_hash=flow_hash,
        end_reason=end_reason,
        recording_path=recording_path,
    )


def record_from_replay(
    result: ReplayResult, *, started_at: datetime, caller: str | None, flow: Flow, flow_hash: str
) -> CallRecord:
    """The record of a replayed call (`callbot replay --record-calls`): started at the replay's `--now`,
    lasting its audio. The caller's WAV is not the call's recording: a purge must never delete it."""
    call_id = str(result.events[0]["call_id"]) if result.events else "replay"
    return build_record(
        result.turns,
        result.outcome.as_dict(),
        [str(event.get("error", "")) for event in result.events if event.get("event") == "error"],
        transcript_of_turns(result.turns),
        call_id=call_id,
        started_at=started_at,
        ended_at=started_at + timedelta(milliseconds=result.audio_ms),
        direction="inbound",
        caller=caller,
        called=None,
        flow=flow,
        flow_hash=flow_hash,
        end_reason=f"replay of {result.source}",
    )


def transcript_of_turns(turns: Sequence[TurnRecord]) -> tuple[str, ...]:
    lines: list[str] = []
    for turn in turns:
        lines.append(
            f"Client : {turn.transcript or (f'[touches {turn.dtmf}]' if turn.dtmf else '[silence]')}"
        )
        if turn.bot:
            lines.append(f"Bot : {turn.bot}")
    return tuple(lines)


def build_record(
    turns: Sequence[TurnRecord],
    session_outcome: dict[str, Any] | None,
    errors: Sequence[str],
    transcript: tuple[str, ...],
    *,
    call_id: str,
    started_at: datetime,
    ended_at: datetime,
    direction: str,
    caller: str | None,
    called: str | None,
    flow: Flow,
    flow_hash: str,
    end_reason: str | None = None,
    recording_path: str | None = None,
) -> CallRecord:
    """A record from what any session leaves: its turns, outcome, errors and transcript."""
    responses = [turn.response_ms for turn in turns if turn.response_ms is not None]
    understood = sum(1 for turn in turns if turn.intent and turn.bot)
    outcome, queue = outcome_of(session_outcome, understood, len(errors))
    return CallRecord(
        call_id=call_id,
        started_at=started_at,
        ended_at=ended_at,
        direction=direction,
        outcome=outcome,
        caller=caller,
        called=called,
        flow=flow.name,
        flow_hash=flow_hash,
        queue=queue,
        end_reason=end_reason,
        intents=tuple(turn.intent for turn in turns if turn.intent),
        turns=len(turns),
        response_p50_ms=percentile(responses, 0.5),
        response_p95_ms=percentile(responses, 0.95),
        errors=len(errors),
        error_text="; ".join(errors)[:2000] or None,
        transcript=transcript,
        recording_path=recording_path,
    )
