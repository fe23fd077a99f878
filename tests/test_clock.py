"""One rule for "now": decisions take the clock they are handed; only the edges read the wall clock."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import callbot
from callbot.clock import ManualClock, wall_clock

PACKAGE = Path(callbot.__file__).parent
#: Reading the wall clock: `datetime.now(`, `date.today(`, `time.time(`, `datetime.utcnow(`.
WALL_CLOCK_READ = re.compile(r"\b(?:datetime\.(?:now|utcnow|today)|date\.today|time\.time)\(")


def test_the_wall_clock_is_read_in_one_place_only() -> None:
    """A second `datetime.now()` deep in a module is a bug waiting for a date to pass (a replay with
    --now, a test under faketime): every other module takes a `Clock`."""
    readers = {
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        for line in path.read_text(encoding="utf-8").splitlines()
        if WALL_CLOCK_READ.search(line.split("#")[0]) and "needs an aware 'now'" not in line
    }
    assert readers == {"clock.py"}


def test_the_wall_clock_is_aware_utc() -> None:
    assert wall_clock().tzinfo is UTC


def test_a_manual_clock_moves_only_when_told() -> None:
    start = datetime(2028, 2, 29, 23, 30, tzinfo=UTC)
    clock = ManualClock(start)
    assert clock() == clock() == start
    assert clock.advance(timedelta(minutes=45)) == datetime(2028, 3, 1, 0, 15, tzinfo=UTC)
    assert clock() == datetime(2028, 3, 1, 0, 15, tzinfo=UTC)


def test_a_manual_clock_refuses_a_naive_time() -> None:
    with pytest.raises(ValueError, match="aware"):
        ManualClock(datetime(2026, 11, 23, 10, 30))
