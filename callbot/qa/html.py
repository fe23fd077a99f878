"""The HTML report: one self-contained page (no network, no external files) to share after a run.

At the top, the pass rate and a confusion table of expected vs recognised intents; then, per call, its
failures, a timeline picture (inline SVG) and the turns as a table. The timeline reads faster than
JSON: where the caller spoke, what was heard and understood, when the bot answered and why it took that
long, where the caller barged in, and how the call ended.
"""

from __future__ import annotations

import difflib
from collections import Counter
from html import escape
from pathlib import Path
from typing import Any

#: Colours of the response-time split (docs/qa.md names the parts).
SPLIT_COLOURS = {
    "end_of_speech": "#9e9e9e",
    "recognition": "#1e88e5",
    "dialog": "#8e24aa",
    "synthesis": "#fb8c00",
    "wait": "#cfd8dc",
}
SPLIT_NAMES = {
    "end_of_speech": "fin de parole",
    "recognition": "reconnaissance",
    "dialog": "dialogue",
    "synthesis": "synthèse",
    "wait": "attente",
}
MISSED = "(rien)"
_WIDTH = 1100
_LEFT = 70

_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
h1{margin-bottom:.2em} .muted{color:#666}
.bar{height:14px;background:#e53935;width:100%;border-radius:3px;overflow:hidden}
.bar span{display:block;height:100%;background:#43a047}
table{border-collapse:collapse;margin:.5em 0} td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px}
th{background:#f5f5f5} td.hit{background:#c8e6c9} td.miss{background:#ffcdd2}
section.call{border-top:2px solid #ddd;margin-top:1.2em;padding-top:.4em}
.passed h2{color:#2e7d32} .failed h2{color:#c62828} .error h2{color:#6a1b9a}
ul.failures{color:#c62828} svg text{font-size:11px}
"""

_SCRIPT = """
document.getElementById('only-failures').addEventListener('change', function (e) {
  document.querySelectorAll('section.call.passed').forEach(function (s) {
    s.style.display = e.target.checked ? 'none' : '';
  });
});
document.getElementById('shown').textContent = document.querySelectorAll('section.call').length;
"""


def write_html(document: dict[str, Any], path: str | Path) -> None:
    Path(path).write_text(render(document), encoding="utf-8")


def render(document: dict[str, Any]) -> str:
    s = document["summary"]
    calls = document["calls"]
    parts = [
        "<!DOCTYPE html><html lang='fr'><head><meta charset='utf-8'>",
        "<title>callbot test report</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>callbot test</h1>",
        f"<p class='muted'>{escape(document['started_at'])} · callbot {escape(document['callbot'])} · "
        f"{document['jobs']} job(s) · {s['wall_s']:.1f} s</p>",
        _engines(calls),
        f"<p id='summary'><b>{s['passed']} / {s['calls']} passed</b> ({s['pass_rate']:.0%}), "
        f"{s['failed']} failed, {s['errors']} errors · <span id='shown'></span> calls shown</p>",
        f"<div class='bar'><span style='width:{s['pass_rate'] * 100:.1f}%'></span></div>",
        "<p><label><input type='checkbox' id='only-failures'> only failures</label></p>",
        "<h2>Intents: expected (rows) vs recognised (columns)</h2>",
        confusion_table(calls),
        _legend(),
    ]
    parts += [_call_section(result) for result in calls]
    parts.append(f"<script>{_SCRIPT}</script></body></html>")
    return "\n".join(parts)


def _engines(calls: list[dict[str, Any]]) -> str:
    """The engines the calls ran with (the same for every call of a run)."""
    banner: list[str] = next((r["engines"] for r in calls if r.get("engines")), [])
    return f"<p class='muted' id='engines'>{escape(' · '.join(banner))}</p>" if banner else ""


# ------------------------------------------------------------------------------------ confusion
def intent_pairs(expected: list[str], recognised: list[str]) -> list[tuple[str, str]]:
    """(expected, recognised) pairs of one call: expected intents aligned with what was recognised in
    their place; an expected intent with nothing in its place is paired with `MISSED`. Recognised
    intents the suite did not mention (others may come between) are left out."""
    pairs: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(a=expected, b=recognised, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            pairs += [(x, x) for x in expected[i1:i2]]
        elif tag in ("replace", "delete"):
            got = recognised[j1:j2] if tag == "replace" else []
            for offset, want in enumerate(expected[i1:i2]):
                pairs.append((want, got[offset] if offset < len(got) else MISSED))
    return pairs


def confusion(calls: list[dict[str, Any]]) -> Counter[tuple[str, str]]:
    counts: Counter[tuple[str, str]] = Counter()
    for result in calls:
        expected = (result.get("expect") or {}).get("intents")
        observed = result.get("observed")
        if expected and observed is not None:
            counts.update(intent_pairs(expected, observed["intents"]))
    return counts


def confusion_table(calls: list[dict[str, Any]]) -> str:
    counts = confusion(calls)
    if not counts:
        return "<p class='muted'>No call of this run expects intents.</p>"
    rows = sorted({e for e, _ in counts})
    columns = sorted({g for _, g in counts} - {MISSED}) + (
        [MISSED] if any(g == MISSED for _, g in counts) else []
    )
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = []
    for row in rows:
        cells = []
        for column in columns:
            n = counts.get((row, column), 0)
            cls = "" if not n else ("hit" if row == column else "miss")
            cells.append(f"<td class='{cls}'>{n or ''}</td>")
        body.append(f"<tr><th>{escape(row)}</th>{''.join(cells)}</tr>")
    return f"<table id='confusion'><tr><th></th>{head}</tr>{''.join(body)}</table>"


# ------------------------------------------------------------------------------------ per call
def _legend() -> str:
    items = "".join(
        f"<span style='display:inline-block;width:12px;height:12px;background:{colour}'></span> "
        f"{SPLIT_NAMES[name]} &nbsp; "
        for name, colour in SPLIT_COLOURS.items()
    )
    return f"<p class='muted'>Response time: {items}</p>"


def _call_section(result: dict[str, Any]) -> str:
    status = result["status"]
    parts = [
        f"<section class='call {status}' data-name='{escape(result['name'])}'>",
        f"<h2>{escape(result['name'])} — {status}</h2>",
        f"<p class='muted'>{escape(result['recording'])} · now {_field(result, 'replayed_now')}"
        f" · caller {_field(result, 'replayed_caller')} · flow {_field(result, 'flow_name')}</p>",
    ]
    if status == "error":
        parts.append(f"<ul class='failures'><li>{escape(result['error'])}</li></ul>")
    if result["failures"]:
        items = "".join(f"<li>{escape(f['text'])}</li>" for f in result["failures"])
        parts.append(f"<ul class='failures'>{items}</ul>")
    for note in result.get("notes", []):
        parts.append(f"<p class='muted'>{escape(note)}</p>")
    if result.get("timeline"):
        parts.append(timeline_svg(result["timeline"]))
        parts.append(_turns_table(result["timeline"]))
    if result.get("observed"):
        outcome = result["replay"]["outcome"]
        parts.append(f"<p>outcome: <b>{escape(' '.join(str(v) for v in outcome.values()))}</b></p>")
    parts.append("</section>")
    return "\n".join(parts)


def _field(result: dict[str, Any], key: str) -> str:
    return escape(str(result.get(key) or "—"))


def _turns_table(timeline: dict[str, Any]) -> str:
    rows = []
    for turn in timeline["turns"]:
        split = " + ".join(f"{SPLIT_NAMES[k]} {v}" for k, v in turn["split"].items() if v)
        slots = ", ".join(f"{k}={v}" for k, v in (turn.get("slots") or {}).items())
        response = turn.get("response_ms")
        rows.append(
            f"<tr><td>{turn['speech'][0] / 1000:.1f} s</td><td>{escape(turn.get('text', ''))}</td>"
            f"<td>{escape(turn.get('intent') or '?')}</td><td>{escape(slots)}</td>"
            f"<td>{'' if response is None else response} ms</td><td>{escape(split)}</td></tr>"
        )
    if not rows:
        return ""
    head = (
        "<tr><th>at</th><th>heard</th><th>intent</th><th>slots</th><th>response</th><th>split (ms)</th></tr>"
    )
    return f"<table class='turns'>{head}{''.join(rows)}</table>"


def timeline_svg(timeline: dict[str, Any]) -> str:
    """The call as a picture: caller level, speech turns with what was heard, response-time bars, bot
    level with its prompts, decisions and barge-ins, on one time axis."""
    duration = max(timeline["duration_ms"], 1)
    scale = (_WIDTH - _LEFT - 10) / duration

    def x(t_ms: float) -> float:
        return _LEFT + t_ms * scale

    step = timeline["step_ms"]
    out = [f"<svg class='timeline' width='{_WIDTH}' height='250' viewBox='0 0 {_WIDTH} 250'>"]
    out.append("<text x='4' y='38'>appelant</text><text x='4' y='178'>bot</text>")
    out.append(_envelope_path(timeline["caller_level"], step, x, base=60, colour="#1e88e5"))
    out.append(_envelope_path(timeline["bot_level"], step, x, base=200, colour="#fb8c00"))
    for turn in timeline["turns"]:
        start, end = turn["speech"]
        label = f"{turn.get('text', '')} → {turn.get('intent') or '?'}"
        out.append(
            f"<rect x='{x(start):.1f}' y='64' width='{max(1.0, (end - start) * scale):.1f}' height='12' "
            f"fill='#90caf9'><title>{escape(label)}</title></rect>"
            f"<text x='{x(start):.1f}' y='90'>{escape(_clip(label, (end - start) * scale + 120))}</text>"
        )
        offset = end
        for name, value in turn["split"].items():
            if value <= 0:
                continue
            out.append(
                f"<rect x='{x(offset):.1f}' y='100' width='{max(1.0, value * scale):.1f}' height='10' "
                f"fill='{SPLIT_COLOURS[name]}'><title>{SPLIT_NAMES[name]} {value} ms</title></rect>"
            )
            offset += value
        if turn.get("response_ms") is not None:
            out.append(f"<text x='{x(end):.1f}' y='122'>{turn['response_ms']} ms</text>")
    for index, prompt in enumerate(timeline["prompts"]):
        y = 214 + 12 * (index % 2)  # alternate rows: short prompts back to back stay readable
        width = max(prompt["duration_ms"] * scale, 60.0)
        out.append(
            f"<text x='{x(prompt['t_ms']):.1f}' y='{y}' fill='#e65100'>"
            f"<title>{escape(prompt['text'])}</title>{escape(_clip(prompt['text'], width))}</text>"
        )
    for decision in timeline["decisions"]:
        at = x(decision["t_ms"])
        # Near the right edge the label goes to the left of its line.
        anchor, dx = ("end", -3) if at > _WIDTH * 0.75 else ("start", 3)
        out.append(
            f"<line x1='{at:.1f}' y1='130' x2='{at:.1f}' y2='240' stroke='#2e7d32' stroke-dasharray='3 2'/>"
            f"<text x='{at + dx:.1f}' y='140' text-anchor='{anchor}' fill='#2e7d32'>"
            f"{escape(decision['label'])}</text>"
        )
    for t in timeline["barge_ins"]:
        at = x(t)
        out.append(
            f"<polygon points='{at:.1f},150 {at - 5:.1f},160 {at + 5:.1f},160' fill='#e53935'>"
            "<title>barge-in</title></polygon>"
        )
    for second in range(0, duration // 1000 + 1, max(1, duration // 10000)):
        out.append(f"<text x='{x(second * 1000):.1f}' y='248' fill='#999'>{second}s</text>")
    out.append("</svg>")
    return "".join(out)


def _envelope_path(levels: list[int], step_ms: int, x: Any, *, base: int, colour: str) -> str:
    """An area whose height is the level above -70 dBFS (up to 50 px at 0 dBFS)."""
    if not levels:
        return ""
    points = [f"{x(0):.1f},{base}"]
    for i, level in enumerate(levels):
        height = max(0.0, (level + 70) * 50 / 70)
        points.append(f"{x(i * step_ms):.1f},{base - height:.1f}")
    points.append(f"{x(len(levels) * step_ms):.1f},{base}")
    return f"<polygon points='{' '.join(points)}' fill='{colour}' opacity='0.6'/>"


def _clip(text: str, width_px: float) -> str:
    """Text cut to about what fits in `width_px` (11 px font)."""
    room = max(4, int(width_px / 6))
    return text if len(text) <= room else text[: room - 1] + "…"
