"""Call records: one row per finished call (inbound and call-back calls), for statistics and history.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from callbot.callbacks.schema import UtcDateTime, json_type

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_OUTCOMES = ("bot", "transferred", "callback", "abandoned", "error")
_DIRECTIONS = ("inbound", "callback")


def _in(column: str, values: tuple[str, ...]) -> str:
    return "{} IN ({})".format(column, ", ".join(f"'{value}'" for value in values))


def upgrade() -> None:
    op.create_table(
        "call_records",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("call_id", sa.String(128), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("ended_at", UtcDateTime(), nullable=False),
        sa.Column("direction", sa.String(16), nullable=False),
        sa.Column("caller", sa.String(64)),
        sa.Column("called", sa.String(64)),
        sa.Column("flow", sa.String(64)),
        sa.Column("flow_hash", sa.String(64)),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("queue", sa.String(64)),
        sa.Column("end_reason", sa.Text()),
        sa.Column("intents", json_type(), nullable=False),
        sa.Column("turns", sa.Integer(), nullable=False),
        sa.Column("response_p50_ms", sa.Integer()),
        sa.Column("response_p95_ms", sa.Integer()),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("error_text", sa.Text()),
        sa.Column("transcript", json_type(), nullable=False),
        sa.Column("recording_path", sa.Text()),
        sa.CheckConstraint(_in("outcome", _OUTCOMES), name="ck_call_records_outcome"),
        sa.CheckConstraint(_in("direction", _DIRECTIONS), name="ck_call_records_direction"),
    )
    op.create_index("ix_call_records_started_at", "call_records", ["started_at"])
    op.create_index("ix_call_records_call_id", "call_records", ["call_id"])


def downgrade() -> None:
    op.drop_index("ix_call_records_call_id", "call_records")
    op.drop_index("ix_call_records_started_at", "call_records")
    op.drop_table("call_records")
