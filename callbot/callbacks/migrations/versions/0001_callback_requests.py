"""Create callback_requests.

Revision ID: 0001
Revises:
Create Date: 2026-05-20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    timestamp = sa.DateTime(timezone=True)
    op.create_table(
        "callback_requests",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("created_at", timestamp, nullable=False),
        sa.Column("updated_at", timestamp, nullable=False),
        sa.Column("due_at", timestamp, nullable=False),
        sa.Column("queue", sa.String(64), nullable=False),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("caller", sa.String(64)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", timestamp, nullable=False),
        sa.Column("last_sip_status", sa.Integer()),
        sa.Column("last_reason", sa.Text()),
        sa.Column("locked_by", sa.String(128)),
        sa.Column("locked_until", timestamp),
        sa.Column("context", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("call_id", sa.String(128)),
        sa.CheckConstraint(
            "status IN ('pending', 'dialing', 'done', 'failed', 'cancelled')",
            name="ck_callback_requests_status",
        ),
    )
    op.create_index("ix_callback_requests_status_next", "callback_requests", ["status", "next_attempt_at"])
    op.create_index("ix_callback_requests_phone_due", "callback_requests", ["phone", "due_at"])
    op.create_index("ix_callback_requests_queue_due", "callback_requests", ["queue", "due_at"])
    op.create_index("ix_callback_requests_call_id", "callback_requests", ["call_id"])


def downgrade() -> None:
    op.drop_table("callback_requests")
