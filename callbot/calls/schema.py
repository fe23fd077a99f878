"""The `call_records` table: one row per finished call, in the call-back store's database.

It shares the call-backs' `MetaData` (and their Alembic history, migration 0003) so that one
`migrate()` brings both up to date and one database holds a centre's whole activity.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, Index, Integer, String, Table, Text, Uuid

from callbot.callbacks.schema import UtcDateTime, json_type, metadata

DIRECTIONS = ("inbound", "callback")
#: bot: answered by the bot alone; transferred: put through to a queue; callback: a call-back booked;
#: abandoned: the caller hung up before anything was resolved; error: the call broke.
OUTCOMES = ("bot", "transferred", "callback", "abandoned", "error")

call_records = Table(
    "call_records",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("call_id", String(128), nullable=False),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("ended_at", UtcDateTime(), nullable=False),
    Column("direction", String(16), nullable=False),
    Column("caller", String(64)),
    Column("called", String(64)),
    Column("flow", String(64)),
    Column("flow_hash", String(64)),
    Column("outcome", String(16), nullable=False),
    Column("queue", String(64)),
    Column("end_reason", Text()),
    Column("intents", json_type(), nullable=False),
    Column("turns", Integer(), nullable=False),
    Column("response_p50_ms", Integer()),
    Column("response_p95_ms", Integer()),
    Column("errors", Integer(), nullable=False),
    Column("error_text", Text()),
    Column("transcript", json_type(), nullable=False),
    Column("recording_path", Text()),
    CheckConstraint(
        "outcome IN ({})".format(", ".join(f"'{outcome}'" for outcome in OUTCOMES)),
        name="ck_call_records_outcome",
    ),
    CheckConstraint(
        "direction IN ({})".format(", ".join(f"'{direction}'" for direction in DIRECTIONS)),
        name="ck_call_records_direction",
    ),
    Index("ix_call_records_started_at", "started_at"),
    Index("ix_call_records_call_id", "call_id"),
)

#: Webhook deliveries not yet accepted by their receiver (callbot/ops/webhooks.py): written before the
#: event is queued, deleted once delivered or given up, so that a stop or a crash of the host loses
#: none. `locked_by`/`locked_until` say which sender holds a row; a row whose lease ran out (its host
#: is gone) is taken over by another sender, with the same delivery id (receivers drop duplicates).
webhook_outbox = Table(
    "webhook_outbox",
    metadata,
    Column("id", Uuid(), primary_key=True),  # the X-Callbot-Delivery id
    Column("event", String(32), nullable=False),
    Column("target_url", Text(), nullable=False),
    Column("body", Text(), nullable=False),
    Column("attempts", Integer(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("next_attempt_at", UtcDateTime(), nullable=False),
    Column("locked_by", String(64)),
    Column("locked_until", UtcDateTime()),
    Index("ix_webhook_outbox_locked_until", "locked_until"),
)
