"""`callbot test --jobs 1` against `--jobs 2` on the project's suite: does a second worker pay?

    python bench/qa_jobs_bench.py                       # tests/fixtures/suites/recorded_calls.yaml, 2 rounds
    python bench/qa_jobs_bench.py SUITE.yaml --rounds 3 --jobs 1 2 4

Each run is the whole command as QA types it (process start, worker start-up and model loading
included), timed from outside; the rounds alternate the job counts so that a change in the machine's load
hits both. Prints each time, the median per job count, and the ratio to --jobs 1. The issue's target:
--jobs 2 within 60 % of --jobs 1 on two cores. The machine's load average is printed too: on a shared
machine the ratio says more than the seconds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).parents[1]
SUITE = ROOT / "tests" / "fixtures" / "suites" / "recorded_calls.yaml"


def run(suite: Path, jobs: int, asr: str) -> float:
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-m", "callbot.cli", "test", str(suite), "--jobs", str(jobs), "--asr", asr],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    elapsed = time.perf_counter() - started
    if completed.returncode not in (0, 1):
        sys.exit(f"callbot test failed:\n{completed.stderr}")
    summary = completed.stdout.strip().splitlines()[-1]
    print(f"  --jobs {jobs}: {elapsed:6.1f} s   ({summary})", flush=True)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("suite", nargs="?", type=Path, default=SUITE)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--asr", default="whisper")
    args = parser.parse_args()

    print(f"suite {args.suite}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    times: dict[int, list[float]] = {jobs: [] for jobs in args.jobs}
    for round_ in range(args.rounds):
        print(f"round {round_ + 1}")
        order = args.jobs if round_ % 2 == 0 else list(reversed(args.jobs))
        for jobs in order:
            times[jobs].append(run(args.suite, jobs, args.asr))
    base = statistics.median(times[args.jobs[0]])
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    for jobs, values in times.items():
        median = statistics.median(values)
        print(f"--jobs {jobs}: median {median:.1f} s, {median / base:.0%} of --jobs {args.jobs[0]}")


if __name__ == "__main__":
    main()
