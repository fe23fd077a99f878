"""The header record that opens every call's event log, read back for a faithful replay.

`callbot serve` writes a call's stereo recording `<Call-ID>.wav` and its event log `<Call-ID>.jsonl` side
by side; the log's first record (`call_header`, written by `SpeechStack`) holds what the replay of that
call needs: when the call started (the replay's "now": "demain" must mean the day after the call), the
caller id (a flow asks for a number to call back when there is none), the called number, the flow's name,
path and content hash (was the flow changed since?), and the engines that answered.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from callbot.clock import Clock, wall_clock
from callbot.session.events import HEADER_EVENT, HEADER_VERSION

PARIS = ZoneInfo("Europe/Paris")


@dataclass(frozen=True)
class CallHeader:
    """The header's fields (see `SpeechStack.header`)."""

    started_at: datetime
    caller: str | None
    callee: str | None = None
    direction: str = "inbound"
    flow_name: str | None = None
    flow_path: str | None = None
    flow_sha256: str | None = None
    engines: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> CallHeader:
        flow = record.get("flow") or {}
        return cls(
            started_at=datetime.fromisoformat(record["started_at"]),
            caller=record.get("caller") or None,
            callee=record.get("callee") or None,
            direction=record.get("direction", "inbound"),
            flow_name=flow.get("name"),
            flow_path=flow.get("path"),
            flow_sha256=flow.get("sha256"),
            engines=dict(record.get("engines") or {}),
        )


def event_log_of(recording: str | Path) -> Path:
    """Where a recording's event log lies: beside it, same name, `.jsonl`."""
    return Path(recording).with_suffix(".jsonl")


def read_header(recording: str | Path) -> CallHeader | None:
    """The header of the event log beside `recording`, or None (no log, an older log without a header, or
    a header this version cannot read)."""
    try:
        with event_log_of(recording).open(encoding="utf-8") as lines:
            record = json.loads(lines.readline())
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("event") != HEADER_EVENT:
        return None
    if not isinstance(record.get("version"), int) or record["version"] > HEADER_VERSION:
        return None
    try:
        return CallHeader.from_record(record)
    except (KeyError, TypeError, ValueError):
        return None


@dataclass(frozen=True)
class ReplaySetup:
    """As of when, and as whom, a recording is replayed; `notes` say where each came from."""

    now: datetime
    caller: str | None
    notes: tuple[str, ...] = ()


def replay_setup(
    header: CallHeader | None, *, now: datetime | None, caller: str | None, clock: Clock = wall_clock
) -> ReplaySetup:
    """What was asked for (`caller` "none": a hidden number), else what the call's header says, else the
    replay defaults: the current time and a French mobile number."""
    from callbot.replay.replay import DEFAULT_REPLAY_CALLER

    notes: list[str] = []
    if now is None and header is not None:
        now = header.started_at
        notes.append("now: the call's start, from its event-log header")
    if now is None:
        now = clock().astimezone(PARIS)
        notes.append("now: the current time (no 'now' given and no event-log header)")
    if caller is not None:
        who = None if caller.lower() == "none" else caller
    elif header is not None:
        who = header.caller
        notes.append("caller: from the call's event-log header")
    else:
        who = DEFAULT_REPLAY_CALLER
    return ReplaySetup(now.astimezone(PARIS), who, tuple(notes))
