"""`callbot test`: run suites of recorded calls against their expectations; `callbot test snapshot`.

Exit status: 0 when every call passed, 1 when one failed or broke, 2 for a suite or option to fix.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from callbot.clock import wall_clock
from callbot.qa import QaError

if TYPE_CHECKING:
    from callbot.config import Settings
    from callbot.qa.suite import Case

Result = dict[str, Any]

SNAPSHOT = "snapshot"


def configure_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "targets",
        nargs="+",
        metavar="SUITE_OR_FOLDER",
        help="suite files (YAML, docs/qa.md) or folders of recordings; "
        "'snapshot RECORDING... --into SUITE.yaml' writes current behaviour as expectations",
    )
    p.add_argument("--jobs", "-j", type=int, help="calls replayed at once, one process each (default: cores)")
    p.add_argument(
        "--json", dest="json_out", metavar="FILE", help="write the full results (a later baseline)"
    )
    p.add_argument("--junit", metavar="FILE", help="write JUnit XML for CI")
    p.add_argument("--html", metavar="FILE", help="write a report with a timeline of every call")
    p.add_argument("--baseline", metavar="OLD.json", help="list what changed since this earlier --json run")
    p.add_argument(
        "--tolerance-ms",
        type=int,
        default=None,
        help="with --baseline: response-time moves smaller than this are not reported (default 300)",
    )
    p.add_argument("--into", metavar="SUITE.yaml", help="with snapshot: the suite to add the calls to")


def run_command(args: argparse.Namespace, settings: Settings) -> int:
    from callbot.qa.runner import default_jobs

    jobs = args.jobs if args.jobs is not None else default_jobs()
    if jobs < 1:
        raise QaError(f"--jobs {jobs}: give at least 1")
    if args.targets[0] == SNAPSHOT:
        return _snapshot(args.targets[1:], args.into, settings, jobs)
    if args.into:
        raise QaError("--into goes with 'callbot test snapshot RECORDING... --into SUITE.yaml'")
    _check_writable(args.json_out, args.junit, args.html)
    return _test(args, settings, jobs)


def _check_writable(*outputs: str | None) -> None:
    """Report files go into folders that exist: a long run must not end in a lost report."""
    for output in outputs:
        if output is not None and not Path(output).resolve().parent.is_dir():
            raise QaError(f"{output}: no such folder for the report")


def _test(args: argparse.Namespace, settings: Settings, jobs: int) -> int:
    from callbot.qa import baseline as baselines
    from callbot.qa.report import print_failures, print_summary, report_document, write_json, write_junit
    from callbot.qa.suite import collect

    cases = collect(args.targets)  # a malformed suite stops here, before any model loads
    _check_flows(cases, settings)
    old = baselines.load_baseline(args.baseline) if args.baseline else None
    started_at = wall_clock().isoformat(timespec="seconds")
    results, wall_s = _run(cases, settings, jobs, lambda r: print_failures(r, sys.stdout))
    document = report_document(results, wall_s, started_at, min(jobs, len(cases)))
    if old is not None:
        tolerance = (
            args.tolerance_ms if args.tolerance_ms is not None else baselines.DEFAULT_LATENCY_TOLERANCE_MS
        )
        changes = baselines.compare(old, results, tolerance)
        document["changes"] = [
            {"call": c.call, "what": c.what, "before": c.before, "after": c.after} for c in changes
        ]
        print(f"changes since {args.baseline}: {len(changes) or 'none'}")
        for change in changes:
            print(f"  {change}")
    print_summary(document, sys.stdout)
    if args.json_out:
        write_json(document, args.json_out)
    if args.junit:
        write_junit(document, args.junit)
    if args.html:
        from callbot.qa.html import write_html

        write_html(document, args.html)
    return 0 if document["summary"]["passed"] == len(results) else 1


def _check_flows(cases: list[Case], settings: Settings) -> None:
    """Every flow the run needs loads (a FlowError names the file and line), before workers start."""
    from callbot.dialog import default_flow_path, load_flow

    for flow in sorted({str(case.flow or settings.flow or default_flow_path()) for case in cases}):
        load_flow(flow)


def _snapshot(recordings: list[str], into: str | None, settings: Settings, jobs: int) -> int:
    from callbot.qa.snapshot import snapshot_cases, write_snapshot

    if not into:
        raise QaError("snapshot: say which suite to write with --into SUITE.yaml")
    if not recordings:
        raise QaError("snapshot: give the recordings (or folders) to snapshot")
    _check_writable(into)
    cases, notes = snapshot_cases(recordings)
    _check_flows(cases, settings)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    results, _ = _run(cases, settings, jobs, lambda _: None)
    problems = write_snapshot(results, into)
    for problem in problems:
        print(problem, file=sys.stderr)
    written = len(results) - len(problems)
    print(f"{written} call(s) written to {into}: review the expectations, then run 'callbot test {into}'")
    return 1 if problems else 0


def _run(
    cases: list[Case], settings: Settings, jobs: int, on_result: Callable[[Result], None]
) -> tuple[list[Result], float]:
    """Run the cases with a progress bar on a terminal (none when the output is piped)."""
    from tqdm import tqdm

    from callbot.qa.runner import run_cases

    tqdm.monitor_interval = 0  # no monitor thread, so that the workers may be forked (runner.may_fork)

    started = time.perf_counter()
    with tqdm(total=len(cases), unit="call", disable=not sys.stderr.isatty(), file=sys.stderr) as bar:

        def done(result: Result) -> None:
            bar.update(1)
            with bar.external_write_mode():
                on_result(result)

        results = run_cases(cases, settings, jobs, done)
    return results, time.perf_counter() - started
