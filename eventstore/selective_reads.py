"""Reads of part of the log for one purpose: a stream's events of some types, an earlier head."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, bindparam, func, select

from eventstore.bulk_read import RAW_COLUMNS, recorded_events
from eventstore.records import RecordedEvent
from eventstore.schema import events

_HEAD_BEFORE = select(func.coalesce(func.max(events.c.position), 0)).where(
    events.c.position < bindparam("position")
)
"""Built once: every inline append asks where the log stood before its first event."""


def head_position_before(conn: Connection, position: int) -> int:
    """The newest position of the log below ``position`` (0 when there is none)."""
    return int(conn.execute(_HEAD_BEFORE, {"position": position}).scalar_one())


def read_stream_types_in(
    conn: Connection, stream_id: str, types: Iterable[str]
) -> list[RecordedEvent]:
    """One stream's events of these types only, in version order."""
    query = (
        select(*RAW_COLUMNS)
        .select_from(events)
        .where(events.c.stream_id == stream_id, events.c.type.in_(list(types)))
        .order_by(events.c.version)
    )
    return recorded_events(conn, conn.execute(query))
