"""Running a suite's calls: in worker processes that each load the speech models once.

Replaying a call is CPU-bound (recognition, synthesis), so calls run in parallel processes, not threads.
Each worker keeps one speech stack per flow, built on the recogniser and synthesiser it loaded once. A call
that breaks is reported as an error; the run goes on.

What a run's seconds go to, measured on the project's 5-call suite on 2 cores (bench/qa_jobs_bench.py):
- **One decode thread per worker.** A replay is already two busy threads (the session and the
  recogniser's decode thread), so a second CTranslate2 thread only contends: one worker replayed the 5
  calls in 3.1 s with 1 thread against 4.5 s with 2. More cores are used by more workers (`--jobs`).
- **No warm-up decode.** The live gateway decodes a dummy turn at load so that its first caller never
  waits; here the first call would simply pay what the warm-up costs, so it is skipped.
- **Workers forked from a clean parent.** A spawned worker starts a fresh interpreter and imports the
  whole stack again (0.6 s) before loading its model; a forked one starts from the parent's imports. A
  process forked after espeak-ng or a speech model started its threads can hang, so the workers are
  forked only from a parent that has loaded none (`callbot test`'s own process) and runs no other Python
  thread; any other parent (a test process that synthesised speech before, say) gets `spawn`.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
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
#: CTranslate2 threads per worker: more only contend with the replay's own threads (module docstring).
WORKER_CPU_THREADS = 1
#: Event-log records a report keeps (partial transcripts are many and say little after the fact).
_DROPPED_EVENTS = {"asr_partial"}


# ---------------------------------------------------------------------------------- worker process
class _Worker:
    """One process's engines, loaded once, and a speech stack per flow built on them."""

    def __init__(self, settings: Settings, cpu_threads: int) -> None:
        from callbot.asr import load_engine
        from callbot.tts import create_synthesizer

        self.settings = settings
        whisper = replace(settings.asr.whisper(), cpu_threads=cpu_threads, warm_up=False)
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
    method = "fork" if may_fork() else "spawn"
    results: dict[int, dict[str, Any]] = {}
    for index, result in _results(cases, settings, jobs, WORKER_CPU_THREADS, method):
        results[index] = result
        on_result(result)
    return [results[i] for i in range(len(cases))]


#: Native libraries whose threads or state do not survive a fork (mapped once an engine is loaded).
_ENGINE_LIBRARIES = ("espeak", "ttspico", "onnxruntime", "vosk", "ctranslate2", "libgomp", "pjsua")


def may_fork() -> bool:
    """Whether workers can be forked from this process: fork exists, no other Python thread runs (a
    lock held by one at the fork stays held forever in the child), no child process serves it (the
    espeak-ng synthesiser's, whose pipes the child would share) and no speech engine's library is loaded
    (their threads are not in the child). Where that cannot be read, no."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return False
    if threading.active_count() != 1 or multiprocessing.active_children():
        return False
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return False
    return not any(library in maps for library in _ENGINE_LIBRARIES)


def _results(
    cases: list[Case], settings: Settings, jobs: int, cpu_threads: int, method: str
) -> Iterator[tuple[int, dict[str, Any]]]:
    context = multiprocessing.get_context(method)
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
