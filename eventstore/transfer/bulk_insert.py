"""Insert checked event rows, positions and chain hashes included, as fast as each backend
allows.

PostgreSQL: one ``COPY ... FROM STDIN`` through psycopg, fed with text it parses itself.
SQLite: ``executemany`` on the sqlite3 connection, with values already in the form
SQLAlchemy's column types store (naive UTC text times, 32-digit hex UUIDs, JSON text),
so the store reads them back exactly as if it had written them itself.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from sqlalchemy import Connection

from eventstore.transfer.event_lines import EventRow

COPY_EVENTS = (
    "COPY events (position, stream_id, version, type, schema_version, data, metadata,"
    " event_id, occurred_at, recorded_at, chain_hash) FROM STDIN"
)
INSERT_EVENTS = (
    "INSERT INTO events (position, stream_id, version, type, schema_version, data, metadata,"
    " event_id, occurred_at, recorded_at, chain_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)

Write = Callable[[Sequence[EventRow]], None]

# COPY's text format gives backslash, tab, newline and carriage return a meaning.
_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


class BulkInsertRefused(Exception):
    """The database refused the rows (a duplicate event id, say); the transaction is void."""


@contextmanager
def bulk_writer(conn: Connection) -> Iterator[Write]:
    """A function that inserts batches of rows, chain hashes included, within ``conn``'s
    open transaction; every row is in the log once the context ends without an error."""
    driver: Any = conn.connection.driver_connection
    try:
        if conn.dialect.name == "postgresql":
            with driver.cursor() as cursor, cursor.copy(COPY_EVENTS) as copy:

                def copy_batch(batch: Sequence[EventRow]) -> None:
                    copy.write("".join([_copy_line(row) for row in batch]).encode())

                yield copy_batch
        else:

            def insert_batch(batch: Sequence[EventRow]) -> None:
                driver.executemany(INSERT_EVENTS, [_sqlite_row(row) for row in batch])

            yield insert_batch
    except (psycopg.Error, sqlite3.Error) as exc:
        raise BulkInsertRefused(str(exc).strip()) from exc


def _copy_text(text: str) -> str:
    return text.translate(_COPY_ESCAPES) if _COPY_SPECIAL.search(text) else text


def _copy_line(row: EventRow) -> str:
    # Compact JSON escapes every control character, so a backslash is all it can hold
    # of COPY's special characters; ids and times are canonical, with none at all.
    data = row.data.replace("\\", "\\\\")
    metadata = row.metadata.replace("\\", "\\\\")
    return (
        f"{row.position}\t{_copy_text(row.stream_id)}\t{row.version}\t{_copy_text(row.type)}"
        f"\t{row.schema_version}\t{data}\t{metadata}\t{row.event_id}"
        f"\t{row.occurred_at}\t{row.recorded_at}\t{row.chain_hash}\n"
    )


def _sqlite_time(text: str) -> str:
    # 2026-01-31T09:30:00.000000+00:00 -> 2026-01-31 09:30:00.000000, SQLAlchemy's form.
    return f"{text[:10]} {text[11:26]}"


def _sqlite_row(row: EventRow) -> tuple[int | str, ...]:
    return (
        row.position,
        row.stream_id,
        row.version,
        row.type,
        row.schema_version,
        row.data,
        row.metadata,
        row.event_id.replace("-", ""),
        _sqlite_time(row.occurred_at),
        _sqlite_time(row.recorded_at),
        row.chain_hash,
    )
