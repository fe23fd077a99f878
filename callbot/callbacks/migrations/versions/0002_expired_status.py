"""Status `expired`: a call-back stored by a replay after its time had passed (never dialled).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_BEFORE = ("pending", "dialing", "done", "failed", "cancelled")
_AFTER = (*_BEFORE, "expired")
_NAME = "ck_callback_requests_status"


def _allow(statuses: tuple[str, ...]) -> None:
    # SQLite cannot alter a constraint: batch mode copies the table; its CHECK constraints are not
    # reflected, so the old one is named to drop only where the database can drop it.
    condition = "status IN ({})".format(", ".join(f"'{status}'" for status in statuses))
    if op.get_context().dialect.name == "sqlite":
        with op.batch_alter_table("callback_requests", recreate="always") as batch:
            batch.create_check_constraint(_NAME, condition)
    else:
        op.drop_constraint(_NAME, "callback_requests", type_="check")
        op.create_check_constraint(_NAME, "callback_requests", condition)


def upgrade() -> None:
    _allow(_AFTER)


def downgrade() -> None:
    op.execute("UPDATE callback_requests SET status = 'cancelled' WHERE status = 'expired'")
    _allow(_BEFORE)
