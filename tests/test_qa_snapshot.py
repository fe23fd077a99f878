"""From recorded calls to tests: `callbot test snapshot` writes what a call did as a suite entry.

End to end: a SIPp caller asks `callbot serve` for an agent; the gateway leaves the call's stereo recording
and its event log (with its header); the snapshot replays the recording as of the call's start, with its
caller and flow, writes the expectations, and `callbot test` passes them.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from callbot.audio.wav import read_wav
from callbot.dialog.yaml_lines import load_located
from callbot.qa.snapshot import expectations, write_snapshot

ROOT = Path(__file__).parents[1]
CALLERS = ROOT / "tests" / "fixtures" / "callers"
RATE = 8000


def replayed(recording: Path, **observed: Any) -> dict[str, Any]:
    """A run's result for one call, as the worker returns it (only what a snapshot reads)."""
    base = {"outcome": "hangup", "intents": [], "slots": {}, "bot_said": [], "max_response_ms": None}
    return {
        "status": "passed",
        "recording": str(recording),
        "replayed_now": "2026-11-23T10:30:00+01:00",
        "replayed_caller": "+33612345678",
        "flow": None,
        "observed": {**base, **observed},
    }


def test_expectations_hold_what_the_call_did_with_room_on_latency() -> None:
    result = replayed(
        Path("a.wav"),
        outcome="callback",
        queue="service_client",
        callback_at="2026-11-24T15:00:00+01:00",
        intents=["rappel", "oui"],
        slots={"creneau_rappel": "2026-11-24T15:00:00+01:00", "magasin": None},
        bot_said=["Je vous rappelle demain ?", "C'est noté. Au revoir."],
        max_response_ms=910,
    )
    assert expectations(result) == {
        "outcome": "callback",
        "callback_at": "2026-11-24T15:00:00+01:00",
        "queue": "service_client",
        "intents": ["rappel", "oui"],
        "slots": {"creneau_rappel": "2026-11-24T15:00:00+01:00"},
        "bot_says": ["C'est noté. Au revoir."],
        "max_response_ms": 1900,
    }


def test_a_snapshot_adds_new_calls_and_replaces_those_of_the_same_recording(tmp_path: Path) -> None:
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        "now: 2026-11-23T10:00:00+01:00\ncalls:\n"
        "  - recording: calls/kept.wav\n    expect: {outcome: transfer, slots: {numero_commande: 0458129}}\n"
        "  - recording: calls/a.wav\n    expect: {outcome: transfer}\n",
        encoding="utf-8",
    )
    broken = {**replayed(tmp_path / "calls" / "b.wav"), "status": "error", "error": "WavError: not a WAV"}
    problems = write_snapshot([replayed(tmp_path / "calls" / "a.wav"), broken], suite)
    assert problems == [f"{tmp_path / 'calls' / 'b.wav'}: not snapshotted: WavError: not a WAV"]
    text = suite.read_text(encoding="utf-8")
    assert text.startswith("# Expectations written by `callbot test snapshot`")
    document = yaml.safe_load(text)
    assert "now: '2026-11-23T10:00:00+01:00'" in text
    kept = load_located(text).data["calls"][0]["expect"]["slots"]  # as `callbot test` reads a suite
    assert kept == {"numero_commande": "0458129"}  # an order number written by hand is kept as written
    assert [(c["recording"], c["expect"]["outcome"]) for c in document["calls"]] == [
        ("calls/kept.wav", "transfer"),
        ("calls/a.wav", "hangup"),
    ]
    assert document["calls"][1]["caller"] == "+33612345678"


# ------------------------------------------------------------------------------------------ end to end
def callbot(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "callbot.cli", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


@pytest.mark.slow
def test_a_call_served_over_sip_becomes_a_passing_test(tmp_path: Path) -> None:
    from callbot.dialog import Conversation, default_flow_path, load_flow
    from callbot.dialog.actions import Say
    from callbot.session.call_session import RECORDING_NOTICE
    from callbot.sip.testing import (
        free_port,
        free_port_block,
        line_pcap,
        prepare_sipp_dir,
        run_sipp,
        serve_process,
        sipp_args,
    )
    from callbot.tts import PromptCache, create_synthesizer

    prompts = PromptCache(create_synthesizer("pico"), RATE)
    noon = datetime(2026, 11, 23, 12, 0, tzinfo=ZoneInfo("Europe/Paris"))  # the greeting is the same all day
    greeting = Conversation(load_flow(default_flow_path()), now=lambda: noon, caller=None).start()
    opening = [RECORDING_NOTICE, *(a.text for a in greeting.actions if isinstance(a, Say))]
    opening_ms = sum(len(prompts.get(text)) for text in opening) * 500 // RATE
    entry = next(
        u
        for u in yaml.safe_load((CALLERS / "manifest.yaml").read_text())["utterances"]
        if u["file"] == "conseiller_1.wav"
    )
    start, end = entry["speech_ms"]
    speech = read_wav(CALLERS / "conseiller_1.wav").channel(0)[
        start * RATE // 500 : (end + 300) * RATE // 500
    ]

    with serve_process(tmp_path / "gateway") as gateway:
        sipp_dir = prepare_sipp_dir(tmp_path / "sipp")
        line_pcap(sipp_dir / "caller.pcap", speech, 500)
        call_id = f"snapshot-{uuid.uuid4().hex[:10]}@127.0.0.1"
        args = sipp_args(
            "uac_bot_transfer.xml",
            remote=gateway.address,
            local_port=free_port(),
            media_port=free_port_block(8),
            keys={"speak_after_ms": str(opening_ms + 300)},
            extra=["-cid_str", call_id],
            timeout_s=120,
        )
        run = run_sipp(args, sipp_dir, timeout=130)
        assert run.returncode == 0, run.errors
        recording, log = gateway.call_files(call_id)
        deadline = time.monotonic() + 15
        while not (recording.exists() and log.exists() and '"session_end"' in log.read_text()):
            assert time.monotonic() < deadline, gateway.log_text()[-3000:]
            time.sleep(0.1)

    header = json.loads(log.read_text(encoding="utf-8").splitlines()[0])
    assert header["event"] == "call_header"
    assert (header["caller"], header["callee"], header["direction"]) == ("+33612345678", "service", "inbound")
    assert header["flow"]["path"] == str(default_flow_path())
    assert "Whisper" in header["engines"]["asr"] or "whisper" in header["engines"]["asr"]

    suite = tmp_path / "suite.yaml"
    snapshot = callbot("test", "snapshot", recording, "--into", suite, "--asr", "whisper", cwd=tmp_path)
    assert snapshot.returncode == 0, snapshot.stdout + snapshot.stderr
    assert "1 call(s) written to" in snapshot.stdout
    document = yaml.safe_load(suite.read_text(encoding="utf-8"))
    (call,) = document["calls"]
    assert call["now"] == header["started_at"]  # "demain" in this call means the day after it
    assert call["caller"] == "+33612345678"
    assert (tmp_path / document["flow"]).resolve() == default_flow_path().resolve()
    assert call["expect"]["outcome"] == "transfer"
    assert call["expect"]["queue"] == "service_client"
    assert call["expect"]["intents"] == ["conseiller"]

    test = callbot("test", suite, "--asr", "whisper", cwd=tmp_path)
    assert test.returncode == 0, test.stdout + test.stderr
    assert "1 call: 1 passed" in test.stdout


def test_a_snapshot_replays_with_the_calls_flow_and_says_when_it_changed(tmp_path: Path) -> None:
    from callbot.qa.snapshot import snapshot_cases

    calls = tmp_path / "recordings"
    calls.mkdir()
    flow = tmp_path / "flow.yaml"
    flow.write_text("name: essai\n", encoding="utf-8")
    for name in ("with_header", "changed_flow", "no_header"):
        (calls / f"{name}.wav").write_bytes(b"")

    def header(name: str, sha256: str) -> None:
        record = {
            "event": "call_header",
            "version": 1,
            "started_at": "2026-11-23T10:30:00+01:00",
            "caller": None,
            "flow": {"name": "essai", "path": str(flow), "sha256": sha256},
        }
        (calls / f"{name}.jsonl").write_text(json.dumps(record) + "\n", encoding="utf-8")

    header("with_header", hashlib.sha256(flow.read_bytes()).hexdigest())
    header("changed_flow", "0" * 64)
    cases, notes = snapshot_cases([calls])
    assert [(c.name, c.flow) for c in cases] == [
        ("changed_flow", flow),
        ("no_header", None),
        ("with_header", flow),
    ]
    changed, missing = notes
    assert changed == f"{calls / 'changed_flow.wav'}: {flow} changed since the call " + (
        "(content hash differs): review the expectations"
    )
    assert missing.startswith(
        f"{calls / 'no_header.wav'}: no event-log header: replayed with the current flow"
    )
