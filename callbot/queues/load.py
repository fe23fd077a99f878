"""How busy a human queue is: a fixed figure from the config, or the ACD's live figures over HTTP.

The live source is asked while a caller waits for an answer, so it gets a short timeout; when it fails
(timeout, HTTP error, bad JSON) the queue's load is *unknown* and the caller is transferred anyway — a
wrongly refused transfer costs more than a wait.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Protocol

DEFAULT_AVG_HANDLE_S = 180.0
_MAX_BODY = 64 * 1024


class LoadUnavailable(Exception):
    """The load source did not answer usable figures; `str()` says why, for the log."""


@dataclass(frozen=True, slots=True)
class QueueLoad:
    """Agents ready to take a call, calls already waiting, mean handling time of one call (seconds)."""

    agents_available: int
    calls_waiting: int
    avg_handle_s: float

    @property
    def estimated_wait_s(self) -> float:
        """Time before an agent frees up for the next caller: waiting calls × handling time / agents."""
        return self.calls_waiting * self.avg_handle_s / max(self.agents_available, 1)


class LoadSource(Protocol):
    def current(self) -> QueueLoad:
        """The queue's load now; raises LoadUnavailable when it cannot be known."""
        ...


@dataclass(frozen=True)
class StaticLoad:
    """Figures written in the config: for tests, demos and sites without an ACD feed."""

    agents_available: int
    calls_waiting: int = 0
    avg_handle_s: float = DEFAULT_AVG_HANDLE_S

    def current(self) -> QueueLoad:
        return QueueLoad(self.agents_available, self.calls_waiting, self.avg_handle_s)


@dataclass(frozen=True)
class HttpLoad:
    """GET `url` → JSON `{"agents_available": 3, "calls_waiting": 5, "avg_handle_s": 240}`.

    `avg_handle_s` may be left out of the answer; `default_avg_handle_s` stands in for it.
    """

    url: str
    timeout_ms: int = 300
    default_avg_handle_s: float = DEFAULT_AVG_HANDLE_S

    def current(self) -> QueueLoad:
        request = urllib.request.Request(self.url, headers={"Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_ms / 1000) as response:
                body = response.read(_MAX_BODY + 1)
        except urllib.error.HTTPError as exc:
            raise LoadUnavailable(f"{self.url} answered HTTP {exc.code}") from None
        except (TimeoutError, urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            if (
                isinstance(reason, TimeoutError)
                or isinstance(exc, TimeoutError)
                or "timed out" in str(reason)
            ):
                raise LoadUnavailable(f"{self.url} did not answer within {self.timeout_ms} ms") from None
            raise LoadUnavailable(f"{self.url} unreachable: {reason}") from None
        if len(body) > _MAX_BODY:
            raise LoadUnavailable(f"{self.url} answered more than {_MAX_BODY} bytes")
        try:
            data = json.loads(body)
        except ValueError:
            raise LoadUnavailable(f"{self.url} did not answer JSON") from None
        return self._figures(data)

    def _figures(self, data: Any) -> QueueLoad:
        if not isinstance(data, dict):
            raise LoadUnavailable(f"{self.url} answered JSON that is not an object")
        agents = _count(data, "agents_available", self.url)
        waiting = _count(data, "calls_waiting", self.url)
        handle = data.get("avg_handle_s", self.default_avg_handle_s)
        if isinstance(handle, bool) or not isinstance(handle, int | float) or handle < 0:
            raise LoadUnavailable(f"{self.url}: avg_handle_s is {handle!r}, not a number of seconds")
        return QueueLoad(agents, waiting, float(handle))


def _count(data: dict[str, Any], key: str, url: str) -> int:
    value = data.get(key)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise LoadUnavailable(f"{url}: {key} is {value!r}, not a count")
    return value
