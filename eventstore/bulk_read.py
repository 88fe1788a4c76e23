"""Reading many events at once, converted from the driver's values here.

Rebuilds, projection workers, commands and ``as_of`` reads all turn stored rows into
RecordedEvents. SQLAlchemy's per-value result processing (UUIDs, times, JSON) costs
more than the database spends finding the rows, so the columns are selected untyped
(no result processing) and converted here into the same values: UUIDs, aware UTC
datetimes and decoded JSON. Parameters are still bound through SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import orjson
from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    bindparam,
    func,
    literal_column,
    select,
)
from sqlalchemy.sql.elements import ColumnClause

from eventstore.records import RECORDED_FIELDS, RecordedEvent
from eventstore.schema import events
from eventstore.sealed_text import open_sealed
from eventstore.stored_times import parse_stored_time

Row = Any

RAW_COLUMNS: tuple[ColumnClause[Any], ...] = tuple(
    literal_column(f"events.{name}") for name in RECORDED_FIELDS
)
"""The columns of ``events`` without types: the driver's values come through as they are."""


def _sqlite_record(row: Row) -> RecordedEvent:
    return RecordedEvent(
        position=row[0],
        stream_id=row[1],
        version=row[2],
        event_id=UUID(row[3]),
        type=row[4],
        schema_version=row[5],
        data=orjson.loads(row[6]),
        metadata=orjson.loads(row[7]),
        occurred_at=parse_stored_time(row[8]),
        recorded_at=parse_stored_time(row[9]),
    )


def _postgresql_record(row: Row) -> RecordedEvent:
    # psycopg returns UUIDs, timestamptz as aware datetimes and JSONB already decoded
    # (SQLAlchemy registers the engine's JSON loader on every connection it opens).
    occurred_at: datetime = row[8]
    recorded_at: datetime = row[9]
    return RecordedEvent(
        position=row[0],
        stream_id=row[1],
        version=row[2],
        event_id=row[3],
        type=row[4],
        schema_version=row[5],
        data=row[6],
        metadata=row[7],
        occurred_at=occurred_at.astimezone(UTC),
        recorded_at=recorded_at.astimezone(UTC),
    )


def stored_events(conn: Connection, rows: Iterable[Row]) -> list[RecordedEvent]:
    """RecordedEvents from rows of RAW_COLUMNS read on ``conn``, exactly as stored (sealed
    text left sealed): what the hash chain covers."""
    convert: Callable[[Row], RecordedEvent] = (
        _postgresql_record if conn.dialect.name == "postgresql" else _sqlite_record
    )
    return [convert(row) for row in rows]


def recorded_events(conn: Connection, rows: Iterable[Row]) -> list[RecordedEvent]:
    """RecordedEvents from rows of RAW_COLUMNS read on ``conn``, sealed text opened (or
    shown erased): what every reader of the log's content sees."""
    return open_sealed(conn, stored_events(conn, rows))


_PAGE: Select[Any] = (
    select(*RAW_COLUMNS)
    .select_from(events)
    .where(events.c.position > bindparam("after"))
    .order_by(events.c.position)
    .limit(bindparam("limit"))
)


def read_events_after(
    conn: Connection, after_position: int, limit: int, *, as_stored: bool = False
) -> list[RecordedEvent]:
    """Up to ``limit`` events after ``after_position``, in position order; ``as_stored``:
    with sealed text left sealed (the hash chain's view)."""
    rows = conn.execute(_PAGE, {"after": after_position, "limit": limit}).all()
    return stored_events(conn, rows) if as_stored else recorded_events(conn, rows)


def read_events_between(
    conn: Connection, after_position: int, until_position: int, streams: ColumnElement[bool]
) -> list[RecordedEvent]:
    """The events of the streams ``streams`` selects with positions after ``after_position``
    and up to ``until_position``, in position order.

    No LIMIT: with one, PostgreSQL may choose to fetch and sort the whole rest of the
    log for every page. A caller bounds a page by its range of positions.
    """
    query = (
        select(*RAW_COLUMNS)
        .select_from(events)
        .where(events.c.position > after_position, events.c.position <= until_position, streams)
        .order_by(events.c.position)
    )
    return recorded_events(conn, conn.execute(query).all())


def first_position_after(conn: Connection, after_position: int) -> int | None:
    """The position of the first event after ``after_position`` (None: there is none)."""
    query = select(func.min(events.c.position)).where(events.c.position > after_position)
    position: int | None = conn.execute(query).scalar_one()
    return position
