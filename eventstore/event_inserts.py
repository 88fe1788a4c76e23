"""Insert new events through the driver: one statement for the whole batch, positions back.

An append is the hottest statement of the service. Going through SQLAlchemy's compiled
insert costs more than the insert itself on SQLite (bind processing per column, result
processing), so rows are converted here to what each column type would have stored —
the same forms ``bulk_insert`` writes and the store reads back — and handed to the
driver as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from uuid import UUID

import orjson
from sqlalchemy import Connection

from eventstore.records import NewEvent

NewRow = tuple[str, int, NewEvent, datetime]
"""A row to insert: stream, version, the event, the recorded time."""

_COLUMNS = (
    "INSERT INTO events (stream_id, version, type, schema_version, data, metadata, event_id,"
    " occurred_at, recorded_at) VALUES "
)
_SQLITE_INSERT = _COLUMNS + "(?, ?, ?, ?, ?, ?, ?, ?, ?)"
_POSTGRES_ROW = "(%s, %s, %s, %s, %s::jsonb, %s::jsonb, %s, %s, %s)"
POSTGRES_ROWS_PER_STATEMENT = 1000
"""Rows per multi-row insert: well inside PostgreSQL's 65,535 parameters a statement."""


def insert_events(conn: Connection, rows: Sequence[NewRow]) -> list[int]:
    """Insert ``rows`` in the caller's writing transaction; their positions, in row order.

    Statements go through ``exec_driver_sql``: SQLAlchemy still wraps driver errors,
    invalidates lost connections and tells its error listeners (write health), but
    compiles and processes nothing.
    """
    if conn.dialect.name == "postgresql":
        return _insert_postgres(conn, rows)
    return _insert_sqlite(conn, rows)


def _insert_sqlite(conn: Connection, rows: Sequence[NewRow]) -> list[int]:
    # sqlite3 cannot return rows from executemany. The transaction holds SQLite's write
    # lock (BEGIN IMMEDIATE) and AUTOINCREMENT draws each rowid as the last one plus one,
    # so the batch's positions are the consecutive run that ends at last_insert_rowid.
    if len(rows) == 1:
        return [int(conn.exec_driver_sql(_SQLITE_INSERT, sqlite_values(rows[0])).lastrowid)]
    conn.exec_driver_sql(_SQLITE_INSERT, [sqlite_values(row) for row in rows])
    last = int(conn.exec_driver_sql("SELECT last_insert_rowid()").scalar_one())
    return list(range(last - len(rows) + 1, last + 1))


def _insert_postgres(conn: Connection, rows: Sequence[NewRow]) -> list[int]:
    # One multi-row INSERT per chunk: one round trip. PostgreSQL draws the identity for
    # the rows of a VALUES list in their order; RETURNING's order is not promised, so
    # the positions are sorted back into that order.
    positions: list[int] = []
    for start in range(0, len(rows), POSTGRES_ROWS_PER_STATEMENT):
        chunk = rows[start : start + POSTGRES_ROWS_PER_STATEMENT]
        values = tuple(value for row in chunk for value in postgres_values(row))
        result = conn.exec_driver_sql(_postgres_insert(len(chunk)), values)
        positions.extend(sorted(int(position) for position in result.scalars()))
    return positions


@lru_cache(maxsize=64)
def _postgres_insert(count: int) -> str:
    return _COLUMNS + ", ".join([_POSTGRES_ROW] * count) + " RETURNING position"


def _json(value: dict[str, Any]) -> str:
    return orjson.dumps(value).decode()


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are not stored; pass an aware UTC datetime")
    return moment if moment.tzinfo is UTC else moment.astimezone(UTC)


def _sqlite_time(moment: datetime) -> str:
    # SQLAlchemy's SQLite DateTime storage form: naive UTC, microseconds always written.
    return _utc(moment).replace(tzinfo=None).isoformat(" ", "microseconds")


def _values(
    row: NewRow, event_id: Callable[[UUID], Any], time: Callable[[datetime], Any]
) -> tuple[Any, ...]:
    stream_id, version, event, recorded_at = row
    return (
        stream_id,
        version,
        event.type,
        event.schema_version,
        _json(event.data),
        _json(event.metadata),
        event_id(event.event_id),
        time(event.occurred_at),
        time(recorded_at),
    )


def sqlite_values(row: NewRow) -> tuple[Any, ...]:
    """A row as SQLite stores it: ids as 32 hex digits, times as naive UTC text."""
    return _values(row, _hex, _sqlite_time)


def postgres_values(row: NewRow) -> tuple[Any, ...]:
    """A row as psycopg binds it: UUIDs and aware UTC datetimes as they are."""
    return _values(row, _same, _utc)


def _hex(value: UUID) -> str:
    return value.hex


def _same(value: UUID) -> UUID:
    return value
