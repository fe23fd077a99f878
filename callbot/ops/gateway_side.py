"""What `callbot serve` runs in its own process beside the supervisor: the shared metrics folder, the
housekeeping (records of calls orphaned by a dead conversation host, retention of call records) and the
HTTP side (`http:` settings, `--http`)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from callbot.config import Settings
from callbot.ops.multiproc import use_multiprocess_dir

if TYPE_CHECKING:
    from callbot.ops.http import OpsContext

TOKEN_ENV = "CALLBOT_HTTP_TOKEN"


def start_ops(settings: Settings, run_dir: Path, http_option: str | None) -> Callable[[], None]:
    """Point every gateway process at one metrics folder, start the housekeeping, serve HTTP unless it
    is off; returns the function that stops what was started.

    A port already taken is reported and SIP goes on: the ops page is not worth refusing calls for. A
    non-loopback address without a token is refused (`HttpConfigError`, one line)."""
    use_multiprocess_dir(run_dir / "metrics")  # before prometheus_client is imported anywhere here
    from callbot.ops.housekeeping import Housekeeping

    context = ops_context(settings, run_dir)
    assert context.board is not None and context.records is not None
    stop_housekeeping = Housekeeping(context.board, context.records, settings.calls.retention_days).start()
    listen = http_option if http_option is not None else settings.http.listen
    if not listen or listen.lower() == "off":
        print("callbot serve | HTTP off (no ops page, /metrics or /readyz)", file=sys.stderr, flush=True)
        return stop_housekeeping
    from callbot.ops.http import OpsServer, parse_http_address

    host, port = parse_http_address(listen)
    context.token = settings.http.token or os.environ.get(TOKEN_ENV) or None
    try:
        server = OpsServer(context, host, port)
    except OSError as exc:
        print(f"callbot serve | HTTP NOT started on {listen}: {exc.strerror}", file=sys.stderr, flush=True)
        return stop_housekeeping
    server.start()
    print(
        f"callbot serve | ops page: {server.url} (metrics: {server.url}metrics)", file=sys.stderr, flush=True
    )

    def stop() -> None:
        server.close()
        stop_housekeeping()

    return stop


def ops_context(settings: Settings, run_dir: Path) -> OpsContext:
    """What the HTTP side reads: the database named by the settings, the run folder's live calls and
    process status, the queues file."""
    from callbot.callbacks.outbound import store_from_settings
    from callbot.calls import CallRecordStore
    from callbot.dialog import default_flow_path, load_flow
    from callbot.dialog.graph import flow_graph
    from callbot.ops.collector import CallbackFigures
    from callbot.ops.http import OpsContext
    from callbot.ops.live import LiveCallBoard
    from callbot.queues.directory import QueueDirectory

    store = store_from_settings(settings)
    flow = load_flow(settings.flow or default_flow_path())
    return OpsContext(
        records=CallRecordStore(store),
        callbacks=CallbackFigures(store),
        board=LiveCallBoard(run_dir / "live"),
        queues=QueueDirectory.from_yaml(settings.queues) if settings.queues is not None else None,
        status_file=run_dir / "status.json",
        flow_name=flow.name,
        flow_graph=flow_graph(flow),
    )
