"""Insert new events through the driver: numbered and chained after the log's end (read
under the append lock), one statement for the whole batch.

An append is the hottest statement of the service. Going through SQLAlchemy's compiled
insert costs more than the insert itself on SQLite (bind processing per column, result
processing), so rows are converted here to what each column type would have stored —
the same forms ``bulk_insert`` writes and the store reads back — and handed to the
driver as they are.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import Connection

from eventstore.chain import LOG_END, LOG_END_AND_NOTIFY, canonical_fields, chain_time, log_end
from eventstore.records import NewEvent

INSERT_INTO_EVENTS = (
    "INSERT INTO events (position, stream_id, version, type, schema_version, data, metadata,"
    " event_id, occurred_at, recorded_at, chain_hash)"
)
"""The insert's head, in the order of ``numbered``'s values."""
SQLITE_INSERT = INSERT_INTO_EVENTS + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
_COLUMNS = INSERT_INTO_EVENTS + " VALUES "
_POSTGRES_ROW = "(%s, %s, %s, %s, %s, %s::jsonb, %s::jsonb, %s, %s, %s, %s)"
POSTGRES_ROWS_PER_STATEMENT = 1000
"""Rows per multi-row insert: well inside PostgreSQL's 65,535 parameters a statement."""

_SORTED = orjson.OPT_SORT_KEYS


def numbered(
    end: Any, rows: Sequence[tuple[str, int, NewEvent]], recorded_at: datetime, dialect: str
) -> list[tuple[Any, ...]]:
    """The values of ``rows`` (stream, version, event) as ``dialect``'s driver binds them
    into the ``events`` columns, numbered and chained after the log's end, ``end`` a row
    of ``chain.LOG_END`` read under the append lock.

    On SQLite an id is 32 hex digits and a time naive UTC text; psycopg takes UUIDs and
    aware datetimes. The JSON is written once, keys sorted, for the column and the hash
    alike (PostgreSQL's ``jsonb`` keeps no order anyway).
    """
    last, previous = log_end(end)
    sqlite = dialect == "sqlite"
    recorded = _utc(recorded_at)
    if sqlite:
        recorded_value: Any = _sqlite_time(recorded)
        recorded_text = _chain_time(recorded_value)
    else:
        recorded_value, recorded_text = recorded, chain_time(recorded)
    values = []
    for position, (stream_id, version, event) in enumerate(rows, start=last + 1):
        data = orjson.dumps(event.data, option=_SORTED)
        metadata = orjson.dumps(event.metadata, option=_SORTED)
        occurred = _utc(event.occurred_at)
        if sqlite:
            occurred_value: Any = _sqlite_time(occurred)
            occurred_text = _chain_time(occurred_value)
        else:
            occurred_value, occurred_text = occurred, chain_time(occurred)
        previous, digest = chained(
            previous,
            position,
            stream_id,
            version,
            str(event.event_id).encode(),
            event.type,
            event.schema_version,
            data,
            metadata,
            occurred_text,
            recorded_text,
        )
        values.append(
            (
                position,
                stream_id,
                version,
                event.type,
                event.schema_version,
                data.decode(),
                metadata.decode(),
                event.event_id.hex if sqlite else event.event_id,
                occurred_value,
                recorded_value,
                digest,
            )
        )
    return values


def chained(previous: bytes, *fields: Any) -> tuple[bytes, str | None]:
    """The hash of an event's ``fields`` (``chain.canonical_fields``) after ``previous``,
    and the same in hex, as its ``chain_hash`` column holds it."""
    digest = hashlib.sha256(previous + canonical_fields(*fields)).digest()
    return digest, digest.hex()


def _chain_time(sqlite_time: str) -> bytes:
    # 2026-01-31 09:30:00.000000 -> 2026-01-31T09:30:00.000000Z, as chain_time writes it.
    return f"{sqlite_time[:10]}T{sqlite_time[11:]}Z".encode()


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
    dialect = conn.dialect.name
    if dialect == "postgresql":
        end = conn.exec_driver_sql(LOG_END_AND_NOTIFY, (len(rows),)).first()
        new = numbered(end, rows, recorded_at, dialect)
        _insert_postgres(conn, new)
    else:
        new = numbered(conn.exec_driver_sql(LOG_END).first(), rows, recorded_at, dialect)
        conn.exec_driver_sql(SQLITE_INSERT, new[0] if len(new) == 1 else new)
    return [row[0] for row in new]


def _insert_postgres(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    # One multi-row INSERT per chunk: one round trip each.
    for statement, values in postgres_inserts(rows):
        conn.exec_driver_sql(statement, values)


def postgres_inserts(rows: Sequence[tuple[Any, ...]]) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """Multi-row inserts of ``rows`` (``numbered`` values), ``POSTGRES_ROWS_PER_STATEMENT``
    at most each: (statement, its parameters)."""
    for start in range(0, len(rows), POSTGRES_ROWS_PER_STATEMENT):
        chunk = rows[start : start + POSTGRES_ROWS_PER_STATEMENT]
        yield _postgres_insert(len(chunk)), tuple(value for row in chunk for value in row)


@lru_cache(maxsize=64)
def _postgres_insert(count: int) -> str:
    return _COLUMNS + ", ".join([_POSTGRES_ROW] * count)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are not stored; pass an aware UTC datetime")
    return moment if moment.tzinfo is UTC else moment.astimezone(UTC)


def _sqlite_time(moment: datetime) -> str:
    # SQLAlchemy's SQLite DateTime storage form: naive UTC, microseconds always written.
    return _utc(moment).replace(tzinfo=None).isoformat(" ", "microseconds")
