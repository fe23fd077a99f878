"""Call records: one row per finished call (inbound and call-back calls), statistics over a period, the
`callbot calls` commands, and the retention purge (recordings and transcripts are personal data)."""

from callbot.calls.records import (
    CallRecord,
    flow_hash,
    outcome_of,
    percentile,
    record_from_replay,
    record_from_session,
)
from callbot.calls.store import CallRecordStore, CallStats, day_bounds

__all__ = [
    "CallRecord",
    "CallRecordStore",
    "CallStats",
    "day_bounds",
    "flow_hash",
    "outcome_of",
    "percentile",
    "record_from_replay",
    "record_from_session",
]
