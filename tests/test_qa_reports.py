"""What a run reports: what changed since a baseline, JUnit XML, the HTML page, the timeline's figures.

These are the report builders on results shaped as the workers return them; tests/test_qa_cli.py checks
the same reports from real runs (and the page in Chromium).
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from junitparser import JUnitXml

from callbot.qa.baseline import compare, word_changes
from callbot.qa.html import MISSED, confusion, intent_pairs, render
from callbot.qa.report import report_document, write_junit
from callbot.qa.timeline import envelope, timeline_data

ROOT = Path(__file__).parents[1]


def result(name: str, status: str = "passed", **observed: Any) -> dict[str, Any]:
    seen = {
        "outcome": "hangup",
        "queue": None,
        "callback_at": None,
        "intents": ["horaires"],
        "slots": {"magasin": "lyon_part_dieu"},
        "bot_said": ["Le magasin est ouvert."],
        "transcript": ["Quels sont les horaires du magasin de Lyon ?"],
        "response_ms": [800],
        "max_response_ms": 800,
        **observed,
    }
    failures = [] if status != "failed" else [{"text": "outcome: expected transfer, got hangup"}]
    return {
        "name": name,
        "suite": "suites/regression.yaml",
        "recording": f"calls/{name}.wav",
        "line": 4,
        "status": status,
        "failures": failures,
        "notes": [],
        "expect": {"intents": ["horaires"]},
        "observed": seen,
        "wall_ms": 1200,
        "replay": {"outcome": {"type": seen["outcome"]}},
    }


# ------------------------------------------------------------------------------------ baseline
def test_only_what_changed_is_listed() -> None:
    before = {"a": result("a"), "b": result("b"), "gone": result("gone")}
    after = [
        result("a"),
        result(
            "b",
            "failed",
            outcome="transfer",
            queue="service_client",
            intents=["conseiller"],
            slots={},
            transcript=["Quels sont les horaires du magasin de Lille ?"],
            max_response_ms=1900,
        ),
        result("new"),
    ]
    assert [str(c) for c in compare(before, after, tolerance_ms=300)] == [
        "b: status: passed -> failed",
        "b: outcome: hangup -> transfer",
        "b: queue: — -> service_client",
        "b: intents: [horaires] -> [conseiller]",
        "b: slots.magasin: lyon_part_dieu -> —",
        "b: transcript: Lyon -> Lille",
        "b: max_response_ms (±300): 800 -> 1900",
        "new: new call: — -> passed",
        "gone: call no longer run: passed -> —",
    ]


def test_latency_moves_within_the_tolerance_are_not_news() -> None:
    assert compare({"a": result("a")}, [result("a", max_response_ms=1050)], tolerance_ms=300) == []


def test_transcript_changes_are_words_not_case() -> None:
    assert word_changes("Bonjour, je voudrais", "bonjour, je voudrais") is None
    assert word_changes("rappelez moi demain", "rappelez moi mardi à 10h") == ("demain", "mardi à 10h")
    assert word_changes("oui", "") == ("oui", "(nothing)")


def callbot_test(*args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    """`callbot test ARGS…` as QA types it, in a process of its own (`env`: variables added)."""
    return subprocess.run(
        [sys.executable, "-m", "callbot.cli", "test", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
    )


def test_a_baseline_that_is_not_a_report_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "old.json"
    path.write_text('{"summary": {}}', encoding="utf-8")
    completed = callbot_test(str(tmp_path), "--baseline", str(path))
    assert completed.returncode == 2
    assert "no recordings (*.wav)" in completed.stderr  # the suite is checked first, before any model
    (tmp_path / "a.wav").write_bytes(b"RIFF")
    completed = callbot_test(str(tmp_path), "--baseline", str(path))
    assert completed.returncode == 2
    assert (
        completed.stderr.strip() == f"callbot: {path}: not a 'callbot test --json' report (no 'calls' list)"
    )


def test_usage_mistakes_end_with_one_line_and_status_2(tmp_path: Path) -> None:
    run = callbot_test
    assert (
        run("snapshot", "x.wav").stderr
        == "callbot: snapshot: say which suite to write with --into SUITE.yaml\n"
    )
    assert run(str(tmp_path), "--into", "s.yaml").returncode == 2
    assert run(str(tmp_path), "--jobs", "0").stderr == "callbot: --jobs 0: give at least 1\n"
    missing = tmp_path / "no" / "report.html"
    assert (
        run(str(tmp_path), "--html", str(missing)).stderr
        == f"callbot: {missing}: no such folder for the report\n"
    )


# ------------------------------------------------------------------------------------ JUnit
def test_junit_xml_has_one_case_per_call_and_the_failures(tmp_path: Path) -> None:
    document = report_document(
        [result("a"), result("b", "failed"), {**result("c", "error"), "error": "WavError: not a WAV"}],
        wall_s=3.5,
        started_at="2026-11-23T10:00:00+00:00",
        jobs=2,
    )
    path = tmp_path / "junit.xml"
    write_junit(document, path)
    report = JUnitXml.fromfile(str(path))
    cases = {case.name: case for suite in report for case in suite}
    assert cases["a"].is_passed
    (failure,) = cases["b"].result
    assert failure.message == "outcome: expected transfer, got hangup"
    (error,) = cases["c"].result
    assert error.message == "WavError: not a WAV"
    root = ET.parse(path).getroot()
    assert (root.attrib["tests"], root.attrib["failures"], root.attrib["errors"]) == ("3", "1", "1")


# ------------------------------------------------------------------------------------ HTML
def test_expected_intents_are_paired_with_what_was_recognised_in_their_place() -> None:
    assert intent_pairs(["rappel", "oui"], ["bonjour", "rappel", "oui"]) == [
        ("rappel", "rappel"),
        ("oui", "oui"),
    ]
    assert intent_pairs(["rappel", "oui"], ["rappel", "non"]) == [("rappel", "rappel"), ("oui", "non")]
    assert intent_pairs(["horaires", "au_revoir"], ["horaires"]) == [
        ("horaires", "horaires"),
        ("au_revoir", MISSED),
    ]


def test_the_confusion_counts_every_call_that_expects_intents() -> None:
    calls = [result("a"), result("b", intents=["adresse_magasin"]), {**result("c"), "expect": {}}]
    assert confusion(calls) == {("horaires", "horaires"): 1, ("horaires", "adresse_magasin"): 1}


def test_the_page_escapes_what_callers_said() -> None:
    document = report_document(
        [result("a", transcript=["<script>alert(1)</script>"])], 1.0, "2026-11-23T10:00:00+00:00", 1
    )
    document["calls"][0]["failures"] = [{"text": "bot_says: expected <b>, got </section>"}]
    page = render(document)
    assert "<script>alert" not in page and "&lt;/section&gt;" in page
    assert page.count("<section class='call") == 1


# ------------------------------------------------------------------------------------ timeline
def test_the_response_time_split_adds_up_when_the_decode_started_at_the_pause() -> None:
    """Caller stops at 3000 ms, the pause is seen at 3200 (decode starts), the turn ends at 3600; the work
    takes 700 ms from the pause, so the bot may answer at 3900 (next frame: 3900)."""
    events = [
        {"t_ms": 3600, "event": "speech_end", "speech_start_ms": 1000, "speech_end_ms": 3000},
        {"t_ms": 3600, "event": "asr_final", "text": "je voudrais un conseiller", "asr_ms": 450},
        {"t_ms": 3600, "event": "intent", "intent": "conseiller", "slots": {}},
        {
            "t_ms": 3600,
            "event": "prompt",
            "text": "Je vous passe un conseiller.",
            "duration_ms": 1800,
            "synth_ms": 150,
        },
        {"t_ms": 3600, "event": "decision", "compute_ms": 700, "started_ms": 3200, "audio_ready_ms": 3900},
        {"t_ms": 3900, "event": "bot_audio_start", "response_ms": 900},
        {"t_ms": 5700, "event": "transfer", "queue": "service_client"},
    ]
    data = timeline_data(events, bytes(16000 * 6), bytes(16000 * 6))
    (turn,) = data["turns"]
    assert turn["response_ms"] == 900
    # Recognition ran 3200-3650, dialog 3650-3750, synthesis 3750-3900: only what is past 3600 counts.
    assert turn["split"] == {
        "end_of_speech": 600,
        "recognition": 50,
        "dialog": 100,
        "synthesis": 150,
        "wait": 0,
    }
    assert sum(turn["split"].values()) == turn["response_ms"]
    assert data["prompts"] == [{"t_ms": 3900, "text": "Je vous passe un conseiller.", "duration_ms": 1800}]
    assert data["decisions"] == [{"t_ms": 5700, "kind": "transfer", "label": "transfert service_client"}]
    assert data["duration_ms"] == 6000


def test_the_envelope_is_the_level_per_100_ms() -> None:
    loud = (b"\x00\x40" + b"\x00\xc0") * 400  # a square wave at half scale: -6 dBFS
    assert envelope(bytes(1600) + loud) == [-90, -6]


def test_a_suite_whose_flow_is_broken_is_refused_before_any_call(tmp_path: Path) -> None:
    (tmp_path / "flow.yaml").write_text("name: essai\nstates: [\n", encoding="utf-8")
    (tmp_path / "a.wav").write_bytes(b"")
    (tmp_path / "suite.yaml").write_text("flow: flow.yaml\ncalls:\n  - recording: a.wav\n", encoding="utf-8")
    completed = callbot_test(str(tmp_path / "suite.yaml"))
    assert completed.returncode == 2
    assert completed.stderr.startswith(f"callbot: {tmp_path / 'flow.yaml'}:3: YAML syntax error")


def test_engines_that_cannot_load_are_reported_with_each_call(tmp_path: Path) -> None:
    """No French Vosk model is installed here: the worker says so instead of dying silently."""
    import shutil

    shutil.copy(ROOT / "tests" / "fixtures" / "calls" / "conseiller.wav", tmp_path / "a.wav")
    completed = callbot_test(
        str(tmp_path),
        "--asr",
        "vosk",
        "--jobs",
        "1",
        cwd=tmp_path,
        CALLBOT_MODELS_DIR=str(tmp_path / "models"),
    )
    assert completed.returncode == 1
    assert (
        "  cannot load the speech engines: ModelError: no French Vosk model is installed" in completed.stdout
    )
