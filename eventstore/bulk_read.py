"""Reading the log in position order, a page at a time, straight from the driver.

Rebuilds and projection workers read every event of the log. SQLAlchemy's per-value
result processing (UUIDs, times, JSON) costs more than the database spends finding the
rows, so pages are read with SQL compiled once per dialect and converted here, with
the same results: UUIDs, aware UTC datetimes and decoded JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from uuid import UUID

import orjson
from sqlalchemy import Connection, Dialect, bindparam, select
from sqlalchemy.sql.compiler import SQLCompiler

from eventstore.records import RecordedEvent
from eventstore.schema import events

Row = tuple[Any, ...]

_PAGE = (
    select(
        events.c.position,
        events.c.stream_id,
        events.c.version,
        events.c.event_id,
        events.c.type,
        events.c.schema_version,
        events.c.data,
        events.c.metadata,
        events.c.occurred_at,
        events.c.recorded_at,
    )
    .where(events.c.position > bindparam("after"))
    .order_by(events.c.position)
    .limit(bindparam("limit"))
)


@dataclass(frozen=True, slots=True)
class _Page:
    compiled: SQLCompiler
    convert: Callable[[Row], RecordedEvent]

    def parameters(self, after: int, limit: int) -> Any:
        # Once per page, so SQLAlchemy may fill in what the dialect adds (SQLite's OFFSET).
        values = self.compiled.construct_params({"after": after, "limit": limit})
        order = self.compiled.positiontup
        return tuple(values[name] for name in order) if order is not None else values


def _sqlite_time(text: str) -> datetime:
    # Stored as naive UTC text ("YYYY-MM-DD HH:MM:SS.ffffff") by eventstore.types.
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


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
        occurred_at=_sqlite_time(row[8]),
        recorded_at=_sqlite_time(row[9]),
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


@lru_cache(maxsize=8)
def _page(dialect: Dialect) -> _Page:
    convert = _postgresql_record if dialect.name == "postgresql" else _sqlite_record
    compiled = _PAGE.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)
    return _Page(compiled, convert)


def read_page(conn: Connection, after_position: int, limit: int) -> list[RecordedEvent]:
    """Up to ``limit`` events after ``after_position``, in position order."""
    page = _page(conn.dialect)
    rows = conn.exec_driver_sql(page.compiled.string, page.parameters(after_position, limit))
    return [page.convert(row) for row in rows]
