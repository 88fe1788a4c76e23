"""Incident events: frozen, validated, named by a stable dotted type, versioned.

The stored name of an event is its ``type`` string, never a module path, so classes
can move freely. ``data`` holds every field but ``type``, ``schema_version`` and
``occurred_at``, which the log keeps in columns of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from domain.values import NoteText, Reason, ServiceName, Severity, Status, Title, UtcDatetime


class DomainEvent(BaseModel):
    """Base of every event: immutable, strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    occurred_at: UtcDatetime
    """When the fact happened in the world, as far as the recorder knows."""


class IncidentDeclared(DomainEvent):
    type: Literal["incident.declared"] = "incident.declared"
    schema_version: Literal[1] = 1
    incident_id: UUID
    title: Title
    severity: Severity
    services: tuple[ServiceName, ...] = ()
    summary: str | None = None
    started_at: UtcDatetime
    detected_at: UtcDatetime


class IncidentAcknowledged(DomainEvent):
    type: Literal["incident.acknowledged"] = "incident.acknowledged"
    schema_version: Literal[1] = 1


class IncidentStatusChanged(DomainEvent):
    type: Literal["incident.status_changed"] = "incident.status_changed"
    schema_version: Literal[1] = 1
    from_status: Status
    to_status: Status


class IncidentSeverityChanged(DomainEvent):
    type: Literal["incident.severity_changed"] = "incident.severity_changed"
    schema_version: Literal[1] = 1
    from_severity: Severity
    to_severity: Severity
    reason: Reason | None = None


class NoteAdded(DomainEvent):
    type: Literal["timeline.note_added"] = "timeline.note_added"
    schema_version: Literal[1] = 1
    note_id: UUID
    text: NoteText


class NoteAmended(DomainEvent):
    type: Literal["timeline.note_amended"] = "timeline.note_amended"
    schema_version: Literal[1] = 1
    note_id: UUID
    text: NoteText | None = None
    note_occurred_at: UtcDatetime | None = None
    """The corrected time of the noted fact; ``occurred_at`` is when the amendment was made."""


class NoteRedacted(DomainEvent):
    type: Literal["timeline.note_redacted"] = "timeline.note_redacted"
    schema_version: Literal[1] = 1
    note_id: UUID
    reason: Reason


Event = Annotated[
    IncidentDeclared
    | IncidentAcknowledged
    | IncidentStatusChanged
    | IncidentSeverityChanged
    | NoteAdded
    | NoteAmended
    | NoteRedacted,
    Field(discriminator="type"),
]

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)

_COLUMNS = {"type", "schema_version", "occurred_at"}

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]

UPCASTERS: dict[tuple[str, int], Upcaster] = {}
"""(type, stored version) -> function lifting ``data`` to version + 1. Applied on read."""


def encode(event: DomainEvent) -> dict[str, Any]:
    """The JSON-ready ``data`` of an event, without the fields stored as columns."""
    return event.model_dump(mode="json", exclude=_COLUMNS)


def event_type(event: DomainEvent) -> str:
    """The stable stored name of an event."""
    name: str = getattr(event, "type")  # noqa: B009 - every concrete event declares it
    return name


def schema_version(event: DomainEvent) -> int:
    """The schema version an event is written with."""
    version: int = getattr(event, "schema_version")  # noqa: B009
    return version


def decode(type_: str, version: int, data: dict[str, Any], occurred_at: datetime) -> DomainEvent:
    """Rebuild an event from its stored form, upcasting older schema versions first."""
    while (upcast := UPCASTERS.get((type_, version))) is not None:
        data = upcast(data)
        version += 1
    event: DomainEvent = EVENT_ADAPTER.validate_python(
        {**data, "type": type_, "schema_version": version, "occurred_at": occurred_at}
    )
    return event
