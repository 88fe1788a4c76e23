"""The reference the event store is measured against: the bare driver (sqlite3, psycopg 3).

``RawAppender`` inserts the same rows our store would write into ``raw_events``, a copy
of the ``events`` table (same columns, types, keys and indexes), one transaction per
row and with the same durability settings as eventstore/engine.py: WAL and the same
``synchronous`` on SQLite, BEGIN IMMEDIATE for a writer; the server's own settings on
PostgreSQL. It takes no append lock, checks no expected version and no event id: what
is left is the price of the database itself.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
import psycopg
from sqlalchemy import Engine, MetaData
from sqlalchemy.engine import make_url
from sqlalchemy.sql import quoted_name

from eventstore.engine import SQLITE_BUSY_TIMEOUT_MS, normalise_url
from eventstore.schema import events

RAW_TABLE = "raw_events"
SQLITE_SYNCHRONOUS = "NORMAL"
"""What eventstore.engine.create_engine sets unless told otherwise (and the service's default)."""

_COLUMNS = (
    "stream_id, version, type, schema_version, data, metadata, event_id, occurred_at, recorded_at"
)
POSTGRES_INSERT = (
    f"INSERT INTO {RAW_TABLE} ({_COLUMNS})"
    " VALUES (%s, %s, %s, %s, %s::jsonb, %s::jsonb, %s, %s, %s) RETURNING position"
)


def create_raw_table(engine: Engine) -> None:
    """``raw_events``: the ``events`` table's shape under names of its own (no triggers)."""
    raw = events.to_metadata(MetaData(), name=RAW_TABLE)
    # Constraint and index names are unique per schema on PostgreSQL.
    for constraint in raw.constraints:
        if isinstance(constraint.name, str):
            constraint.name = constraint.name.replace("events", RAW_TABLE, 1)
    for index in raw.indexes:
        if isinstance(index.name, str):
            index.name = quoted_name(index.name.replace("events", RAW_TABLE, 1), quote=None)
    raw.create(engine)


def is_sqlite(url: str) -> bool:
    return normalise_url(url).get_backend_name() == "sqlite"


def sqlite_path(url: str) -> str:
    database = make_url(url).database
    if not database:
        raise ValueError(f"no SQLite file in {url}")
    return database


def postgres_conninfo(url: str) -> str:
    """A libpq URL for psycopg from a SQLAlchemy one."""
    return normalise_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def sqlite_connect(url: str) -> sqlite3.Connection:
    """A sqlite3 connection set up as eventstore/engine.py sets up its own."""
    conn = sqlite3.connect(
        sqlite_path(url), isolation_level=None, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000
    )
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    conn.execute(f"PRAGMA synchronous={SQLITE_SYNCHRONOUS}")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


def _sqlite_time(value: datetime) -> str:
    # The text SQLAlchemy's DateTime writes on SQLite (naive UTC).
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def sqlite_params(row: Mapping[str, Any], recorded_at: datetime) -> tuple[Any, ...]:
    """``row``'s values as sqlite3 binds them into an ``events``-shaped table, in column order."""
    return _params(row, recorded_at, row["event_id"].hex, _sqlite_time)


def postgres_params(row: Mapping[str, Any], recorded_at: datetime) -> tuple[Any, ...]:
    """``row``'s values in the order of ``POSTGRES_INSERT``."""
    return _params(row, recorded_at, row["event_id"], lambda moment: moment)


def _params(
    row: Mapping[str, Any], recorded_at: datetime, event_id: Any, time: Callable[[datetime], Any]
) -> tuple[Any, ...]:
    return (
        row["stream_id"],
        row["version"],
        row["type"],
        row["schema_version"],
        orjson.dumps(row["data"]).decode(),
        orjson.dumps(row["metadata"]).decode(),
        event_id,
        time(row["occurred_at"]),
        time(recorded_at),
    )


class RawAppender:
    """One row per transaction through the bare driver; ``append`` returns its position."""

    def __init__(self, url: str) -> None:
        self._sqlite = is_sqlite(url)
        self._lite: sqlite3.Connection | None = None
        self._pg: psycopg.Connection[Any] | None = None
        if self._sqlite:
            self._lite = sqlite_connect(url)
            self._insert = (
                f"INSERT INTO {RAW_TABLE} ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            )
        else:
            self._pg = psycopg.connect(postgres_conninfo(url))
            self._insert = POSTGRES_INSERT

    def append(self, row: Mapping[str, Any]) -> int:
        recorded_at = datetime.now(UTC)
        if self._lite is not None:
            params = sqlite_params(row, recorded_at)
            self._lite.execute("BEGIN IMMEDIATE")
            inserted = self._lite.execute(self._insert, params)
            self._lite.execute("COMMIT")
            return int(inserted.lastrowid or 0)
        assert self._pg is not None
        with self._pg.cursor() as cursor:
            cursor.execute(self._insert, postgres_params(row, recorded_at))
            fetched = cursor.fetchone()
        self._pg.commit()
        return int(fetched[0]) if fetched else 0

    def close(self) -> None:
        if self._lite is not None:
            self._lite.close()
        if self._pg is not None:
            self._pg.close()


def durability(url: str) -> str:
    """The settings an append's commit runs under, as the database reports them."""
    if is_sqlite(url):
        conn = sqlite_connect(url)
        try:
            mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
            level = conn.execute("PRAGMA synchronous").fetchone()[0]
        finally:
            conn.close()
        names = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
        return f"journal_mode={mode}, synchronous={names.get(level, level)}"
    with psycopg.connect(postgres_conninfo(url)) as pg:
        commit = pg.execute("SHOW synchronous_commit").fetchone()
        fsync = pg.execute("SHOW fsync").fetchone()
    return f"synchronous_commit={commit[0] if commit else '?'}, fsync={fsync[0] if fsync else '?'}"
