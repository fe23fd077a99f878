"""The project's recorded calls as a `callbot test` suite, run by CI through the command QA uses.

tests/fixtures/suites/recorded_calls.yaml holds the decisions each call must reach; the manifest of
tests/fixtures/calls says what the callers say (it is generated with the recordings, and the suite lives
outside that folder, which the generator rewrites). The suite must cover every recorded call and agree
with the manifest; then it must pass. tests/test_replay_e2e.py keeps the checks that go further
(response times present, replay faster than real time, each caller utterance understood).
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from callbot.qa.suite import Case, load_suite

ROOT = Path(__file__).parents[1]
CALLS = ROOT / "tests" / "fixtures" / "calls"
SUITE = ROOT / "tests" / "fixtures" / "suites" / "recorded_calls.yaml"
MANIFEST: list[dict[str, Any]] = yaml.safe_load((CALLS / "manifest.yaml").read_text())["calls"]
OUTCOMES = {"schedule_callback": "callback", "transfer": "transfer", "hangup": "hangup"}


def suite_case(file: str) -> Case:
    return next(c for c in load_suite(SUITE) if c.recording.name == file)


def test_the_suite_covers_every_recorded_call() -> None:
    assert sorted(c.recording.name for c in load_suite(SUITE)) == sorted(c["file"] for c in MANIFEST)


@pytest.mark.parametrize("call", MANIFEST, ids=[c["file"] for c in MANIFEST])
def test_the_suite_agrees_with_the_manifest(call: dict[str, Any]) -> None:
    case = suite_case(call["file"])
    expect = case.expect
    assert expect.outcome == OUTCOMES[call["outcome"]["action"]]
    if expect.outcome == "callback":
        spec = call["outcome"]["callback"]
        hour, minute = map(int, spec["time"].split(":"))
        assert case.now is not None
        due = (case.now + timedelta(days=spec["day_offset"])).replace(hour=hour, minute=minute, second=0)
        assert expect.callback_at == due
    said = [t["intent"] for t in call["turns"] if t["intent"]]
    assert expect.intents and all(intent in said for intent in expect.intents)
    for name, value in (call["outcome"].get("slots") or {}).items():
        if name == "numero_commande":
            assert (expect.slots or {})[name] == value


@pytest.mark.slow
def test_the_recorded_calls_pass_through_callbot_test(tmp_path: Path) -> None:
    junit = tmp_path / "fixtures.xml"
    completed = subprocess.run(
        [sys.executable, "-m", "callbot.cli", "test", str(SUITE), "--asr", "whisper", "--junit", str(junit)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert f"{len(MANIFEST)} calls: {len(MANIFEST)} passed" in completed.stdout
    root = ET.parse(junit).getroot()
    assert (root.attrib["tests"], root.attrib["failures"], root.attrib["errors"]) == (
        str(len(MANIFEST)),
        "0",
        "0",
    )
