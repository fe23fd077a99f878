"""Human queues: opening hours (Europe/Paris, French public holidays, exceptions), live load, and whether
a queue can take a transfer now. Load a site's queues with `QueueDirectory.from_yaml(path)`."""

from callbot.queues.config import QueueConfigError
from callbot.queues.directory import Queue, QueueDirectory, QueueStatus, UnknownQueue
from callbot.queues.hours import PARIS, OpeningHours, TimeRange, parse_time_range
from callbot.queues.load import HttpLoad, LoadSource, LoadUnavailable, QueueLoad, StaticLoad

__all__ = [
    "PARIS",
    "HttpLoad",
    "LoadSource",
    "LoadUnavailable",
    "OpeningHours",
    "Queue",
    "QueueConfigError",
    "QueueDirectory",
    "QueueLoad",
    "QueueStatus",
    "StaticLoad",
    "TimeRange",
    "UnknownQueue",
    "parse_time_range",
]
