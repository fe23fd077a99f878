"""Alembic migrations of the call-back store (`CallbackStore.migrate()` runs them to head)."""
