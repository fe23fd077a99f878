"""Suite-wide set-up: running under `faketime`; fixtures several modules share (a silent recogniser
engine, a scratch PostgreSQL cluster).

The suite must pass whatever today's date is, so CI also runs it under Debian's `faketime` at dates far
from today. libfaketime 0.9.10 shifts CLOCK_MONOTONIC with the calendar but does not intercept
`sem_clockwait`, which CPython uses for every `Event.wait`, `Lock.acquire` and `Queue.get` with a
timeout: the kernel is asked to wait until a monotonic time decades away, and the thread never wakes up
unless someone sets the event. (FAKETIME_DONT_FAKE_MONOTONIC=1 trades this for `time.sleep` failing with
EINVAL.) Tests that rely on a background thread waking up on its own after a timeout are marked
`timed_waits`: under faketime they are skipped with that reason — they check thread timing, not dates,
and run in the ordinary pass.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence

import pytest

from callbot.asr.base import Hypothesis, Recognizer
from callbot.callbacks.scratch_postgres import PostgresUnavailable, ScratchPostgres, postgres_bin_dir

UNDER_FAKETIME = "faketime" in os.environ.get("LD_PRELOAD", "")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not UNDER_FAKETIME:
        return
    skip = pytest.mark.skip(reason="libfaketime cannot time out thread waits (sem_clockwait); see conftest")
    for item in items:
        if item.get_closest_marker("timed_waits"):
            item.add_marker(skip)


class _SilentEngine:
    """A recogniser engine that hears nothing: for stacks whose tests play no caller speech."""

    name = "silent"
    description = "silent recogniser (tests)"

    def new_recognizer(self) -> Recognizer:
        return _SilentRecognizer()


class _SilentRecognizer(Recognizer):
    def start_turn(self, hints: Sequence[str] = (), primer: str = "") -> None:
        pass

    def accept(self, pcm: bytes) -> Hypothesis | None:
        return None

    def finish(self) -> Hypothesis:
        return Hypothesis("", final=True)


@pytest.fixture(scope="session")
def silent_engine() -> _SilentEngine:
    """A recogniser engine that hears nothing, for stacks whose tests play no caller speech."""
    return _SilentEngine()


@pytest.fixture(scope="module")
def postgres() -> Iterator[ScratchPostgres]:
    """A throwaway PostgreSQL cluster for a test module; skipped where no server binaries exist."""
    try:
        postgres_bin_dir()
    except PostgresUnavailable as exc:
        pytest.skip(str(exc))
    with ScratchPostgres() as cluster:
        yield cluster
