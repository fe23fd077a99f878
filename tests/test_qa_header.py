"""The event-log header: every call's log opens with what a faithful replay of it needs, and replay reads it.

The stack here has the real flow and synthesiser; its recogniser is a stand-in (nothing is heard in these
tests, they are about the log's first record). `callbot serve` writing it on a real SIP call is checked
in tests/test_qa_snapshot.py.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from callbot.clock import ManualClock
from callbot.config import Settings
from callbot.dialog import default_flow_path
from callbot.replay.header import read_header, replay_setup
from callbot.replay.replay import DEFAULT_REPLAY_CALLER
from callbot.session.stack import SpeechStack
from callbot.tts import create_synthesizer

PARIS = ZoneInfo("Europe/Paris")
STARTED = datetime(2026, 11, 23, 10, 30, 12, tzinfo=PARIS)


@pytest.fixture(scope="module")
def stack(silent_engine: object) -> SpeechStack:
    return SpeechStack(Settings(), engine=silent_engine, synthesizer=create_synthesizer("espeak"))  # type: ignore[arg-type]


def open_call(stack: SpeechStack, folder: Path, **who: str | None) -> Path:
    """A call's log as `callbot serve` lays it out: `<Call-ID>.jsonl` beside `<Call-ID>.wav`."""
    log = folder / "call-1.jsonl"
    session = stack.new_session(call_id="call-1", origin=STARTED, log_path=log, **who)  # type: ignore[arg-type]
    session.log.close()
    return log


def test_the_first_record_of_a_call_log_is_its_header(stack: SpeechStack, tmp_path: Path) -> None:
    log = open_call(stack, tmp_path, caller="+33612345678", callee="0800123456")
    first = json.loads(log.read_text(encoding="utf-8").splitlines()[0])
    flow = default_flow_path()
    assert first == {
        "t_ms": 0,
        "event": "call_header",
        "call_id": "call-1",
        "version": 1,
        "callbot": first["callbot"],
        "started_at": "2026-11-23T10:30:12+01:00",
        "direction": "inbound",
        "caller": "+33612345678",
        "callee": "0800123456",
        "flow": {
            "name": stack.flow.name,
            "path": str(flow),
            "sha256": hashlib.sha256(flow.read_bytes()).hexdigest(),
        },
        "engines": {
            "asr": "silent recogniser (tests)",
            "tts": stack.synthesizer.description,
            "vad": "webrtc",
        },
        "sample_rate": 8000,
    }


def test_replay_takes_the_call_start_and_caller_from_the_header(stack: SpeechStack, tmp_path: Path) -> None:
    open_call(stack, tmp_path, caller="+33698765432")
    header = read_header(tmp_path / "call-1.wav")
    assert header is not None and header.flow_name == stack.flow.name
    setup = replay_setup(header, now=None, caller=None)
    assert (setup.now, setup.caller) == (STARTED, "+33698765432")
    assert setup.notes == (
        "now: the call's start, from its event-log header",
        "caller: from the call's event-log header",
    )


def test_what_is_asked_for_wins_over_the_header(stack: SpeechStack, tmp_path: Path) -> None:
    open_call(stack, tmp_path, caller="+33698765432")
    other = datetime(2026, 12, 1, 9, 0, tzinfo=PARIS)
    setup = replay_setup(read_header(tmp_path / "call-1.wav"), now=other, caller="none")
    assert (setup.now, setup.caller, setup.notes) == (other, None, ())


def test_a_hidden_number_in_the_header_replays_hidden(stack: SpeechStack, tmp_path: Path) -> None:
    open_call(stack, tmp_path, caller=None)
    assert replay_setup(read_header(tmp_path / "call-1.wav"), now=None, caller=None).caller is None


def test_without_a_header_replay_uses_the_current_time_and_the_default_caller(tmp_path: Path) -> None:
    (tmp_path / "old.jsonl").write_text('{"t_ms": 0, "event": "session_start"}\n', encoding="utf-8")
    assert read_header(tmp_path / "old.wav") is None
    assert read_header(tmp_path / "no-log.wav") is None
    today = datetime(2031, 5, 6, 7, 8, tzinfo=ZoneInfo("UTC"))
    setup = replay_setup(None, now=None, caller=None, clock=ManualClock(today))
    assert (setup.now, setup.caller) == (today, DEFAULT_REPLAY_CALLER)
    assert setup.notes == ("now: the current time (no 'now' given and no event-log header)",)


@pytest.mark.parametrize(
    "first_line",
    [
        "not json",
        '{"event": "call_header", "version": 99, "started_at": "2026-11-23T10:30:00+01:00"}',
        '{"event": "call_header", "version": 1, "started_at": "lundi"}',
        '{"event": "call_header", "version": 1}',
    ],
)
def test_an_unreadable_header_is_no_header(tmp_path: Path, first_line: str) -> None:
    (tmp_path / "call.jsonl").write_text(first_line + "\n", encoding="utf-8")
    assert read_header(tmp_path / "call.wav") is None


@pytest.mark.slow
def test_callbot_replay_of_a_folder_replays_each_call_as_of_its_header(tmp_path: Path) -> None:
    """A first replay leaves an event log beside the recording (as `serve` does); replaying the folder
    again without --now or --caller takes the call's start and its hidden caller id from that header."""
    import os
    import shutil
    import subprocess
    import sys

    root = Path(__file__).parents[1]
    calls = tmp_path / "calls"
    calls.mkdir()
    shutil.copy(root / "tests" / "fixtures" / "calls" / "conseiller.wav", calls / "conseiller.wav")
    shutil.copy(root / "tests" / "fixtures" / "calls" / "horaires.wav", calls / "horaires.wav")

    def replay(*args: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "callbot.cli", "replay", *map(str, args), "--json", "--asr", "whisper"],
            capture_output=True,
            text=True,
            timeout=600,
            env={**os.environ, "PYTHONPATH": str(root)},
        )

    first = replay(
        calls / "conseiller.wav",
        "--now",
        "2026-11-23T10:30:12+01:00",
        "--caller",
        "none",
        "--events",
        calls / "conseiller.jsonl",
    )
    assert first.returncode == 0, first.stderr
    again = replay(calls, "--events", tmp_path / "again.jsonl")
    assert again.returncode == 0, again.stderr
    assert [json.loads(line)["source"] for line in again.stdout.splitlines()] == [
        str(calls / "conseiller.wav"),
        str(calls / "horaires.wav"),
    ]
    headers = [
        r
        for r in map(json.loads, (tmp_path / "again.jsonl").read_text().splitlines())
        if r["event"] == "call_header"
    ]
    first_call, second_call = headers
    assert (first_call["started_at"], first_call["caller"]) == ("2026-11-23T10:30:12+01:00", None)
    assert second_call["caller"] == DEFAULT_REPLAY_CALLER  # no log beside it: the replay's default


def test_a_call_back_call_placed_by_the_gateway_is_not_replayed_as_a_callers_call(
    stack: SpeechStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from callbot.dialog.actions import CallContext
    from callbot.dialog.callback_call import CallbackCallRequest
    from callbot.qa import runner
    from callbot.qa.suite import Case

    context = CallContext("+33612345678", "rappel", {}, (), "rappel demandé")
    request = CallbackCallRequest("1", "+33612345678", "service_client", context, STARTED)
    log = tmp_path / "out-1.jsonl"
    stack.new_callback_session(request, call_id="out-1", origin=STARTED, log_path=log).log.close()
    (tmp_path / "out-1.wav").write_bytes(b"")
    monkeypatch.setattr(runner, "_worker", runner._Worker.__new__(runner._Worker))  # engines not needed
    result = runner.run_case(Case("out-1", tmp_path / "out-1.wav", "suite.yaml", None, None, None))
    assert result["status"] == "error"
    assert result["error"].startswith("NotReplayable: a call-back call placed by the gateway")
