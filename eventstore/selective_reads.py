"""Reads of part of the log for one purpose: a stream's events of some types, an earlier head."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import Connection, and_, bindparam, func, or_, select

from eventstore.bulk_read import RAW_COLUMNS, recorded_events, stored_events
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


def read_streams_after(
    conn: Connection, after_versions: Mapping[str, int], *, as_stored: bool = False
) -> dict[str, list[RecordedEvent]]:
    """Several streams' events after a version each, in one round trip: stream -> events;
    ``as_stored``: with sealed text left sealed, for the caller to open what it needs.

    The command writer reads every incident of a batch at once; a read per incident
    would cost a round trip each, and on PostgreSQL those dominate a batch's time.
    """
    found: dict[str, list[RecordedEvent]] = {stream_id: [] for stream_id in after_versions}
    if not after_versions:
        return found
    wanted = or_(
        *(
            and_(events.c.stream_id == stream_id, events.c.version > after)
            for stream_id, after in after_versions.items()
        )
    )
    query = (
        select(*RAW_COLUMNS)
        .select_from(events)
        .where(wanted)
        .order_by(events.c.stream_id, events.c.version)
    )
    read = stored_events if as_stored else recorded_events
    for recorded in read(conn, conn.execute(query)):
        found[recorded.stream_id].append(recorded)
    return found
