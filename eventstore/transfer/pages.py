"""Pages of the log read straight from the driver and written as log file lines.

Going around SQLAlchemy's result types matters here: an export handles every event of
the log, and building UUID and datetime objects only to print them again would cost
more than reading the rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import orjson
from sqlalchemy import Connection

from eventstore.transfer.event_lines import event_line
from eventstore.transfer.format import format_time

# An event without a chain hash (written around the service) is named, not left out.
_SQLITE_PAGE = (
    "SELECT position, stream_id, version, event_id, type, schema_version, data, metadata,"
    " occurred_at, recorded_at, chain_hash"
    " FROM events WHERE position > ? ORDER BY position LIMIT ?"
)
_POSTGRES_PAGE = (
    "SELECT position, stream_id, version, event_id::text, type, schema_version,"
    " data::text, metadata::text,"
    " to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"'),"
    " to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"'),"
    " chain_hash"
    " FROM events WHERE position > %s ORDER BY position LIMIT %s"
)


class UnchainedEvent(Exception):
    """An event has no chain hash: the log was written to around the service."""


@dataclass(frozen=True, slots=True)
class Page:
    """Log file lines of consecutive events, and the last one's position and chain hash."""

    lines: list[bytes]
    position: int
    chain_hash: str


def read_export_lines(conn: Connection, after: int, limit: int) -> Page | None:
    """The lines of up to ``limit`` events after position ``after``; None after the last.

    Each line is built and serialised in one step: keeping a page of parsed documents
    alive first costs half as much again.
    """
    driver: Any = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        with driver.cursor() as cursor:
            rows = cursor.execute(_POSTGRES_PAGE, (after, limit)).fetchall()
        lines = _lines(rows, _as_is, _as_is)
    else:
        rows = driver.execute(_SQLITE_PAGE, (after, limit)).fetchall()
        lines = _lines(rows, _hyphenated, _sqlite_time)
    return Page(lines, rows[-1][0], rows[-1][10]) if rows else None


def _lines(
    rows: list[Any], event_id: Callable[[str], str], time: Callable[[str], str]
) -> list[bytes]:
    """The rows as log file lines; ``event_id`` and ``time`` turn the driver's text into the file's."""
    return [
        event_line(
            {
                "position": p,
                "stream_id": s,
                "version": v,
                "event_id": event_id(e),
                "type": t,
                "schema_version": sv,
                "data": orjson.loads(d),
                "metadata": orjson.loads(m),
                "occurred_at": time(o),
                "recorded_at": time(r),
                "chain_hash": h if h is not None else _unchained(p),
            }
        )
        for p, s, v, e, t, sv, d, m, o, r, h in rows
    ]


def _unchained(position: int) -> str:
    raise UnchainedEvent(
        f"the event at position {position} has no chain hash: it was written around the"
        " service (incidents verify names the first such event); the log cannot be exported"
        " with its chain"
    )


def _as_is(text: str) -> str:
    # PostgreSQL's query already writes ids and times as the file does.
    return text


def _hyphenated(stored: str) -> str:
    # SQLAlchemy stores a UUID on SQLite as 32 lowercase hex digits.
    if len(stored) == 32:
        return f"{stored[:8]}-{stored[8:12]}-{stored[12:16]}-{stored[16:20]}-{stored[20:]}"
    return str(UUID(stored))


def _sqlite_time(stored: str) -> str:
    # SQLAlchemy stores "2026-01-31 09:30:00.000000" (naive UTC, always six fraction
    # digits); anything else is parsed and written out in full.
    if len(stored) == 26 and stored[10] == " ":
        return f"{stored[:10]}T{stored[11:]}+00:00"
    moment = datetime.fromisoformat(stored)
    return format_time(moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC))
