"""`/readyz` is ready once a SIP worker is connected to its call handler: each conversation host reports
how many of its workers are connected, in the multiprocess gauge `callbot_sip_workers_connected`."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sized

from callbot.ops import metrics

POLL_S = 0.2


def report_connected_workers(connected: Callable[[], Sized], poll_s: float = POLL_S) -> Callable[[], None]:
    """Keep the gauge equal to `len(connected())` from a background thread; returns its stop function
    (which sets the gauge back to 0: a host that stops is not ready)."""
    stopping = threading.Event()

    def run() -> None:
        while not stopping.is_set():
            metrics.WORKERS_CONNECTED.set(len(connected()))
            time.sleep(poll_s)  # not Event.wait(timeout): libfaketime cannot time those out (conftest)

    thread = threading.Thread(target=run, name="readiness", daemon=True)
    thread.start()

    def stop() -> None:
        stopping.set()
        thread.join()
        metrics.WORKERS_CONNECTED.set(0)

    return stop
