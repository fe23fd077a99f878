"""The gateway's Prometheus metrics, correct across its processes.

`callbot serve` runs a supervisor, SIP workers and one conversation host per worker; calls live in the
hosts, the HTTP side in the supervisor. prometheus_client's multiprocess mode joins them: every process
writes its values to files under `PROMETHEUS_MULTIPROC_DIR` (set by `serve` before any child starts,
`callbot.ops.multiproc`), and `/metrics` reads them all. Gauges of live things (`livesum`) count only
processes still alive: files of dead pids are dropped at each scrape (`forget_dead_processes`).

Without that variable (tests, `callbot replay`) the same metrics count in-process.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from prometheus_client import Counter, Gauge, Histogram

from callbot.ops.live import process_alive

CALLS_IN_PROGRESS = Gauge(
    "callbot_calls_in_progress",
    "Calls being handled now",
    ["direction"],
    multiprocess_mode="livesum",
)
CALLS = Counter("callbot_calls", "Finished calls by outcome", ["direction", "outcome"])
TRANSFERS = Counter("callbot_transfers", "Calls put through to a human queue", ["queue"])
CALLBACKS_BOOKED = Counter("callbot_callbacks_booked", "Call-backs confirmed to callers")
CALL_ERRORS = Counter("callbot_call_errors", "Errors inside calls (the caller was apologised to)")
RESPONSE_SECONDS = Histogram(
    "callbot_response_seconds",
    "From the end of the caller's speech to the bot's answer (audio clock)",
    buckets=(0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0, 5.0, 10.0),
)
TURN_COMPUTE_SECONDS = Histogram(
    "callbot_turn_compute_seconds",
    "Wall time from the start of a turn's decoding to the bot's decision: recognition, dialog, synthesis",
    buckets=(0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0),
)
WORKERS_CONNECTED = Gauge(
    "callbot_sip_workers_connected",
    "SIP workers connected to their call handler",
    multiprocess_mode="livesum",
)

_PID_FILE = re.compile(r"^gauge_live\w*_(\d+)\.db$")


def forget_dead_processes(path: Path) -> None:
    """Drop the live gauges of processes that are gone (a worker host restarted after a crash)."""
    from prometheus_client import multiprocess

    for name in os.listdir(path):
        match = _PID_FILE.match(name)
        if match and not process_alive(int(match.group(1))):
            multiprocess.mark_process_dead(int(match.group(1)), str(path))
