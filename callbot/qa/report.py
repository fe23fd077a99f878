"""A run's results as QA reads them: console lines, a JSON file (also a later run's baseline), JUnit XML.

The JSON report is the source of the others: every call's expectations, what it did (`observed`), the
replay's turns and its timeline data. JUnit XML lets CI show each call as a test case.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any, TextIO

from callbot import __version__

REPORT_VERSION = 1


def summary(results: list[dict[str, Any]], wall_s: float) -> dict[str, Any]:
    counts = Counter(r["status"] for r in results)
    total = len(results)
    return {
        "calls": total,
        "passed": counts["passed"],
        "failed": counts["failed"],
        "errors": counts["error"],
        "pass_rate": round(counts["passed"] / total, 4) if total else 0.0,
        "wall_s": round(wall_s, 2),
    }


def report_document(
    results: list[dict[str, Any]], wall_s: float, started_at: str, jobs: int
) -> dict[str, Any]:
    """The whole run as one JSON document (what `--json` writes and `--baseline` reads)."""
    return {
        "version": REPORT_VERSION,
        "callbot": __version__,
        "started_at": started_at,
        "jobs": jobs,
        "summary": summary(results, wall_s),
        "calls": results,
    }


def write_json(document: dict[str, Any], path: str | Path) -> None:
    Path(path).write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def print_failures(result: dict[str, Any], out: TextIO) -> None:
    """One line per failing expectation, under a line naming the call and where the suite lists it."""
    if result["status"] == "passed":
        return
    where = f"{result['suite']}:{result['line']}" if result.get("line") else result["suite"]
    label = "ERROR" if result["status"] == "error" else "FAIL"
    print(f"{label} {result['name']}  ({where})", file=out)
    if result["status"] == "error":
        print(f"  {result['error']}", file=out)
    for failure in result["failures"]:
        print(f"  {failure['text']}", file=out)
    heard = (result.get("observed") or {}).get("transcript")
    if heard:
        print(f"  heard: {' | '.join(heard)}", file=out)


def print_summary(document: dict[str, Any], out: TextIO) -> None:
    s = document["summary"]
    line = f"{s['calls']} call{'s' if s['calls'] != 1 else ''}: {s['passed']} passed, {s['failed']} failed"
    if s["errors"]:
        line += f", {s['errors']} errors"
    print(f"{line} ({s['pass_rate']:.0%} pass) in {s['wall_s']:.1f} s", file=out)


def write_junit(document: dict[str, Any], path: str | Path) -> None:
    """JUnit XML: one <testsuite> per suite file or folder, one <testcase> per call."""
    s = document["summary"]
    root = ET.Element(
        "testsuites",
        name="callbot test",
        tests=str(s["calls"]),
        failures=str(s["failed"]),
        errors=str(s["errors"]),
        time=f"{s['wall_s']:.3f}",
    )
    suites: dict[str, list[dict[str, Any]]] = {}
    for result in document["calls"]:
        suites.setdefault(result["suite"], []).append(result)
    for name, results in suites.items():
        counts = Counter(r["status"] for r in results)
        suite = ET.SubElement(
            root,
            "testsuite",
            name=name,
            tests=str(len(results)),
            failures=str(counts["failed"]),
            errors=str(counts["error"]),
            skipped="0",
            time=f"{sum(r.get('wall_ms', 0) for r in results) / 1000:.3f}",
            timestamp=document["started_at"][:19],
        )
        for result in results:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=Path(name).stem or name,
                name=result["name"],
                file=result["recording"],
                time=f"{result.get('wall_ms', 0) / 1000:.3f}",
            )
            if result["status"] == "failed":
                texts = [f["text"] for f in result["failures"]]
                failure = ET.SubElement(case, "failure", message=texts[0], type="expectation")
                failure.text = "\n".join(texts)
            elif result["status"] == "error":
                error = ET.SubElement(case, "error", message=result["error"], type="replay")
                error.text = result.get("trace", result["error"])
            observed = result.get("observed")
            if observed:
                out = ET.SubElement(case, "system-out")
                out.text = json.dumps(observed, ensure_ascii=False)
    ET.indent(root)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
