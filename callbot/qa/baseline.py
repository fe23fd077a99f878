"""What changed since a previous run (`--baseline OLD.json`): per call, the differences a reviewer needs.

A flow or model change is reviewed on the same recordings before it goes live: the outcome, the intents,
the slots, the words heard, and the response time beyond a tolerance (replay timing varies by tens of
milliseconds from run to run on a busy machine, so small moves are not news).
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from callbot.qa import QaError

DEFAULT_LATENCY_TOLERANCE_MS = 300


class BaselineError(QaError):
    """A baseline file that is not a `callbot test --json` report."""


@dataclass(frozen=True)
class Change:
    call: str
    what: str
    before: Any
    after: Any

    def __str__(self) -> str:
        return f"{self.call}: {self.what}: {_show(self.before)} -> {_show(self.after)}"


def load_baseline(path: str | Path) -> dict[str, dict[str, Any]]:
    """The calls of a previous `--json` report, by name."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise BaselineError(f"{path}: cannot read: {exc.strerror}") from exc
    except ValueError as exc:
        raise BaselineError(f"{path}: not JSON ({exc})") from exc
    if not isinstance(document, dict) or not isinstance(document.get("calls"), list):
        raise BaselineError(f"{path}: not a 'callbot test --json' report (no 'calls' list)")
    return {call["name"]: call for call in document["calls"]}


def compare(
    old: dict[str, dict[str, Any]],
    new: list[dict[str, Any]],
    tolerance_ms: int = DEFAULT_LATENCY_TOLERANCE_MS,
) -> list[Change]:
    """Every difference between the baseline's calls and this run's, call by call in this run's order."""
    changes: list[Change] = []
    for result in new:
        name = result["name"]
        before = old.get(name)
        if before is None:
            changes.append(Change(name, "new call", None, result["status"]))
            continue
        changes += _call_changes(name, before, result, tolerance_ms)
    seen = {r["name"] for r in new}
    changes += [
        Change(name, "call no longer run", old[name]["status"], None) for name in old if name not in seen
    ]
    return changes


def _call_changes(
    name: str, before: dict[str, Any], after: dict[str, Any], tolerance_ms: int
) -> list[Change]:
    changes = []
    if before["status"] != after["status"]:
        changes.append(Change(name, "status", before["status"], after["status"]))
    a, b = before.get("observed") or {}, after.get("observed") or {}
    if not a or not b:
        return changes
    for key in ("outcome", "queue", "callback_at"):
        if a.get(key) != b.get(key):
            changes.append(Change(name, key, a.get(key), b.get(key)))
    if a.get("intents") != b.get("intents"):
        changes.append(Change(name, "intents", a.get("intents"), b.get("intents")))
    old_slots, new_slots = a.get("slots") or {}, b.get("slots") or {}
    for slot in sorted(set(old_slots) | set(new_slots)):
        if old_slots.get(slot) != new_slots.get(slot):
            changes.append(Change(name, f"slots.{slot}", old_slots.get(slot), new_slots.get(slot)))
    words = word_changes(" ".join(a.get("transcript") or []), " ".join(b.get("transcript") or []))
    if words:
        changes.append(Change(name, "transcript", *words))
    old_ms, new_ms = a.get("max_response_ms"), b.get("max_response_ms")
    if old_ms is not None and new_ms is not None and abs(new_ms - old_ms) > tolerance_ms:
        changes.append(Change(name, f"max_response_ms (±{tolerance_ms})", old_ms, new_ms))
    return changes


def word_changes(before: str, after: str) -> tuple[str, str] | None:
    """The words that differ between two transcripts, as ([-removed-], {+added+}) in context, or None."""
    old, new = before.split(), after.split()
    if [w.casefold() for w in old] == [w.casefold() for w in new]:
        return None
    removed, added = [], []
    matcher = difflib.SequenceMatcher(a=[w.casefold() for w in old], b=[w.casefold() for w in new])
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            if i2 > i1:
                removed.append(" ".join(old[i1:i2]))
            if j2 > j1:
                added.append(" ".join(new[j1:j2]))
    return " … ".join(removed) or "(nothing)", " … ".join(added) or "(nothing)"


def _show(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)
