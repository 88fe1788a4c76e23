"""The log as the API serves it: envelopes exactly as stored, and pages of them."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from eventstore.records import RecordedEvent

LOG_EVENT: dict[str, Any] = {
    "position": 1234,
    "stream_id": "incident-0b7c6f2e-3f57-4b2c-9a53-3d7d2f0f4a10",
    "version": 4,
    "event_id": "9d2f4c1a-7b3e-4e8f-a1c2-5d6e7f8a9b0c",
    "type": "timeline.note_added",
    "schema_version": 2,
    "data": {
        "note_id": "358e966f-6ffd-4e14-acff-db7e62458ca0",
        "text": "Rolled back deploy 4812",
        "visibility": "internal",
    },
    "metadata": {
        "actor": "alice",
        "source": "api",
        "request_id": "5b1f0e0c9a8d4f7e",
        "correlation_id": "5b1f0e0c9a8d4f7e",
    },
    "occurred_at": "2026-03-02T10:40:00Z",
    "recorded_at": "2026-03-02T10:40:02Z",
}

LOG_PAGE: dict[str, Any] = {
    "events": [LOG_EVENT],
    "next_after": 1234,
    "head": 1250,
    "next_url": "https://incidents.example.com/events?type=timeline.&limit=1&after=1234",
}

EVENT_STREAM = (
    "retry: 3000\n\n"
    "id: 1234\n"
    "event: timeline.note_added\n"
    f"data: {json.dumps(LOG_EVENT, separators=(',', ':'))}\n\n"
    ": heartbeat\n\n"
)
"""What GET /events/stream sends: the retry hint, one event per position, heartbeats."""


class LogEvent(BaseModel):
    """One event of the log as stored: ``data`` in its stored ``schema_version``."""

    model_config = ConfigDict(frozen=True, json_schema_extra={"examples": [LOG_EVENT]})

    position: int = Field(description="Its place in the whole log; the order of the feed.")
    stream_id: str = Field(description="The incident's stream: incident-<id>.")
    version: int = Field(description="Its place in its stream: 1, 2, 3 ...")
    event_id: UUID = Field(description="The event's own id (unique across the log).")
    type: str = Field(description="The stable dotted name, such as incident.declared.")
    schema_version: int = Field(description="The shape of ``data``, as it was written.")
    data: dict[str, Any] = Field(
        description="The event's facts; their shape depends on type and schema_version."
    )
    metadata: dict[str, Any] = Field(description="Actor, source, request and correlation ids.")
    occurred_at: datetime = Field(description="When it happened in the world.")
    recorded_at: datetime = Field(description="When the service stored it.")

    @classmethod
    def of(cls, event: RecordedEvent) -> LogEvent:
        """The envelope of a stored event: its fields are the event's, by name."""
        return cls.model_validate(event, from_attributes=True)


class LogPage(BaseModel):
    """A page of the log; ask for ``next_url`` (or ``after=next_after``) for the next one."""

    model_config = ConfigDict(frozen=True, json_schema_extra={"examples": [LOG_PAGE]})

    events: list[LogEvent] = Field(description="The events on this page, in log order.")
    next_after: int = Field(
        description=(
            "The last position this page looked at: pass it as ``after`` next. With"
            " filters it can be past the last event returned, and a page can be empty"
            " while the log goes on; keep paging until ``next_after`` reaches ``head``."
        )
    )
    head: int = Field(description="The newest position in the log when the page was read.")
    next_url: str = Field(description="This request with ``after`` set to ``next_after``.")
