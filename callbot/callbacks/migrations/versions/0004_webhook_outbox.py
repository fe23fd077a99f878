"""Webhook outbox: deliveries written before they are sent, so a host that stops loses none.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from callbot.callbacks.schema import UtcDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhook_outbox",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("target_url", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("next_attempt_at", UtcDateTime(), nullable=False),
        sa.Column("locked_by", sa.String(64)),
        sa.Column("locked_until", UtcDateTime()),
    )
    op.create_index("ix_webhook_outbox_locked_until", "webhook_outbox", ["locked_until"])


def downgrade() -> None:
    op.drop_index("ix_webhook_outbox_locked_until", "webhook_outbox")
    op.drop_table("webhook_outbox")
