"""A flow drawn as a graph, for review (`callbot flow graph FLOW --format mermaid|dot`).

Nodes are the flow's states plus where a call leaves the bot: one node per queue it is transferred to,
"call-back booked" and "hang up". Edges are the transitions: an intent's name, `#N` for a key,
`then` for the end of a state, `not found` for an answer lookup that failed. Handlers that apply in
every state hang off a node "(any state)"; the flow's escalation after repeated misunderstandings
hangs off "(too many retries)".
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
from dataclasses import dataclass

from callbot.dialog.flow import Flow, Transition

ANY_STATE = "(any state)"
ESCALATE = "(too many retries)"
HANGUP = "hang up"
CALLBACK = "call-back booked"


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    label: str


@dataclass(frozen=True)
class FlowGraph:
    start: str
    states: tuple[str, ...]
    exits: tuple[str, ...]  # transfer, call-back and hang-up nodes
    edges: tuple[Edge, ...]


def flow_graph(flow: Flow) -> FlowGraph:
    edges: list[Edge] = []

    def add(source: str, transition: Transition, label: str) -> None:
        edges.append(Edge(source, _target(source, transition), label))
        if transition.not_found is not None:
            add(source, transition.not_found, f"{label} (not found)")

    for name, state in flow.states.items():
        for intent, transition in state.on.items():
            add(name, transition, intent)
        for key, transition in state.on_dtmf.items():
            add(name, transition, f"#{key}")
        if state.then is not None:
            add(name, state.then, "then")
    for intent, transition in flow.global_handlers.on.items():
        add(ANY_STATE, transition, intent)
    for key, transition in flow.global_handlers.on_dtmf.items():
        add(ANY_STATE, transition, f"#{key}")
    add(ESCALATE, flow.escalate, "escalate")
    states = tuple(flow.states)
    extra = [node for node in (ANY_STATE, ESCALATE) if any(e.source == node for e in edges)]
    exits = sorted({e.target for e in edges} - set(states) - set(extra))
    return FlowGraph(flow.settings.start, (*states, *extra), tuple(exits), tuple(edges))


def _target(source: str, transition: Transition) -> str:
    if transition.transfer:
        return f"transfer: {transition.transfer}"
    if transition.callback is not None and not transition.goto:
        return CALLBACK
    if transition.goto:
        return transition.goto
    if transition.hangup:
        return HANGUP
    return source  # asks again, stays


def to_mermaid(graph: FlowGraph) -> str:
    ids = _ids(graph)
    lines = ["flowchart TD"]
    for node in graph.states:
        shape = f'(["{node}"])' if node == graph.start else f'["{_quote(node)}"]'
        lines.append(f"    {ids[node]}{shape}")
    for node in graph.exits:
        lines.append(f'    {ids[node]}[["{_quote(node)}"]]')
    for edge in graph.edges:
        lines.append(f'    {ids[edge.source]} -->|"{_quote(edge.label)}"| {ids[edge.target]}')
    return "\n".join(lines) + "\n"


def to_dot(graph: FlowGraph) -> str:
    lines = ["digraph flow {", "    rankdir=LR;", '    node [shape=box, fontname="sans-serif"];']
    for node in graph.states:
        style = ", style=bold" if node == graph.start else ""
        lines.append(f"    {_dot(node)} [label={_dot(node)}{style}];")
    for node in graph.exits:
        lines.append(f"    {_dot(node)} [label={_dot(node)}, shape=doubleoctagon];")
    for edge in graph.edges:
        lines.append(f"    {_dot(edge.source)} -> {_dot(edge.target)} [label={_dot(edge.label)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _ids(graph: FlowGraph) -> dict[str, str]:
    """Mermaid node ids: letters, digits and '_' only, unique."""
    ids: dict[str, str] = {}
    for node in (*graph.states, *graph.exits):
        base = re.sub(r"\W", "_", node, flags=re.ASCII).strip("_") or "node"
        candidate, n = base, 2
        while candidate in ids.values():
            candidate, n = f"{base}_{n}", n + 1
        ids[node] = candidate
    return ids


def _quote(text: str) -> str:
    return text.replace('"', "#quot;")


def _dot(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


#: Graphviz takes about 20 ms for the retail flow; a page that reloads every 2 s still draws each flow once.
@functools.lru_cache(maxsize=8)
def _svg_of(dot_source: str) -> str | None:
    dot = shutil.which("dot")
    if dot is None:
        return None
    try:
        done = subprocess.run(
            [dot, "-Tsvg"], input=dot_source, capture_output=True, text=True, timeout=20, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    svg = done.stdout
    return svg[svg.index("<svg") :].strip() if "<svg" in svg else None


def to_svg(graph: FlowGraph) -> str | None:
    """The flow drawn by Graphviz (`dot`, Debian's graphviz) as an SVG element to put inline in a page,
    or None where Graphviz is not installed: the ops page draws the flow without anything fetched from
    elsewhere (Mermaid would need its JavaScript)."""
    return _svg_of(to_dot(graph))
