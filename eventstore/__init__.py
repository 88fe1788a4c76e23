"""Append-only event store on SQLAlchemy Core: schema, append, read."""

from eventstore.errors import (
    ConcurrencyError,
    EventIdConflict,
    EventStoreError,
    InvalidEventData,
)
from eventstore.records import AppendResult, NewEvent, RecordedEvent
from eventstore.store import EventStore

__all__ = [
    "AppendResult",
    "ConcurrencyError",
    "EventIdConflict",
    "EventStore",
    "EventStoreError",
    "InvalidEventData",
    "NewEvent",
    "RecordedEvent",
]
