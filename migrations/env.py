"""Alembic environment: the URL comes from the service's settings, tables from its MetaData."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from application.tables import all_metadata
from eventstore.engine import create_engine

config = context.config
target_metadata = all_metadata()


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from application.settings import Settings

    return Settings().database_url


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(_url())
    try:
        with engine.connect() as conn:
            _run(conn)
            conn.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
