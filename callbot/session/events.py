"""The session's event log: one JSON object per line, stamped with the audio clock.

QA reads these logs to see what the bot heard, understood and did, and when (in audio-clock ms, so a
replayed call gives the same log as the live one, latency fields aside).
"""

from __future__ import annotations

import json
import threading
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from callbot.privacy import redact_event

#: The first record of every call's event log: what a faithful replay of the call needs (written by
#: `SpeechStack`, read by callbot/replay/header.py).
HEADER_EVENT = "call_header"
#: Bumped when a header field changes meaning; readers accept the versions they know.
HEADER_VERSION = 1


def jsonable(value: Any) -> Any:
    """Plain JSON values for what sessions record: datetimes as ISO-8601, phone numbers as E.164."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    if hasattr(value, "e164"):  # phone numbers from the NLU
        return value.e164
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


class EventLog:
    """Collects events in memory and, when given a path or stream, writes them as JSON lines."""

    def __init__(
        self,
        call_id: str,
        path: str | Path | None = None,
        stream: IO[str] | None = None,
        *,
        redact: bool = False,
    ) -> None:
        self.call_id = call_id
        #: Write events with spoken words left out and numbers masked (`callbot.privacy`); the events
        #: kept in memory for the call itself stay whole.
        self.redact = redact
        self.events: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._file: IO[str] | None = None
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()
        self._stream = stream

    def emit(self, t_ms: int, event: str, **fields: Any) -> dict[str, Any]:
        record = {"t_ms": t_ms, "event": event, "call_id": self.call_id, **jsonable(fields)}
        line = json.dumps(redact_event(record) if self.redact else record, ensure_ascii=False)
        with self._lock:
            self.events.append(record)
            for out in (self._file, self._stream):
                if out is not None:
                    out.write(line + "\n")
                    out.flush()
        return record

    def of_type(self, event: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["event"] == event]

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
