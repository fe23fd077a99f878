"""`callbot test snapshot`: a call's current behaviour written down as expectations, to review and keep.

A recording made by `callbot serve` has an event log beside it whose first record says when the call
started, who called, which flow (and its content hash) and which engines answered. The snapshot replays
the recording as of that moment, with that caller and flow, and writes what the bot did as a suite
entry. Without a header the replay uses the suite defaults (or the current time), and the entry says so.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from callbot.dialog.flow import flow_file_sha256
from callbot.dialog.yaml_lines import YamlProblem, load_located
from callbot.qa.suite import RECORDING_SUFFIXES, Case, SuiteError
from callbot.replay.header import CallHeader, read_header

#: A snapshot's latency bound leaves this much room over what the call took when snapshotted: replay
#: timing moves with machine load, and the bound is meant to catch a change of scale, not jitter.
LATENCY_HEADROOM = 2.0


def snapshot_cases(recordings: Sequence[str | Path]) -> tuple[list[Case], list[str]]:
    """The calls to replay for a snapshot (folders expanded), with notes about their headers."""
    cases: list[Case] = []
    notes: list[str] = []
    for target in recordings:
        path = Path(target)
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.suffix.lower() in RECORDING_SUFFIXES)
        elif path.is_file():
            files = [path]
        else:
            raise SuiteError(path, None, "no such recording or folder")
        for wav in files:
            header = read_header(wav)
            flow = _header_flow(wav, header, notes)
            cases.append(Case(wav.stem, wav, str(wav.parent), None, None, flow))
    if not cases:
        raise SuiteError(", ".join(str(r) for r in recordings), None, "no recordings (*.wav) to snapshot")
    return cases, notes


def _header_flow(wav: Path, header: CallHeader | None, notes: list[str]) -> Path | None:
    """The flow the call ran, when its file is here; a changed file is replayed but flagged."""
    if header is None:
        notes.append(f"{wav}: no event-log header: replayed with the current flow, time and default caller")
        return None
    path = Path(header.flow_path) if header.flow_path else None
    if path is None or not path.is_file():
        notes.append(f"{wav}: flow {header.flow_name!r} ({header.flow_path}) is not here: current flow used")
        return None
    if header.flow_sha256 and flow_file_sha256(path) != header.flow_sha256:
        notes.append(f"{wav}: {path} changed since the call (content hash differs): review the expectations")
    return path


def expectations(result: dict[str, Any]) -> dict[str, Any]:
    """What the call did, as a suite's `expect` block."""
    observed = result["observed"]
    expect: dict[str, Any] = {"outcome": observed["outcome"]}
    if observed.get("callback_at"):
        expect["callback_at"] = observed["callback_at"]
    if observed.get("queue"):
        expect["queue"] = observed["queue"]
    if observed["intents"]:
        expect["intents"] = observed["intents"]
    slots = {name: str(value) for name, value in observed["slots"].items() if value is not None}
    if slots:
        expect["slots"] = slots
    if observed["bot_said"]:
        expect["bot_says"] = [observed["bot_said"][-1]]
    if observed.get("max_response_ms"):
        expect["max_response_ms"] = math.ceil(observed["max_response_ms"] * LATENCY_HEADROOM / 100) * 100
    return expect


def write_snapshot(results: list[dict[str, Any]], into: str | Path) -> list[str]:
    """Add (or replace, by recording) one entry per replayed call in the suite `into`; returns problems
    (calls that could not be replayed are left out). The file is rewritten: comments are not kept."""
    into = Path(into)
    base = into.parent.resolve()
    document: dict[str, Any] = {}
    if into.exists():
        try:  # values kept as written: YAML 1.1 would turn an order number 0458129 into an int
            loaded = load_located(into.read_text(encoding="utf-8")).data or {}
        except YamlProblem as problem:
            raise SuiteError(into, problem.line, problem.message) from None
        if not isinstance(loaded, dict):
            raise SuiteError(into, 1, "exists and is not a suite (a mapping with 'calls:')")
        document = loaded
    calls: list[dict[str, Any]] = list(document.get("calls") or [])
    problems = []
    for result in results:
        if result["status"] == "error":
            problems.append(f"{result['recording']}: not snapshotted: {result['error']}")
            continue
        recording = os.path.relpath(Path(result["recording"]).resolve(), base)
        entry: dict[str, Any] = {"recording": recording, "now": result["replayed_now"]}
        entry["caller"] = result["replayed_caller"] or "none"
        entry["expect"] = expectations(result)
        calls = [c for c in calls if c.get("recording") != recording] + [entry]
        if result.get("flow"):
            document.setdefault("flow", os.path.relpath(Path(result["flow"]).resolve(), base))
    document["calls"] = calls
    header = "# Expectations written by `callbot test snapshot`: review them before trusting them.\n"
    text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=110)
    into.write_text(header + text, encoding="utf-8")
    return problems
