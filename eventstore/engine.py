"""Engine construction: the settings each backend needs for a correct, concurrent log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, event
from sqlalchemy import create_engine as sa_create_engine
from sqlalchemy.engine import URL, make_url

from eventstore.sqlite_writers import queue_writers

SQLITE_BUSY_TIMEOUT_MS = 30_000


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def normalise_url(url: str | URL) -> URL:
    """Use psycopg 3 for plain ``postgresql://`` URLs."""
    parsed = make_url(url)
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def create_engine(url: str | URL, *, sqlite_synchronous: str = "NORMAL", **kwargs: Any) -> Engine:
    """An engine for the log; nothing connects until it is first used."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, sqlite_synchronous, **kwargs)
    return sa_create_engine(
        parsed,
        json_serializer=_dumps,
        json_deserializer=orjson.loads,
        pool_pre_ping=True,
        **kwargs,
    )


def _sqlite_engine(url: URL, synchronous: str, **kwargs: Any) -> Engine:
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa_create_engine(
        url,
        json_serializer=_dumps,
        json_deserializer=orjson.loads,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
        **kwargs,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Erased text keys (and redacted read-model rows) must not linger in free space.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    writers = queue_writers(engine, url.database, SQLITE_BUSY_TIMEOUT_MS / 1000)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A writer takes SQLite's write lock when it begins (IMMEDIATE). A deferred
        # transaction that reads first and writes later cannot wait for the lock: it
        # fails with "database is locked" instead, whatever the busy timeout.
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        if mode == "IMMEDIATE":
            writers.take_turn(conn)
        try:
            conn.exec_driver_sql(f"BEGIN {mode}")
        except BaseException:
            writers.end_turn_of(conn)
            raise

    return engine


WRITE = {"sqlite_begin": "IMMEDIATE"}
"""Execution options for a connection that will write."""
