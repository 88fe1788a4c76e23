"""Insert new events through the driver: numbered and chained after the log's end (read
under the append lock), one statement for the whole batch.

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

from eventstore.chain import LOG_END, LOG_END_AND_NOTIFY, chain_hashes, log_end
from eventstore.records import NewEvent

NewRow = tuple[int, str, int, NewEvent, datetime, str | None]
"""A row to insert: position, stream, version, the event, the recorded time, chain hash."""

_COLUMNS = (
    "INSERT INTO events (position, stream_id, version, type, schema_version, data, metadata,"
    " event_id, occurred_at, recorded_at, chain_hash) VALUES "
)
_SQLITE_INSERT = _COLUMNS + "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
_POSTGRES_ROW = "(%s, %s, %s, %s, %s, %s::jsonb, %s::jsonb, %s, %s, %s, %s)"
POSTGRES_ROWS_PER_STATEMENT = 1000
"""Rows per multi-row insert: well inside PostgreSQL's 65,535 parameters a statement."""


def numbered(
    end: Any, rows: Sequence[tuple[str, int, NewEvent]], recorded_at: datetime
) -> list[NewRow]:
    """``rows`` (stream, version, event) numbered and chained after the log's end, ``end``
    a row of ``chain.LOG_END`` read under the append lock."""
    last, previous = log_end(end)
    written = [
        (position, stream_id, version, event)
        for position, (stream_id, version, event) in enumerate(rows, start=last + 1)
    ]
    hashes = chain_hashes(previous, written, recorded_at)
    return [
        (position, stream_id, version, event, recorded_at, digest)
        for (position, stream_id, version, event), digest in zip(written, hashes, strict=True)
    ]


def insert_events(
    conn: Connection, rows: Sequence[tuple[str, int, NewEvent]], recorded_at: datetime
) -> list[int]:
    """Insert ``rows`` (stream, version, event) after the log's end, numbered and chained,
    in the caller's writing transaction, which holds the append lock; their positions.

    Statements go through ``exec_driver_sql``: SQLAlchemy still wraps driver errors,
    invalidates lost connections and tells its error listeners (write health), but
    compiles and processes nothing. On PostgreSQL the read of the log's end also queues
    the notification of the new head (sent at commit).
    """
    if conn.dialect.name == "postgresql":
        end = conn.exec_driver_sql(LOG_END_AND_NOTIFY, (len(rows),)).first()
        new = numbered(end, rows, recorded_at)
        _insert_postgres(conn, new)
    else:
        new = numbered(conn.exec_driver_sql(LOG_END).first(), rows, recorded_at)
        if len(new) == 1:
            conn.exec_driver_sql(_SQLITE_INSERT, sqlite_values(new[0]))
        else:
            conn.exec_driver_sql(_SQLITE_INSERT, [sqlite_values(row) for row in new])
    return [row[0] for row in new]


def _insert_postgres(conn: Connection, rows: Sequence[NewRow]) -> None:
    # One multi-row INSERT per chunk: one round trip each.
    for start in range(0, len(rows), POSTGRES_ROWS_PER_STATEMENT):
        chunk = rows[start : start + POSTGRES_ROWS_PER_STATEMENT]
        values = tuple(value for row in chunk for value in postgres_values(row))
        conn.exec_driver_sql(postgres_insert(len(chunk)), values)


@lru_cache(maxsize=64)
def postgres_insert(count: int) -> str:
    """The multi-row insert of ``count`` rows of ``postgres_values``."""
    return _COLUMNS + ", ".join([_POSTGRES_ROW] * count)


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
    position, stream_id, version, event, recorded_at, chain_hash = row
    return (
        position,
        stream_id,
        version,
        event.type,
        event.schema_version,
        _json(event.data),
        _json(event.metadata),
        event_id(event.event_id),
        time(event.occurred_at),
        time(recorded_at),
        chain_hash,
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
