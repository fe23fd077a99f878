"""The ops page (`/`): one read-only HTML page, rendered on the server, that reloads itself every few
seconds — live calls, today's figures, the queues, call-backs due and the recent calls with their
transcript and recording. No JavaScript and nothing fetched from elsewhere: it works offline."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape
from typing import TYPE_CHECKING, Any

from callbot.queues.hours import PARIS

if TYPE_CHECKING:
    from callbot.calls.records import CallRecord
    from callbot.ops.http import OpsContext

REFRESH_S = 2
_STYLE = """
body{font:14px system-ui,sans-serif;margin:1.5em;color:#222} h1{font-size:1.4em}
h2{font-size:1.1em;margin-top:1.6em} table{border-collapse:collapse}
td,th{padding:.25em .7em;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
.figure{display:inline-block;margin-right:2em} .figure b{display:block;font-size:1.6em}
.open{color:#161} .closed{color:#a11} .saturated{color:#b60}
details{max-width:60em} pre{white-space:pre-wrap;margin:.3em 0} #flow-drawing svg{max-width:100%;height:auto}
"""


def render_page(context: OpsContext) -> str:
    now = context.clock()
    sections = [
        _live(context, now),
        _today(context),
        _queues(context),
        _callbacks(context),
        _recent(context),
        _flow(context),
    ]
    title = f"callbot — {escape(context.flow_name)}" if context.flow_name else "callbot"
    return (
        f'<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>{title}</title>'
        f'<meta http-equiv="refresh" content="{REFRESH_S}"><style>{_STYLE}</style></head><body>'
        f"<h1>{title}</h1><p>{now.astimezone(PARIS):%Y-%m-%d %H:%M:%S} (Paris)</p>"
        + "".join(sections)
        + "</body></html>"
    )


def _table(section_id: str, header: tuple[str, ...], rows: Sequence[tuple[str, ...]], empty: str) -> str:
    if not rows:
        return f'<p id="{section_id}" class="empty">{escape(empty)}</p>'
    head = "".join(f"<th>{escape(cell)}</th>" for cell in header)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f'<table id="{section_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _live(context: OpsContext, now: datetime) -> str:
    calls = context.board.calls() if context.board else []
    rows = []
    for call in calls:
        try:
            seconds = (now - datetime.fromisoformat(str(call["started_at"]))).total_seconds()
        except (KeyError, ValueError):
            seconds = 0.0
        rows.append(
            (
                escape(str(call.get("caller") or "-")),
                escape(str(call.get("direction", ""))),
                escape(str(call.get("state", ""))),
                f"{max(0, int(seconds))} s",
                escape(str(call.get("last_said") or "")),
                escape(str(call.get("last_bot") or "")),
            )
        )
    table = _table(
        "live", ("caller", "direction", "state", "duration", "last said", "bot"), rows, "No call now."
    )
    return f"<h2>Live calls ({len(calls)})</h2>{table}"


def _today(context: OpsContext) -> str:
    if context.records is None:
        return "<h2>Today</h2><p>Call records are not kept.</p>"
    stats = context.records.day_stats(context.clock().astimezone(PARIS).date()).as_dict()
    containment = "-" if stats["containment"] is None else f"{stats['containment']:.0%}"
    p95 = "-" if stats["response_p95_ms"] is None else f"{stats['response_p95_ms']} ms"
    figures = [
        ("calls", str(stats["calls"])),
        ("containment", containment),
        ("transferred", str(stats["transferred"])),
        ("call-backs booked", str(stats["callbacks_booked"])),
        ("abandoned", str(stats["abandoned"])),
        ("errors", str(stats["errors"])),
        ("response p95", p95),
    ]
    cells = "".join(
        f'<span class="figure" id="today-{name.replace(" ", "-")}"><b>{escape(value)}</b>{name}</span>'
        for name, value in figures
    )
    queues = ", ".join(f"{escape(q)}: {n}" for q, n in stats["transfers_by_queue"].items())
    return f'<h2>Today</h2><div id="today">{cells}</div><p>Transfers per queue: {queues or "none"}</p>'


def _queues(context: OpsContext) -> str:
    rows = [
        (
            escape(q["queue"]),
            f'<span class="{q["state"]}">{q["state"]}</span>',
            "" if q["estimated_wait_s"] is None else f"{q['estimated_wait_s']:.0f} s",
            escape(q["why"]),
        )
        for q in context.queue_states()
    ]
    return "<h2>Queues</h2>" + _table(
        "queues", ("queue", "state", "wait", "why"), rows, "No queues file: queues are taken as always open."
    )


def _callbacks(context: OpsContext) -> str:
    if context.callbacks is None:
        return ""
    store = context.callbacks.store
    pending = store.list(status="pending", limit=10)
    rows = [
        (
            escape(r.due_at.astimezone(PARIS).strftime("%Y-%m-%d %H:%M")),
            escape(r.queue),
            escape(r.phone),
            str(r.attempts),
            escape(str(r.context.get("summary") or "")),
        )
        for r in pending
    ]
    return f"<h2>Call-backs ({context.callbacks.due()} due now)</h2>" + _table(
        "callbacks", ("due", "queue", "phone", "tries", "summary"), rows, "No call-back waiting."
    )


def _recent(context: OpsContext) -> str:
    if context.records is None:
        return ""
    records = context.records.list(limit=20)
    rows = [_recent_row(r) for r in records]
    return "<h2>Recent calls</h2>" + _table(
        "recent", ("started", "caller", "outcome", "duration", "intents", "transcript"), rows, "No call yet."
    )


def _recent_row(record: CallRecord) -> tuple[str, ...]:
    outcome = record.outcome + (f" → {record.queue}" if record.queue else "")
    transcript = escape("\n".join(record.transcript))
    audio = (
        f'<audio controls preload="none" src="/api/calls/{record.id}/recording"></audio>'
        if record.recording_path
        else ""
    )
    details: Any = (
        f"<details><summary>{record.turns} turn(s)</summary><pre>{transcript}</pre>{audio}</details>"
    )
    return (
        escape(record.started_at.astimezone(PARIS).strftime("%H:%M:%S")),
        escape(record.caller or "-"),
        escape(outcome),
        f"{record.duration_s:.0f} s",
        escape(" ".join(record.intents)),
        str(details),
    )


def _flow(context: OpsContext) -> str:
    """The flow's transitions, state by state (and its Mermaid text, to paste where it is drawn)."""
    graph = context.flow_graph
    if graph is None:
        return ""
    from callbot.dialog.graph import to_mermaid, to_svg

    rows = [(escape(e.source), escape(e.label), escape(e.target)) for e in graph.edges]
    table = _table("flow", ("from", "on", "to"), rows, "The flow has no transitions.")
    svg = to_svg(graph)  # Graphviz's own output: its labels are escaped by it
    drawing = f'<figure id="flow-drawing">{svg}</figure>' if svg else ""
    return (
        f"<h2>Flow {escape(context.flow_name)}</h2><details><summary>{len(graph.states)} states, "
        f"{len(graph.edges)} transitions</summary>{drawing}{table}"
        f"<p>Mermaid (<code>callbot flow graph</code>):</p><pre>{escape(to_mermaid(graph))}</pre></details>"
    )
