"""Figures `/metrics` reads at scrape time rather than counting: call-backs from the database (shared by
every gateway, so always right) and process restarts from the supervisor's status file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from callbot.callbacks.schema import callback_requests as _cb
from callbot.callbacks.store import CallbackStore
from callbot.clock import Clock, wall_clock


class CallbackFigures:
    """Call-backs due now, by status, and dial attempts made (from the store)."""

    def __init__(self, store: CallbackStore, clock: Clock = wall_clock) -> None:
        self.store = store
        self.clock = clock

    def due(self) -> int:
        with self.store.engine.connect() as conn:
            query = select(func.count()).where(
                _cb.c.status == "pending", _cb.c.next_attempt_at <= self.clock()
            )
            return int(conn.execute(query).scalar_one())

    def attempts(self) -> int:
        with self.store.engine.connect() as conn:
            return int(conn.execute(select(func.coalesce(func.sum(_cb.c.attempts), 0))).scalar_one())


class GatewayCollector(Collector):
    """`callbot_callbacks_due`, `callbot_callbacks{status}`, `callbot_callback_dials_total`,
    `callbot_process_restarts_total{process}`."""

    def __init__(self, callbacks: CallbackFigures | None, status_file: Path | None) -> None:
        self.callbacks = callbacks
        self.status_file = status_file

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        if self.callbacks is not None:
            yield GaugeMetricFamily(
                "callbot_callbacks_due",
                "Call-backs due now, waiting to be dialled",
                value=self.callbacks.due(),
            )
            by_status = GaugeMetricFamily(
                "callbot_callbacks", "Call-back requests by status", labels=["status"]
            )
            counts = self.callbacks.store.counts()
            for status in ("pending", "dialing", "done", "failed", "cancelled", "expired"):
                by_status.add_metric([status], counts.get(status, 0))
            yield by_status
            yield CounterMetricFamily(
                "callbot_callback_dials",
                "Call-back calls placed (every attempt)",
                value=self.callbacks.attempts(),
            )
        restarts = CounterMetricFamily(
            "callbot_process_restarts", "Gateway processes restarted after they died", labels=["process"]
        )
        for name, count in self._restarts().items():
            restarts.add_metric([name], count)
        yield restarts

    def _restarts(self) -> dict[str, int]:
        if self.status_file is None:
            return {}
        try:
            status = json.loads(self.status_file.read_text())
        except (OSError, ValueError):
            return {}
        return {str(name): int(entry.get("restarts", 0)) for name, entry in status.items()}
