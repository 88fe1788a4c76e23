"""What goes into the log and what comes out of it."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any
from uuid import UUID


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to append; the store assigns its version, position and recorded time."""

    event_id: UUID
    type: str
    data: dict[str, Any]
    occurred_at: datetime
    schema_version: int = 1
    metadata: dict[str, Any] = field(default_factory=dict)

    def recorded(
        self, position: int, stream_id: str, version: int, recorded_at: datetime
    ) -> RecordedEvent:
        """This event as stored at ``position``, version ``version`` of ``stream_id``."""
        return RecordedEvent(
            position=position,
            stream_id=stream_id,
            version=version,
            event_id=self.event_id,
            type=self.type,
            schema_version=self.schema_version,
            data=self.data,
            metadata=self.metadata,
            occurred_at=self.occurred_at,
            recorded_at=recorded_at,
        )


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """An event as stored: immutable, with its place in its stream and in the whole log."""

    position: int
    stream_id: str
    version: int
    event_id: UUID
    type: str
    schema_version: int
    data: dict[str, Any]
    metadata: dict[str, Any]
    occurred_at: datetime
    recorded_at: datetime


RECORDED_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(RecordedEvent))
"""A stored event's fields, in the order of the ``events`` columns that hold them."""


@dataclass(frozen=True, slots=True)
class AppendResult:
    """The stream's version after the append and the log positions of the appended events."""

    stream_id: str
    version: int
    positions: tuple[int, ...]

    @property
    def position(self) -> int:
        """The position of the last appended event."""
        return self.positions[-1]
