"""One rule for "now".

Every decision that depends on the time — is this call-back time in the past, is the queue open, which
day is "demain" — asks a `Clock` it was handed, never the wall clock directly:

- inside a call, the call's `AudioClock` (callbot/session/call_session.py): the moment the call started,
  advanced by the audio heard, so a replay decides the same way every run;
- in `callbot replay --now T`, that same audio clock starting at T: the call decides "as if it were T";
- at the edges only (a live call starting, the dispatcher polling, an ops command), `wall_clock`.

A second `datetime.now()` deep in a module is a bug waiting for a date to pass: the tests run under
`faketime` at dates far from today to catch it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]
"""Returns the current time, timezone-aware."""


def wall_clock() -> datetime:
    """The real time (UTC): for the edges of the system only."""
    return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told: for tests, and for tools that step through time."""

    def __init__(self, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError(f"ManualClock needs an aware time, got {now.isoformat()}")
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> datetime:
        self.now += delta
        return self.now
