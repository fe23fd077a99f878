"""`serve`'s housekeeping thread: records for the calls of a conversation host that died (every 2 s),
and the retention of call records (`calls.retention_days`: at start-up, then every hour, older records go
with their recording and event log — the same as `callbot calls purge`)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from callbot.calls.store import CallRecordStore
from callbot.ops.live import LiveCallBoard
from callbot.ops.orphans import record_orphans

log = logging.getLogger("callbot.ops.housekeeping")
POLL_S = 2.0
PURGE_EVERY_S = 3600.0


class Housekeeping:
    """One round at a time (`run_once`), or a background thread (`start`)."""

    def __init__(
        self,
        board: LiveCallBoard,
        records: CallRecordStore,
        retention_days: int,
        *,
        purge_every_s: float = PURGE_EVERY_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.board = board
        self.records = records
        self.retention_days = retention_days
        self.purge_every_s = purge_every_s
        self._monotonic = monotonic
        self._next_purge = monotonic()

    def run_once(self) -> None:
        try:
            record_orphans(self.board, self.records)
        except Exception:
            log.exception("looking for orphaned calls failed")
        if self._monotonic() >= self._next_purge:
            self._next_purge = self._monotonic() + self.purge_every_s
            try:
                removed = self.records.purge(self.retention_days)
            except Exception:
                log.exception("the retention purge of call records failed")
            else:
                if removed:
                    log.info("%d call record(s) older than %d days purged", removed, self.retention_days)

    def start(self, poll_s: float = POLL_S) -> Callable[[], None]:
        """Run rounds from a daemon thread; returns its stop function."""
        stopping = threading.Event()

        def run() -> None:
            while not stopping.is_set():
                self.run_once()
                time.sleep(poll_s)  # not Event.wait(timeout): libfaketime cannot time those out (conftest)

        threading.Thread(target=run, name="housekeeping", daemon=True).start()
        return stopping.set
