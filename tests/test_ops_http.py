"""The HTTP side of `serve` on its own: health and readiness, /metrics, the JSON API, the bearer token
and the ops page, over a real socket with real call records (the SIP end to end is tests/test_ops_e2e.py)."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from callbot.callbacks import CallbackStore
from callbot.calls import CallRecord, CallRecordStore
from callbot.clock import ManualClock
from callbot.dialog import default_flow_path, load_flow
from callbot.dialog.graph import flow_graph
from callbot.ops import metrics
from callbot.ops.collector import CallbackFigures
from callbot.ops.http import HttpConfigError, OpsContext, OpsServer
from callbot.ops.live import LiveCallBoard
from callbot.ops.recorder import CallRecorder
from callbot.queues import QueueDirectory

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # Monday 16:00 in Paris
QUEUES = {
    "queues": {
        "service_client": {"sip_uri": "sip:sc@pbx", "hours": {"lundi-vendredi": "09:00-18:00"}},
        "nuit": {"sip_uri": "sip:nuit@pbx", "hours": {"lundi-vendredi": "20:00-23:00"}},
    }
}


def get(url: str, token: str | None = None) -> tuple[int, str, str]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read().decode()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[CallbackStore]:
    store = CallbackStore(tmp_path / "data", clock=ManualClock(NOW))
    store.migrate()
    yield store
    store.close()


@pytest.fixture
def context(store: CallbackStore, tmp_path: Path) -> OpsContext:
    clock = ManualClock(NOW)
    (tmp_path / "status.json").write_text(json.dumps({"handler-0": {"pid": 1, "restarts": 2, "argv": []}}))
    return OpsContext(
        records=CallRecordStore(store, clock=clock),
        callbacks=CallbackFigures(store, clock=clock),
        board=LiveCallBoard(tmp_path / "live"),
        queues=QueueDirectory.from_mapping(QUEUES),
        status_file=tmp_path / "status.json",
        flow_name="retail",
        flow_graph=flow_graph(load_flow(default_flow_path())),
        clock=clock,
    )


@pytest.fixture
def server(context: OpsContext) -> Iterator[OpsServer]:
    server = OpsServer(context, "127.0.0.1", 0).start()
    yield server
    server.close()
    metrics.WORKERS_CONNECTED.set(0)


def transferred_call(minutes_ago: int = 5) -> CallRecord:
    start = NOW - timedelta(minutes=minutes_ago)
    return CallRecord(
        call_id=f"http-{minutes_ago}@127.0.0.1",
        started_at=start,
        ended_at=start + timedelta(seconds=30),
        direction="inbound",
        outcome="transferred",
        queue="service_client",
        caller="+33612345678",
        intents=("conseiller",),
        turns=1,
        response_p95_ms=850,
        transcript=("Bot : Bonjour.", "Client : je voudrais un conseiller"),
    )


def test_healthz_is_ok_and_readyz_waits_for_a_connected_worker(server: OpsServer) -> None:
    assert get(server.url + "healthz")[0] == 200
    metrics.WORKERS_CONNECTED.set(0)
    status, _, body = get(server.url + "readyz")
    assert status == 503 and "0 SIP worker(s)" in body
    metrics.WORKERS_CONNECTED.set(1)
    assert get(server.url + "readyz")[0] == 200


def test_metrics_count_finished_calls_and_read_call_backs_and_restarts(
    server: OpsServer, context: OpsContext, store: CallbackStore
) -> None:
    store.add(due_at=NOW + timedelta(hours=2), queue="service_client", phone="0612345678")
    before = _sample(get(server.url + "metrics")[2], 'callbot_transfers_total{queue="service_client"}')
    CallRecorder(context.records, None, flow=_Flow()).keep(transferred_call(), (850, 400), (320,))  # type: ignore[arg-type]
    status, content_type, text = get(server.url + "metrics")
    assert status == 200 and content_type.startswith("text/plain")
    assert _sample(text, 'callbot_transfers_total{queue="service_client"}') == before + 1
    assert _sample(text, 'callbot_callbacks{status="pending"}') == 1
    assert _sample(text, "callbot_callbacks_due") == 0
    assert _sample(text, 'callbot_process_restarts_total{process="handler-0"}') == 2
    assert _sample(text, 'callbot_response_seconds_bucket{le="0.5"}') >= 1
    assert _sample(text, 'callbot_turn_compute_seconds_bucket{le="0.5"}') >= 1


def test_the_api_lists_shows_and_counts_calls(server: OpsServer, context: OpsContext) -> None:
    assert context.records is not None
    stored = context.records.add(transferred_call())
    status, content_type, body = get(server.url + "api/calls")
    assert status == 200 and content_type == "application/json"
    assert [c["call_id"] for c in json.loads(body)] == [stored.call_id]
    status, _, body = get(server.url + f"api/calls/{stored.id}")
    assert json.loads(body)["transcript"][-1] == "Client : je voudrais un conseiller"
    stats = json.loads(get(server.url + "api/stats?day=2026-11-23")[2])
    assert (stats["calls"], stats["transfers_by_queue"], stats["containment"]) == (
        1,
        {"service_client": 1},
        0.0,
    )
    assert get(server.url + "api/calls/nothing")[0] == 404
    assert get(server.url + "api/stats?day=someday")[0] == 400
    assert get(server.url + "api/calls/" + stored.id.hex[:8] + "/recording")[0] == 404  # none kept


def test_the_ops_page_shows_live_calls_figures_queues_and_recent_calls(
    server: OpsServer, context: OpsContext
) -> None:
    assert context.records is not None and context.board is not None
    context.records.add(transferred_call())
    context.board.update(
        "live-1@127.0.0.1",
        {
            "call_id": "live-1",
            "caller": "+33698765432",
            "direction": "inbound",
            "state": "menu",
            "started_at": (NOW - timedelta(seconds=42)).isoformat(),
            "last_said": "les horaires <de Lyon>",
        },
    )
    status, content_type, page = get(server.url)
    assert status == 200 and content_type.startswith("text/html")
    assert "+33698765432" in page and "42 s" in page and "les horaires &lt;de Lyon&gt;" in page
    assert 'id="today-calls"><b>1</b>' in page
    assert '<span class="open">open</span>' in page and '<span class="closed">closed</span>' in page
    assert "Client : je voudrais un conseiller" in page
    assert "<td>accueil</td><td>then</td><td>menu</td>" in page and "flowchart TD" in page


def test_the_ops_page_draws_the_flow_with_every_state_and_nothing_fetched(
    server: OpsServer, context: OpsContext
) -> None:
    """Graphviz (Debian's graphviz, installed by scripts/setup) draws it as inline SVG: the page still
    fetches nothing and runs no script."""
    assert context.flow_graph is not None
    _, _, page = get(server.url)
    drawing = page[page.index('<figure id="flow-drawing"><svg') : page.index("</svg></figure>")]
    for state in context.flow_graph.states:
        assert f"<title>{state}</title>" in drawing  # one node per state (Graphviz titles its nodes)
    assert "<script" not in page and "http://" not in drawing.replace("http://www.w3.org/", "")


def test_a_dead_hosts_live_calls_are_not_shown(tmp_path: Path) -> None:
    board = LiveCallBoard(tmp_path)
    board.update("mine", {"call_id": "mine", "started_at": "x"})
    (tmp_path / f"{2**22 + 7}-ghost.json").write_text('{"call_id": "ghost"}')  # no such pid
    assert [c["call_id"] for c in board.calls()] == ["mine"]
    board.remove("mine")
    assert board.calls() == []


def test_another_address_than_loopback_needs_a_token_and_then_every_reader_gives_it(
    context: OpsContext,
) -> None:
    with pytest.raises(HttpConfigError, match=r"http\.token"):
        OpsServer(context, "0.0.0.0", 0)
    context.token = "s3cret"
    server = OpsServer(context, "0.0.0.0", 0).start()
    try:
        url = server.url.replace("0.0.0.0", "127.0.0.1")
        assert get(url + "api/calls")[0] == 401
        assert get(url + "api/calls", token="wrong")[0] == 401
        assert get(url + "api/calls", token="s3cret")[0] == 200
        assert get(url + "metrics", token="s3cret")[0] == 200
        assert get(url + "healthz")[0] == 200  # probes stay open to the load balancer
    finally:
        server.close()


class _Flow:
    name = "retail"
    path = Path(os.devnull)


def _sample(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return 0.0
