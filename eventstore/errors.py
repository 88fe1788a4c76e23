"""Errors raised by the event store."""

from __future__ import annotations


class EventStoreError(Exception):
    """Base of every event-store refusal."""


class ConcurrencyError(EventStoreError):
    """The stream moved on since the writer read it: the expected version is stale."""

    def __init__(self, stream_id: str, expected: int, actual: int) -> None:
        super().__init__(
            f"stream {stream_id} is at version {actual}, the append expected version {expected}"
        )
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


class EventIdConflict(EventStoreError):
    """An event id is already stored with other content; ids are never reused."""


class InvalidEventData(EventStoreError):
    """The event cannot be stored identically on every backend (a NUL character, say)."""
