"""Human queues the bot can hand a caller to, and whether each can take a call now.

The dialog asks `queue.status(now)` before a transfer: closed (hours, holiday) or saturated (estimated wait
above `max_wait_s`) means the bot offers a call-back instead of parking the caller in a long wait.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from callbot.queues.hours import OpeningHours, local
from callbot.queues.load import LoadSource, LoadUnavailable

log = logging.getLogger("callbot.queues")


class UnknownQueue(KeyError):
    """A queue name that the queues file does not define; `str()` names the known ones."""

    def __init__(self, name: str, known: list[str]) -> None:
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'? " if close else ""
        super().__init__(name)
        self.message = f"unknown queue '{name}' — {hint}known queues: {', '.join(known) or 'none'}"

    def __str__(self) -> str:
        return self.message


class QueueSentences(Protocol):
    """How the caller is told why a queue cannot take the call: the flow's `prompts:` (`CallPrompts`),
    whose defaults are used when none are given."""

    queue_closed: str  # no opening known
    queue_closed_until: str  # {moment}: "demain, mardi 24 novembre, à 9 h"
    queue_busy: str  # no wait estimate worth saying
    queue_busy_wait: str  # {minutes}


@dataclass(frozen=True, slots=True)
class QueueStatus:
    """What a transfer decision needs. `next_opening` is set when the queue is closed (None if it does
    not reopen within a year); `estimated_wait_s` is None when the load is unknown or not configured."""

    open: bool
    saturated: bool
    estimated_wait_s: float | None
    next_opening: datetime | None
    reason: str

    @property
    def takes_calls(self) -> bool:
        """Open and not saturated: transfer now, rather than offer a call-back."""
        return self.open and not self.saturated

    def why_not_fr(self, now: datetime, sentences: QueueSentences | None = None) -> str:
        """What the caller hears when the queue cannot take the call now (before a call-back offer), in
        the flow's words when given (`Flow.prompts`)."""
        from callbot.dialog.flow import CallPrompts
        from callbot.dialog.french import moment

        said = sentences if sentences is not None else CallPrompts()
        if not self.open:
            if self.next_opening is None:
                return said.queue_closed
            return said.queue_closed_until.format(moment=moment(self.next_opening, now))
        minutes = round((self.estimated_wait_s or 0) / 60)
        return said.queue_busy_wait.format(minutes=minutes) if minutes >= 2 else said.queue_busy


@dataclass(frozen=True)
class Queue:
    name: str
    sip_uri: str
    hours: OpeningHours
    max_wait_s: float | None = None
    load: LoadSource | None = None

    def is_open_at(self, moment: datetime) -> bool:
        """Open at `moment` by hours, holidays and exceptions (load is not considered)."""
        return self.hours.is_open_at(moment)

    def next_openings(self, after: datetime, n: int = 1) -> list[datetime]:
        """Start times (local, aware) of the next `n` opening periods strictly after `after`."""
        return self.hours.next_openings(after, n)

    def next_opening(self, after: datetime) -> datetime | None:
        return self.hours.next_opening(after)

    def status(self, now: datetime) -> QueueStatus:
        """Open? saturated? The load source is asked only when the hours say open."""
        closed = self.hours.closed_reason(now)
        if closed is not None:
            return QueueStatus(False, False, None, self.hours.next_opening(now), f"closed: {closed}")
        if self.load is None:
            return QueueStatus(True, False, None, None, "open (no load source configured)")
        try:
            load = self.load.current()
        except LoadUnavailable as exc:
            log.warning("queue %s: load unknown (%s); treating the queue as open", self.name, exc)
            return QueueStatus(True, False, None, None, f"open (load unknown: {exc})")
        wait = load.estimated_wait_s
        if self.max_wait_s is not None and wait > self.max_wait_s:
            reason = f"saturated: estimated wait {wait:.0f} s > max_wait_s {self.max_wait_s:.0f} s"
            return QueueStatus(True, True, wait, None, reason)
        return QueueStatus(True, False, wait, None, f"open: estimated wait {wait:.0f} s")

    def local_time(self, moment: datetime) -> datetime:
        """`moment` on this queue's clock (a naive datetime is read as local time)."""
        return local(moment, self.hours.tz)


class QueueDirectory(Mapping[str, Queue]):
    """The queues of one site, by name. Load it with `from_yaml(path)` or `from_mapping(data)`."""

    def __init__(self, queues: Mapping[str, Queue], source: str = "<queues>") -> None:
        self._queues = dict(queues)
        self.source = source

    @classmethod
    def from_yaml(cls, path: str | Path) -> QueueDirectory:
        """Load a queues file; raise QueueConfigError (`file:line: where: problem — fix`)."""
        from callbot.queues.config import load_queues_file

        return cls(load_queues_file(Path(path)), str(path))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], source: str = "<mapping>") -> QueueDirectory:
        """Build from already-parsed data shaped like the YAML file (`{"queues": {...}}`)."""
        from callbot.queues.config import queues_from_mapping

        return cls(queues_from_mapping(data, source), source)

    def __getitem__(self, name: str) -> Queue:
        try:
            return self._queues[name]
        except KeyError:
            raise UnknownQueue(name, list(self._queues)) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._queues)

    def __len__(self) -> int:
        return len(self._queues)

    def status(self, name: str, now: datetime) -> QueueStatus:
        return self[name].status(now)
