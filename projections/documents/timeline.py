"""A timeline entry document: one lifecycle moment, note or alert of an incident."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field


class TimelineEntry(BaseModel):
    """One entry of the timeline: a lifecycle moment, a note, an alert."""

    id: UUID = Field(description="The entry's id; a note's id is its entry's id.")
    kind: str = Field(
        description="What the entry records, e.g. declared, acknowledged, note, alert."
    )
    text: str = Field(description="The entry as a sentence.")
    actor: str | None = Field(
        description="Who made it happen: a token's name; null for derived entries."
    )
    details: dict[str, Any] = Field(
        description="The entry's facts as fields, by kind (for example the new status)."
    )
    occurred_at: datetime = Field(description="When it happened in the world.")
    recorded_at: datetime = Field(description="When the service stored it.")
    amended_at: datetime | None = Field(
        description="When a note was last amended; null when never."
    )
    position: int = Field(description="The log position of the event behind the entry.")

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> TimelineEntry:
        """The document of a row of the timeline read model, live or replayed."""
        return cls(id=row["entry_id"], **{k: v for k, v in row.items() if k != "entry_id"})
