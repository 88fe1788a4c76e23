"""What an append checks: events fit to be stored, and the same events stored before.

A retried append finds its events stored already and answers with the original result;
an event id stored with other content is a conflict, never overwritten.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from eventstore.bulk_read import RAW_COLUMNS, recorded_events
from eventstore.errors import EventIdConflict, InvalidEventData
from eventstore.records import AppendResult, NewEvent, RecordedEvent
from eventstore.schema import events


def check_new_events(new_events: Sequence[NewEvent]) -> None:
    """Refuse an append that could not be stored, or stored alike on every backend."""
    if not new_events:
        raise ValueError("append needs at least one event")
    ids = [event.event_id for event in new_events]
    if len(set(ids)) != len(ids):
        raise EventIdConflict("the same event id appears twice in one append")
    for event in new_events:
        # PostgreSQL's JSONB cannot hold U+0000; refuse it on every backend alike.
        if _has_nul(event.data) or _has_nul(event.metadata):
            raise InvalidEventData(f"event {event.event_id} contains a NUL character (U+0000)")


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


def violated_constraint(exc: IntegrityError) -> str | None:
    """The name of the unique constraint of ``events`` an insert broke, if it can be told."""
    diag = getattr(exc.orig, "diag", None)
    if diag is not None:  # psycopg names the constraint
        name: str | None = diag.constraint_name
        return name
    message = str(exc.orig)
    if "events.stream_id, events.version" in message:
        return "uq_events_stream_version"
    if "events.event_id" in message:
        return "uq_events_event_id"
    return None


def original_result(
    conn: Connection, stream_id: str, new_events: Sequence[NewEvent]
) -> AppendResult | None:
    """The result of an earlier append of exactly these events, if there was one."""
    ids = [event.event_id for event in new_events]
    query = select(*RAW_COLUMNS).select_from(events).where(events.c.event_id.in_(ids))
    stored = {r.event_id: r for r in recorded_events(conn, conn.execute(query))}
    if not stored:
        return None
    for event in new_events:
        original = stored.get(event.event_id)
        if original is None or not _same_event(original, stream_id, event):
            raise EventIdConflict(
                f"event {event.event_id} is already stored with other content"
                if original is not None
                else "some of these event ids are stored already and some are not"
            )
    ordered = [stored[event.event_id] for event in new_events]
    return AppendResult(
        stream_id, ordered[-1].version, tuple(recorded.position for recorded in ordered)
    )


def _same_event(original: RecordedEvent, stream_id: str, event: NewEvent) -> bool:
    return (
        original.stream_id == stream_id
        and original.type == event.type
        and original.schema_version == event.schema_version
        and original.data == event.data
        and original.occurred_at == event.occurred_at
    )
