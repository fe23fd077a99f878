"""Starting the HTTP side of `callbot serve` from the settings (`http:`) and `--http`."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from callbot.config import Settings
from callbot.ops.multiproc import use_multiprocess_dir

if TYPE_CHECKING:
    from callbot.ops.http import OpsContext, OpsServer

TOKEN_ENV = "CALLBOT_HTTP_TOKEN"


def start_ops_http(settings: Settings, run_dir: Path, option: str | None) -> OpsServer | None:
    """Point every gateway process at one metrics folder, then serve HTTP unless it is off.

    Returns the running `OpsServer` (or None). A port already taken is reported and SIP goes on: the
    ops page is not worth refusing calls for. A non-loopback address without a token is refused
    (`HttpConfigError`, one line)."""
    use_multiprocess_dir(run_dir / "metrics")  # before prometheus_client is imported anywhere here
    listen = option if option is not None else settings.http.listen
    if not listen or listen.lower() == "off":
        print("callbot serve | HTTP off (no ops page, /metrics or /readyz)", file=sys.stderr, flush=True)
        return None
    from callbot.ops.http import OpsServer, parse_http_address

    host, port = parse_http_address(listen)
    context = ops_context(settings, run_dir, token=settings.http.token or os.environ.get(TOKEN_ENV) or None)
    try:
        server = OpsServer(context, host, port)
    except OSError as exc:
        print(f"callbot serve | HTTP NOT started on {listen}: {exc.strerror}", file=sys.stderr, flush=True)
        return None
    server.start()
    print(
        f"callbot serve | ops page: {server.url} (metrics: {server.url}metrics)", file=sys.stderr, flush=True
    )
    return server


def ops_context(settings: Settings, run_dir: Path, token: str | None = None) -> OpsContext:
    """What the HTTP side reads: the database named by the settings, the run folder's live calls and
    process status, the queues file."""
    from callbot.callbacks.outbound import store_from_settings
    from callbot.calls import CallRecordStore
    from callbot.dialog import default_flow_path, load_flow
    from callbot.ops.collector import CallbackFigures
    from callbot.ops.http import OpsContext
    from callbot.ops.live import LiveCallBoard
    from callbot.queues.directory import QueueDirectory

    store = store_from_settings(settings)
    return OpsContext(
        records=CallRecordStore(store),
        callbacks=CallbackFigures(store),
        board=LiveCallBoard(run_dir / "live"),
        queues=QueueDirectory.from_yaml(settings.queues) if settings.queues is not None else None,
        status_file=run_dir / "status.json",
        flow_name=load_flow(settings.flow or default_flow_path()).name,
        token=token,
    )
