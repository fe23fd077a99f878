"""How `callbot test` starts its workers: forked from a clean parent, spawned from any other."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from callbot.config import Settings
from callbot.qa import runner
from callbot.qa.suite import collect

ROOT = Path(__file__).parents[1]
SUITE = ROOT / "tests" / "fixtures" / "suites" / "recorded_calls.yaml"


def _in_fresh_python(code: str) -> str:
    completed = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return completed.stdout.strip()


def test_a_parent_without_speech_engines_forks() -> None:
    assert _in_fresh_python("from callbot.qa.runner import may_fork; print(may_fork())") == "True"


def test_a_parent_that_loaded_a_speech_model_does_not_fork() -> None:
    printed = _in_fresh_python(
        """
        from callbot.config import Settings
        from callbot.qa.runner import _Worker, may_fork
        _Worker(Settings(), 1)
        print(may_fork())
        """
    )
    assert printed == "False"


def test_a_parent_served_by_the_espeak_process_does_not_fork() -> None:
    printed = _in_fresh_python(
        """
        from callbot.qa.runner import may_fork
        from callbot.tts import create_synthesizer
        create_synthesizer("espeak").synthesize("Bonjour.", 8000)
        print(may_fork())
        """
    )
    assert printed == "False"


def test_a_parent_running_another_thread_does_not_fork() -> None:
    printed = _in_fresh_python(
        """
        import threading
        from callbot.qa.runner import may_fork
        release = threading.Event()
        thread = threading.Thread(target=release.wait)
        thread.start()
        print(may_fork())
        release.set()
        thread.join()
        print(may_fork())
        """
    )
    assert printed.splitlines() == ["False", "True"]


def test_calls_still_run_from_a_parent_that_loaded_engines(tmp_path: Path) -> None:
    """This test process has loaded speech engines in other tests: its workers are spawned, and work."""
    runner._Worker(Settings(data_dir=tmp_path), 1)
    assert not runner.may_fork()
    cases = [case for case in collect([SUITE]) if case.recording.name == "conseiller.wav"]
    settings = Settings(data_dir=tmp_path)
    [result] = runner.run_cases(cases, settings, jobs=1)
    assert result["status"] == "passed", result.get("error") or result["failures"]


def test_a_worker_decodes_on_one_thread_without_a_warm_up(tmp_path: Path) -> None:
    """A replay already keeps a session and a decode thread busy, so more CTranslate2 threads only
    contend; and the first call would pay a warm-up decode's cost anyway."""
    worker = runner._Worker(Settings(data_dir=tmp_path), runner.WORKER_CPU_THREADS)
    whisper = worker.engine.settings  # type: ignore[attr-defined]
    assert (whisper.cpu_threads, whisper.warm_up) == (1, False)
