"""Append-only event store on SQLAlchemy Core: schema, append, read."""

from eventstore.errors import ConcurrencyError, EventIdConflict, EventStoreError
from eventstore.records import AppendResult, NewEvent, RecordedEvent
from eventstore.store import EventStore

__all__ = [
    "AppendResult",
    "ConcurrencyError",
    "EventIdConflict",
    "EventStore",
    "EventStoreError",
    "NewEvent",
    "RecordedEvent",
]
