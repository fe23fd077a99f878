"""Alembic environment: `CallbackStore.migrate()` hands over its open connection; the `alembic` command
line can be used too, with `-x url=postgresql://…` or `sqlalchemy.url` set in its config."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

import callbot.calls.schema  # noqa: F401 - registers call_records on the shared metadata
from callbot.callbacks.schema import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit(
            "give the database URL: alembic -x url=postgresql+psycopg://user@host/db upgrade head"
        )
    engine = create_engine(url)
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def run_migrations_offline() -> None:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    context.configure(url=url, target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
