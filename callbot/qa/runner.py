"""Running a suite's calls: in worker processes that each load the speech models once.

Replaying a call is CPU-bound (recognition, synthesis), so calls run in parallel processes, not threads.
Workers are started with `spawn`: a process forked after espeak-ng is initialised hangs, and the models
are loaded in each worker anyway. Each worker keeps one speech stack per flow, built on the recogniser
and synthesiser it loaded once. A call that breaks is reported as an error; the run goes on.
"""

from __future__ import annotations

import multiprocessing
import os
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from callbot.config import Settings
from callbot.qa.judge import Observed, judge
from callbot.qa.suite import Case
from callbot.qa.timeline import timeline_data
from callbot.replay.header import read_header, replay_setup

if TYPE_CHECKING:
    from callbot.session.stack import SpeechStack

#: Under the settings' data_dir: the prompts the workers synthesised, kept for the next run.
PROMPT_CACHE_DIR = "prompt-cache"
#: Event-log records a report keeps (partial transcripts are many and say little after the fact).
_DROPPED_EVENTS = {"asr_partial"}


# ---------------------------------------------------------------------------------- worker process
class _Worker:
    """One process's engines, loaded once, and a speech stack per flow built on them."""

    def __init__(self, settings: Settings, cpu_threads: int) -> None:
        from callbot.asr import load_engine
        from callbot.tts import create_synthesizer

        self.settings = settings
        whisper = replace(settings.asr.whisper(), cpu_threads=cpu_threads)
        self.engine = load_engine(settings.asr.engine, settings.asr.models_dir, whisper)
        self.synthesizer = create_synthesizer(settings.tts.engine)
        self.stacks: dict[Path | None, SpeechStack] = {}
        #: Prompts synthesised by one run serve the next (keyed by engine, rate and text).
        self.prompt_dir = settings.data_dir / PROMPT_CACHE_DIR

    def stack(self, flow: Path | None) -> SpeechStack:
        from callbot.session.stack import SpeechStack

        if flow not in self.stacks:
            settings = self.settings.model_copy(deep=True)
            if flow is not None:
                settings.flow = flow
            self.stacks[flow] = SpeechStack(
                settings, engine=self.engine, synthesizer=self.synthesizer, prompt_dir=self.prompt_dir
            )
        return self.stacks[flow]


class NotReplayable(Exception):
    """A recording `callbot test` cannot judge (its header says why)."""


_worker: _Worker | None = None
_worker_error: str | None = None  # why this worker could not load its engines


def _init_worker(settings: Settings, cpu_threads: int) -> None:
    """Load the engines; a failure is kept and reported with each call (a pool whose initializer raises
    only says "terminated abruptly")."""
    global _worker, _worker_error
    try:
        _worker = _Worker(settings, cpu_threads)
    except Exception as exc:
        _worker_error = f"cannot load the speech engines: {type(exc).__name__}: {exc}"


def run_case(case: Case) -> dict[str, Any]:
    """Replay one case in this worker and judge it; never raises (a broken call is an error result)."""
    from callbot.replay import replay_call

    result: dict[str, Any] = {**case.as_dict(), "line": case.line, "failures": [], "notes": []}
    started = time.perf_counter()
    if _worker is None:
        return {
            **result,
            "status": "error",
            "error": _worker_error or "no worker: start it with _init_worker",
        }
    try:
        header = read_header(case.recording)
        if header is not None and header.direction != "inbound":
            raise NotReplayable(
                "a call-back call placed by the gateway: replay runs callers' calls only (the call-back "
                "dialog needs the original request)"
            )
        setup = replay_setup(header, now=case.now, caller=case.caller)
        stack = _worker.stack(case.flow)
        replay = replay_call(stack, case.recording, now=setup.now, caller=setup.caller, timing=case.timing)
        report = replay.as_dict()
        events = [e for e in replay.events if e["event"] not in _DROPPED_EVENTS]
        observed = Observed.from_replay(report, events)
        failures = judge(case.expect, observed)
        result.update(
            status="failed" if failures else "passed",
            failures=[
                {"check": f.check, "expected": f.expected, "got": f.got, "text": str(f)} for f in failures
            ],
            notes=list(setup.notes),
            replayed_now=setup.now.isoformat(),
            replayed_caller=setup.caller,
            flow_name=stack.flow.name,
            flow_sha256=stack.flow_sha256,
            engines=stack.banner(),
            observed=observed.as_dict(),
            replay=report,
            timeline=timeline_data(events, replay.caller_audio, replay.bot_audio),
        )
    except Exception as exc:  # one broken recording must not stop the suite
        result.update(status="error", error=f"{type(exc).__name__}: {exc}", trace=traceback.format_exc())
    result["wall_ms"] = int((time.perf_counter() - started) * 1000)
    return result


# ---------------------------------------------------------------------------------- orchestration
def default_jobs() -> int:
    """One worker per core this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def run_cases(
    cases: list[Case],
    settings: Settings,
    jobs: int,
    on_result: Callable[[dict[str, Any]], None] = lambda _: None,
) -> list[dict[str, Any]]:
    """Run every case on `jobs` worker processes; results come back in the suite's order."""
    jobs = max(1, min(jobs, len(cases)))
    cpu_threads = max(1, default_jobs() // jobs)
    results: dict[int, dict[str, Any]] = {}
    for index, result in _results(cases, settings, jobs, cpu_threads):
        results[index] = result
        on_result(result)
    return [results[i] for i in range(len(cases))]


def _results(
    cases: list[Case], settings: Settings, jobs: int, cpu_threads: int
) -> Iterator[tuple[int, dict[str, Any]]]:
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=jobs, mp_context=context, initializer=_init_worker, initargs=(settings, cpu_threads)
    ) as pool:
        # Longest recordings first: a long call started last would keep one worker busy alone at the end.
        order = sorted(range(len(cases)), key=lambda i: -_size(cases[i].recording))
        pending: dict[Future[dict[str, Any]], int] = {pool.submit(run_case, cases[i]): i for i in order}
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                index = pending.pop(future)
                try:
                    yield index, future.result()
                except Exception as exc:  # the worker died (out of memory, a native crash)
                    yield (
                        index,
                        {
                            **cases[index].as_dict(),
                            "line": cases[index].line,
                            "status": "error",
                            "error": f"worker failed: {type(exc).__name__}: {exc}",
                            "failures": [],
                            "notes": [],
                        },
                    )


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
