"""The `callback_requests` table, as the code reads it. The database itself is created and upgraded by
the Alembic migrations in `callbot/callbacks/migrations/`; a test checks that both agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB

STATUSES = ("pending", "dialing", "done", "failed", "cancelled", "expired")


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every backend.

    PostgreSQL stores `timestamptz`; SQLite has no time zones, so values are stored as naive UTC text,
    which keeps `due_at <= :now` comparisons right (same format, lexical order = time order).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(
                f"naive datetime {value.isoformat()} given to the call-back store; pass aware times"
            )
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def json_type() -> Any:
    return JSON().with_variant(JSONB(), "postgresql")


metadata = MetaData()

callback_requests = Table(
    "callback_requests",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("due_at", UtcDateTime(), nullable=False),
    Column("queue", String(64), nullable=False),
    Column("phone", String(20), nullable=False),
    Column("caller", String(64)),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer(), nullable=False),
    Column("next_attempt_at", UtcDateTime(), nullable=False),
    Column("last_sip_status", Integer()),
    Column("last_reason", Text()),
    Column("locked_by", String(128)),
    Column("locked_until", UtcDateTime()),
    Column("context", json_type(), nullable=False),
    Column("call_id", String(128)),
    CheckConstraint(
        "status IN ({})".format(", ".join(f"'{status}'" for status in STATUSES)),
        name="ck_callback_requests_status",
    ),
    Index("ix_callback_requests_status_next", "status", "next_attempt_at"),
    Index("ix_callback_requests_phone_due", "phone", "due_at"),
    Index("ix_callback_requests_queue_due", "queue", "due_at"),
    Index("ix_callback_requests_call_id", "call_id"),
)
