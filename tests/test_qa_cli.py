"""`callbot test` end to end, as QA runs it: a suite written for calls the project never replayed before.

The calls are put together here from the Pico caller utterances (tests/fixtures/callers), and the suite is
written by hand in the issue's format. The real recogniser (Whisper), synthesiser and flow judge them
through the command line, in two worker processes; the reports are read back with a JUnit parser and the
HTML report is opened in headless Chromium.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from callbot.audio.wav import read_wav, write_wav

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parents[1]
CALLERS = ROOT / "tests" / "fixtures" / "callers"
UTTERANCES = {u["file"]: u for u in yaml.safe_load((CALLERS / "manifest.yaml").read_text())["utterances"]}
RATE = 8000
#: Where the HTML report's screenshot is kept for CI to publish (default: build/test-artifacts).
ARTIFACTS = Path(os.environ.get("CALLBOT_TEST_ARTIFACTS", ROOT / "build" / "test-artifacts"))

#: The suite, as a QA engineer would write it for these three new calls.
SUITE = """\
now: 2026-11-23T10:00:00+01:00
caller: "+33612345678"
calls:
  - recording: calls/agent.wav
    expect:
      outcome: transfer
      queue: service_client
      intents: [conseiller]
      bot_says: ["je vous passe un conseiller"]
  - recording: calls/callback_tomorrow.wav
    now: 2026-11-23T10:30:00+01:00
    expect:
      outcome: callback
      callback_at: 2026-11-24T15:00:00+01:00
      intents: [rappel, oui]
      bot_says: ["à 15 h"]
  - recording: calls/store_address.wav
    expect:
      outcome: hangup
      intents: [adresse_magasin]
      slots: {magasin: paris_rivoli}
"""


def compose_call(path: Path, utterances: list[str], gap_ms: int = 4000) -> None:
    """A caller's side of a call: each utterance's speech after `gap_ms` of silence (the bot's turn)."""
    pcm = b""
    for name in utterances:
        start, end = UTTERANCES[name]["speech_ms"]
        audio = read_wav(CALLERS / name)
        assert audio.sample_rate == RATE
        speech = audio.channel(0)[max(0, start - 200) * RATE // 500 : (end + 200) * RATE // 500]
        pcm += bytes(gap_ms * RATE // 500) + speech
    write_wav(path, pcm + bytes(2000 * RATE // 500), RATE)


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


def callbot_test(*args: str | Path, cwd: Path) -> Run:
    completed = subprocess.run(
        [sys.executable, "-m", "callbot.cli", "test", *map(str, args), "--asr", "whisper"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    return Run(completed.returncode, completed.stdout, completed.stderr)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("qa")
    (root / "calls").mkdir()
    compose_call(root / "calls" / "agent.wav", ["conseiller_2.wav"])
    compose_call(root / "calls" / "callback_tomorrow.wav", ["rappel_1.wav", "oui_2.wav"])
    compose_call(root / "calls" / "store_address.wav", ["adresse_magasin_3.wav", "au_revoir_3.wav"])
    (root / "suite.yaml").write_text(SUITE, encoding="utf-8")
    # A flow change to review: agents' calls now go to the complaints team.
    flows = root / "flows"
    shutil.copytree(ROOT / "callbot" / "flows", flows)
    retail = (flows / "retail.yaml").read_text(encoding="utf-8")
    agent = "    conseiller:\n      say: Je vous passe un conseiller, ne quittez pas.\n      transfer: "
    changed = retail.replace(agent + "service_client", agent + "reclamations")
    assert changed != retail
    (flows / "changed.yaml").write_text(changed, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def first_run(project: Path) -> Run:
    return callbot_test(
        "suite.yaml",
        "--jobs",
        "2",
        "--json",
        "run.json",
        "--junit",
        "run.xml",
        "--html",
        "run.html",
        cwd=project,
    )


def test_a_suite_written_by_hand_runs_and_passes(first_run: Run) -> None:
    assert first_run.returncode == 0, first_run.stdout + first_run.stderr
    assert "3 calls: 3 passed, 0 failed (100% pass)" in first_run.stdout
    assert "FAIL" not in first_run.stdout


def test_no_progress_bar_when_the_output_is_piped(first_run: Run) -> None:
    assert "call/s" not in first_run.stderr and "%|" not in first_run.stderr


def test_the_junit_report_is_valid_junit(project: Path, first_run: Run) -> None:
    from junitparser import JUnitXml

    report = JUnitXml.fromfile(str(project / "run.xml"))
    cases = [case for suite in report for case in suite]
    assert sorted(case.name for case in cases) == ["agent", "callback_tomorrow", "store_address"]
    assert all(case.is_passed for case in cases)
    root = ET.parse(project / "run.xml").getroot()
    assert root.tag == "testsuites" and root.attrib["tests"] == "3" and root.attrib["failures"] == "0"


def test_the_json_report_holds_what_each_call_did(project: Path, first_run: Run) -> None:
    document = json.loads((project / "run.json").read_text())
    calls = {c["name"]: c for c in document["calls"]}
    assert document["summary"]["pass_rate"] == 1.0
    callback = calls["callback_tomorrow"]
    assert callback["replayed_now"] == "2026-11-23T10:30:00+01:00"
    assert callback["observed"]["callback_at"] == "2026-11-24T15:00:00+01:00"
    assert callback["timeline"]["turns"], "the timeline has the caller's turns"
    for turn in callback["timeline"]["turns"]:
        assert set(turn["split"]) >= {"end_of_speech", "recognition", "dialog", "synthesis"}
        assert sum(turn["split"].values()) == turn["response_ms"]


def test_the_html_report_renders_in_a_real_browser(project: Path, first_run: Run) -> None:
    from selenium import webdriver
    from selenium.webdriver.common.by import By

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,2400"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = webdriver.ChromeService(executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    driver = webdriver.Chrome(options=options, service=service)
    try:
        driver.get((project / "run.html").as_uri())
        errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
        assert errors == []
        sections = driver.find_elements(By.CSS_SELECTOR, "section.call")
        assert [s.get_attribute("data-name") for s in sections] == [
            "agent",
            "callback_tomorrow",
            "store_address",
        ]
        assert all(s.find_element(By.CSS_SELECTOR, "svg.timeline").is_displayed() for s in sections)
        assert driver.find_element(By.ID, "shown").text == "3"  # the page's script ran
        assert "3 / 3 passed" in driver.find_element(By.ID, "summary").text
        confusion = driver.find_element(By.ID, "confusion").text
        assert "adresse_magasin" in confusion and "rappel" in confusion
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        assert driver.save_screenshot(str(ARTIFACTS / "qa-report.png"))
        driver.find_element(By.ID, "only-failures").click()
        assert not any(s.is_displayed() for s in sections)  # every call passed
    finally:
        driver.quit()


def test_a_wrong_expectation_fails_with_expected_and_got(project: Path) -> None:
    suite = project / "wrong.yaml"
    suite.write_text(
        "now: 2026-11-23T10:00:00+01:00\ncalls:\n  - recording: calls/store_address.wav\n"
        "    expect: {outcome: transfer, intents: [horaires]}\n",
        encoding="utf-8",
    )
    run = callbot_test(suite.name, "--jobs", "1", "--junit", "wrong.xml", cwd=project)
    assert run.returncode == 1
    assert f"FAIL store_address  ({suite.name}:3)" in run.stdout
    assert "  outcome: expected transfer, got hangup" in run.stdout
    assert "  intents: expected [horaires], got [adresse_magasin" in run.stdout
    assert "1 call: 0 passed, 1 failed (0% pass)" in run.stdout
    root = ET.parse(project / "wrong.xml").getroot()
    (failure,) = root.iter("failure")
    assert failure.attrib["message"] == "outcome: expected transfer, got hangup"


def test_a_flow_change_is_reviewed_against_the_previous_run(project: Path, first_run: Run) -> None:
    # Response times move with the machine's load: this review looks at decisions only.
    run = callbot_test(
        "suite.yaml",
        "--flow",
        "flows/changed.yaml",
        "--baseline",
        "run.json",
        "--tolerance-ms",
        "60000",
        cwd=project,
    )
    assert run.returncode == 1, run.stdout + run.stderr  # the suite still expects service_client
    assert "  queue: expected service_client, got reclamations" in run.stdout
    changes = run.stdout.split("changes since run.json: ")[1].split("\n3 calls:")[0].splitlines()
    assert changes == [
        "2",
        "  agent: status: passed -> failed",
        "  agent: queue: service_client -> reclamations",
    ], "the other calls did the same as before"


def test_a_broken_recording_is_an_error_and_the_other_calls_still_run(project: Path) -> None:
    (project / "calls" / "damaged.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    suite = project / "damaged.yaml"
    suite.write_text(
        "now: 2026-11-23T10:00:00+01:00\ncalls:\n  - recording: calls/damaged.wav\n"
        "  - recording: calls/agent.wav\n    expect: {outcome: transfer}\n",
        encoding="utf-8",
    )
    run = callbot_test(suite.name, "--jobs", "1", "--json", "damaged.json", cwd=project)
    assert run.returncode == 1
    assert "ERROR damaged  (damaged.yaml:3)" in run.stdout
    assert "  WavError: " in run.stdout
    assert "2 calls: 1 passed, 0 failed, 1 errors (50% pass)" in run.stdout
    document = json.loads((project / "damaged.json").read_text())
    assert [c["status"] for c in document["calls"]] == ["error", "passed"]


def test_a_terminal_gets_a_progress_bar(project: Path) -> None:
    """On a terminal (a pseudo-terminal here) the progress bar runs on stderr."""
    import fcntl
    import pty
    import struct
    import termios

    suite = project / "one.yaml"
    suite.write_text(
        "now: 2026-11-23T10:00:00+01:00\ncalls:\n  - recording: calls/agent.wav\n", encoding="utf-8"
    )
    main, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))  # 100 columns
    process = subprocess.Popen(
        [sys.executable, "-m", "callbot.cli", "test", suite.name, "--jobs", "1", "--asr", "whisper"],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=terminal,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:  # the terminal closed: the command has ended
            break
        if not chunk:
            break
        shown += chunk
    assert process.wait(timeout=600) == 0
    os.close(main)
    assert b"1/1" in shown and b"100%" in shown
