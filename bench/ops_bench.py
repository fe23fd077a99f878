"""What ops costs the gateway: writing a call record when a call ends, reading statistics, rendering
`/metrics` and the ops page, refreshing a live call's state.

SQLite in a temporary folder (WAL, synchronous=FULL, as in production): each record is committed with
an fsync. `--records` calls spread over the last `--days` days are stored first, then the reads run
against them through a real `OpsServer` on 127.0.0.1.

    .venv/bin/python bench/ops_bench.py --records 20000
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path

from callbot.callbacks import CallbackStore
from callbot.calls import CallRecord, CallRecordStore
from callbot.clock import wall_clock
from callbot.ops.collector import CallbackFigures
from callbot.ops.http import OpsContext, OpsServer
from callbot.ops.live import LiveCallBoard

OUTCOMES = ["bot"] * 5 + ["transferred"] * 3 + ["callback", "abandoned"]
QUEUES = ["service_client", "reclamations"]


def record(now: datetime, days: int, n: int, rng: random.Random) -> CallRecord:
    start = now - timedelta(seconds=rng.uniform(0, days * 86400))
    outcome = rng.choice(OUTCOMES)
    return CallRecord(
        call_id=f"bench-{n}@127.0.0.1",
        started_at=start,
        ended_at=start + timedelta(seconds=rng.uniform(10, 300)),
        direction="inbound",
        outcome=outcome,
        queue=rng.choice(QUEUES) if outcome in ("transferred", "callback") else None,
        caller="+33612345678",
        called="3000",
        flow="retail",
        flow_hash="0123456789ab",
        intents=("horaires", "au_revoir"),
        turns=3,
        response_p50_ms=rng.randint(500, 900),
        response_p95_ms=rng.randint(800, 2000),
        transcript=tuple(f"Client : phrase {i} de l'appel" for i in range(6)),
    )


def ms(values: list[float]) -> str:
    ordered = sorted(values)
    return f"p50 {statistics.median(ordered):.2f} ms, p95 {ordered[int(0.95 * (len(ordered) - 1))]:.2f} ms"


def timed(count: int, action) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for _ in range(count):
        started = time.perf_counter()
        action()
        out.append((time.perf_counter() - started) * 1000)
    return out


def fetch(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url) as response:
            return bytes(response.read())
    except urllib.error.HTTPError as exc:  # /readyz is 503 here: no SIP worker in this bench
        return bytes(exc.read())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--timed-inserts", type=int, default=200)
    args = parser.parse_args()
    rng = random.Random(7)
    now = wall_clock()
    with tempfile.TemporaryDirectory() as folder:
        store = CallbackStore(Path(folder) / "data")
        store.migrate()
        records = CallRecordStore(store)
        inserts = timed(
            args.timed_inserts, lambda: records.add(record(now, args.days, rng.randrange(10**9), rng))
        )
        print(f"call record insert (committed, fsync): {ms(inserts)}")
        with store.engine.begin() as conn:
            from sqlalchemy import insert

            from callbot.calls.schema import call_records
            from callbot.calls.store import _row

            conn.execute(
                insert(call_records), [_row(record(now, args.days, n, rng)) for n in range(args.records)]
            )
        total = records.count()
        print(f"records stored: {total} over {args.days} days")
        print(f"stats of one day:      {ms(timed(20, lambda: records.day_stats(now.date())))}")
        month = timed(5, lambda: records.stats(now - timedelta(days=args.days), now))
        print(f"stats of {args.days} days:     {ms(month)}")
        board = LiveCallBoard(Path(folder) / "live")
        state = {"call_id": "x", "started_at": now.isoformat(), "transcript": ["Client : bonjour"] * 10}
        print(f"live state refresh:    {ms(timed(500, lambda: board.update('x@127.0.0.1', state)))}")
        context = OpsContext(
            records=records, callbacks=CallbackFigures(store), board=board, flow_name="retail"
        )
        server = OpsServer(context, "127.0.0.1", 0).start()
        try:
            for path in ("metrics", "readyz", "api/stats", "api/calls?limit=100", ""):
                url = server.url + path
                print(f"GET /{path:22s} {ms(timed(20, lambda u=url: fetch(u)))}")
        finally:
            server.close()
            store.close()


if __name__ == "__main__":
    main()
