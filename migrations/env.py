"""Alembic environment: the URL comes from the tracker's own settings."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from tracker.config import load_settings
from tracker.db.migrate import check_foreign_keys, foreign_keys_deferred
from tracker.db.orm import Base
from tracker.db.session import make_engine

config = context.config
target_metadata = Base.metadata


def _database_url() -> str:
    # `tracker db upgrade` passes its URL in; plain `alembic` reads the settings.
    url = config.attributes.get("database_url")
    return str(url) if url else load_settings().database_url


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run_migrations_offline() -> None:
    context.configure(
        url=_database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(_database_url())
    with engine.connect() as connection, foreign_keys_deferred(connection):
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
            check_foreign_keys(connection)
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
