"""Call-back dispatching throughput and scheduling latency.

Two dispatchers (each with its own engine, as two gateways would have) share one store and dial through a
fake dialer that takes `--dial-ms` per call. Two measures per configuration:

- burst: `--burst` call-backs all due now → call-backs dispatched per minute while draining them;
- steady: call-backs due at `--rate` per second for `--seconds` → latency from due time to dial start
  (p50/p95/max), which the poll interval and the claim round-trips decide.

PostgreSQL runs in a throwaway cluster (initdb/pg_ctl, fsync off) unless `--url` names one; SQLite rows
use a WAL file in a temporary folder (synchronous=FULL, as in production).

    /work/venv/bin/python bench/callbacks_bench.py
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from callbot.callbacks import CallbackLimits, CallbackStore, DialRequest, DialResult, Dispatcher
from callbot.callbacks.scratch_postgres import PostgresUnavailable, ScratchPostgres


class TimedDialer:
    """Records when each dial starts (vs. the request's due time) and takes `seconds` per call."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.lateness_s: list[float] = []
        self.dialled: list[uuid.UUID] = []
        self._lock = threading.Lock()

    def dial(self, request: DialRequest) -> DialResult:
        started = datetime.now(UTC)
        with self._lock:
            self.lateness_s.append((started - request.due_at).total_seconds())
            self.dialled.append(request.callback_id)
        time.sleep(self.seconds)
        return DialResult(True, 200, "answered")


@dataclass
class CaseResult:
    backend: str
    concurrency: int
    per_minute: float
    p50_ms: float
    p95_ms: float
    max_ms: float
    duplicates: int


def _fill(store: CallbackStore, due: list[datetime]) -> None:
    for index, at in enumerate(due):
        store.add(due_at=at, queue="q", phone=f"06{10_000_000 + index:08d}")


def _run_dispatchers(
    url: str,
    dialer: TimedDialer,
    count: int,
    concurrency: int,
    poll_s: float,
    until_done: int,
    timeout_s: float,
) -> float:
    """Run `count` dispatchers until `until_done` call-backs are done; returns the elapsed seconds."""
    watcher = CallbackStore(url)
    stop = threading.Event()
    stores = [CallbackStore(url) for _ in range(count)]
    threads = [
        threading.Thread(
            target=Dispatcher(
                store, dialer, None, dispatcher_id=f"gw{i}", concurrency=concurrency
            ).run_forever,
            args=(stop, poll_s),
        )
        for i, store in enumerate(stores)
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    while watcher.counts().get("done", 0) < until_done and time.monotonic() - started < timeout_s:
        time.sleep(0.01)
    elapsed = time.monotonic() - started
    stop.set()
    for thread in threads:
        thread.join()
    for store in [*stores, watcher]:
        store.close()
    return elapsed


def run_case(url: str, backend: str, args: argparse.Namespace, concurrency: int) -> CaseResult:
    # A throughput bench, not an abuse one: the overall caps would stop the burst at 20 a window.
    unlimited = CallbackLimits(max_per_phone_per_day=10_000, max_per_slot=10**9, max_per_day=10**9)
    store = CallbackStore(url, limits=unlimited)
    store.migrate()
    with store.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM callback_requests")
    dial_s = args.dial_ms / 1000

    # Burst: everything due now.
    now = datetime.now(UTC)
    _fill(store, [now] * args.burst)
    burst = TimedDialer(dial_s)
    elapsed = _run_dispatchers(url, burst, args.dispatchers, concurrency, args.poll_s, args.burst, 300)
    per_minute = len(burst.dialled) / elapsed * 60

    # Steady: due times spread at `rate` per second, starting shortly after the dispatchers.
    with store.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM callback_requests")
    total = int(args.rate * args.seconds)
    start = datetime.now(UTC) + timedelta(seconds=2.0)
    _fill(store, [start + timedelta(seconds=i / args.rate) for i in range(total)])
    steady = TimedDialer(dial_s)
    _run_dispatchers(url, steady, args.dispatchers, concurrency, args.poll_s, total, args.seconds + 120)
    store.close()
    lateness = sorted(steady.lateness_s)
    duplicates = (len(burst.dialled) - len(set(burst.dialled))) + (
        len(steady.dialled) - len(set(steady.dialled))
    )
    return CaseResult(
        backend,
        concurrency,
        per_minute,
        statistics.median(lateness) * 1000,
        lateness[int(0.95 * (len(lateness) - 1))] * 1000,
        lateness[-1] * 1000,
        duplicates,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", help="an existing PostgreSQL database (default: a throwaway cluster)")
    parser.add_argument("--dispatchers", type=int, default=2)
    parser.add_argument(
        "--concurrency", type=int, nargs="+", default=[1, 4], help="calls at once per dispatcher"
    )
    parser.add_argument("--dial-ms", type=float, default=50.0)
    parser.add_argument("--burst", type=int, default=400)
    parser.add_argument("--rate", type=float, default=10.0, help="call-backs falling due per second (steady)")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--poll-s", type=float, default=0.5)
    parser.add_argument("--no-sqlite", action="store_true", help="skip the SQLite comparison rows")
    args = parser.parse_args()

    results: list[CaseResult] = []
    cluster: ScratchPostgres | None = None
    try:
        url = args.url
        if url is None:
            cluster = ScratchPostgres().start()
            url = cluster.create_database("bench")
        for concurrency in args.concurrency:
            results.append(run_case(url, "postgresql", args, concurrency))
    except PostgresUnavailable as exc:
        print(f"PostgreSQL skipped: {exc}")
    finally:
        if cluster is not None:
            cluster.stop()
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory(prefix="callbot-bench-") as folder:
            for concurrency in args.concurrency:
                results.append(run_case(folder, "sqlite", args, concurrency))

    print(
        f"\n{args.dispatchers} dispatchers, fake dialer {args.dial_ms:.0f} ms/call, poll {args.poll_s} s; "
        f"burst of {args.burst}; steady {args.rate:g}/s for {args.seconds:g} s"
    )
    header = (
        f"{'backend':<11} {'calls/disp':>10} {'dispatched/min':>15} {'lat p50 ms':>11} {'p95 ms':>8} "
        f"{'max ms':>8} {'dup':>4}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r.backend:<11} {r.concurrency:>10} {r.per_minute:>15.0f} {r.p50_ms:>11.0f} {r.p95_ms:>8.0f} "
            f"{r.max_ms:>8.0f} {r.duplicates:>4}"
        )


if __name__ == "__main__":
    main()
