"""`callbot flow graph`: the retail flow drawn as Mermaid and Graphviz, every state and way out shown."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from callbot import cli
from callbot.dialog import default_flow_path, load_flow
from callbot.dialog.graph import ANY_STATE, Edge, flow_graph, to_dot, to_mermaid

FLOW = load_flow(default_flow_path())


def test_every_state_is_a_node_and_every_transition_an_edge() -> None:
    graph = flow_graph(FLOW)
    assert set(FLOW.states) <= set(graph.states)
    assert graph.start == "accueil"
    assert Edge("accueil", "menu", "then") in graph.edges
    assert Edge("menu", "rappel", "#2") in graph.edges
    assert Edge("suivi_commande", "commande_redire", "then (not found)") in graph.edges
    assert Edge("commande_redire", "commande_introuvable", "then (not found)") in graph.edges
    assert {"transfer: service_client", "hang up", "call-back booked"} <= set(graph.exits)
    # Asking for a person works from anywhere: it hangs off "(any state)".
    assert any(e.source == ANY_STATE and e.target == "transfer: service_client" for e in graph.edges)
    sources_and_targets = {e.source for e in graph.edges} | {e.target for e in graph.edges}
    assert set(graph.states) | set(graph.exits) == sources_and_targets


def test_mermaid_has_one_line_per_node_and_edge_with_safe_ids() -> None:
    graph = flow_graph(FLOW)
    text = to_mermaid(graph)
    lines = text.splitlines()
    assert lines[0] == "flowchart TD"
    assert len(lines) == 1 + len(graph.states) + len(graph.exits) + len(graph.edges)
    assert '    accueil -->|"then"| menu' in lines
    assert '    transfer__service_client[["transfer: service_client"]]' in lines
    for line in lines[1:]:
        node_ids = re.findall(r"^\s+(\S+?)[\[(]|-->\|\"[^\"]*\"\| (\S+)$", line)
        for found in node_ids:
            for node_id in found:
                assert not node_id or re.fullmatch(r"\w+", node_id, re.ASCII), line


def test_dot_quotes_every_name_and_label() -> None:
    graph = flow_graph(FLOW)
    text = to_dot(graph)
    assert text.startswith("digraph flow {") and text.rstrip().endswith("}")
    assert '    "accueil" -> "menu" [label="then"];' in text
    assert text.count(" -> ") == len(graph.edges)
    assert '"transfer: service_client" [label="transfer: service_client", shape=doubleoctagon];' in text


@pytest.mark.parametrize(("form", "first"), [("mermaid", "flowchart TD"), ("dot", "digraph flow {")])
def test_the_command_prints_the_graph(capsys: pytest.CaptureFixture[str], form: str, first: str) -> None:
    assert cli.main(["flow", "graph", str(default_flow_path()), "--format", form]) == 0
    assert capsys.readouterr().out.splitlines()[0] == first


def test_a_flow_with_errors_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("flow: x\nstates: {}\n")
    assert cli.main(["flow", "graph", str(broken)]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
