"""Incident events: frozen, validated, named by a stable dotted type, versioned.

The stored name of an event is its ``type`` string, never a module path, so classes
can move freely. ``data`` holds every field but ``type``, ``schema_version`` and
``occurred_at``, which the log keeps in columns of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any, Literal, get_args
from uuid import UUID

from pydantic import Field, TypeAdapter

# Re-exported: every event class is reachable from this module.
from domain.alert_events import AlertAcknowledged as AlertAcknowledged
from domain.alert_events import AlertFired as AlertFired
from domain.alert_events import AlertResolved as AlertResolved
from domain.alert_events import AlertsCleared as AlertsCleared
from domain.alert_events import IncidentLinked as IncidentLinked
from domain.event_base import DomainEvent as DomainEvent
from domain.values import (
    ActionKind,
    ActionStatus,
    LongText,
    NoteText,
    NoteVisibility,
    Person,
    Priority,
    Reason,
    Role,
    Section,
    SectionText,
    ServiceName,
    Severity,
    Status,
    TicketUrl,
    Title,
    UtcDatetime,
)


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
    """A note on the timeline. Version 2 added ``visibility``; see ``upcast_note_added_v1_v2``."""

    type: Literal["timeline.note_added"] = "timeline.note_added"
    schema_version: Literal[2] = 2
    note_id: UUID
    text: NoteText
    visibility: NoteVisibility


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


# --- incident facts (issue summary) ---------------------------------------------------------


class ImpactUpdated(DomainEvent):
    type: Literal["incident.impact_updated"] = "incident.impact_updated"
    schema_version: Literal[1] = 1
    impact: LongText


class RootCauseUpdated(DomainEvent):
    type: Literal["incident.root_cause_updated"] = "incident.root_cause_updated"
    schema_version: Literal[1] = 1
    root_cause: LongText


class ResolutionUpdated(DomainEvent):
    type: Literal["incident.resolution_updated"] = "incident.resolution_updated"
    schema_version: Literal[1] = 1
    resolution: LongText


class IncidentMitigated(DomainEvent):
    """The impact stopped (``occurred_at``), possibly before the cause was fixed."""

    type: Literal["incident.mitigated"] = "incident.mitigated"
    schema_version: Literal[1] = 1


class RoleAssigned(DomainEvent):
    type: Literal["incident.role_assigned"] = "incident.role_assigned"
    schema_version: Literal[1] = 1
    role: Role
    person: Person
    previous: Person | None = None


class ParticipantAdded(DomainEvent):
    type: Literal["incident.participant_added"] = "incident.participant_added"
    schema_version: Literal[1] = 1
    person: Person


class ServicesChanged(DomainEvent):
    type: Literal["incident.services_changed"] = "incident.services_changed"
    schema_version: Literal[1] = 1
    services: tuple[ServiceName, ...]


# --- postmortem --------------------------------------------------------------------------


class PostmortemSectionEdited(DomainEvent):
    """The full new text of one section, in the revision being written."""

    type: Literal["postmortem.section_edited"] = "postmortem.section_edited"
    schema_version: Literal[1] = 1
    revision: int = Field(ge=1)
    section: Section
    text: SectionText


class PostmortemReviewRequested(DomainEvent):
    type: Literal["postmortem.review_requested"] = "postmortem.review_requested"
    schema_version: Literal[1] = 1
    revision: int = Field(ge=1)


class PostmortemPublished(DomainEvent):
    type: Literal["postmortem.published"] = "postmortem.published"
    schema_version: Literal[1] = 1
    revision: int = Field(ge=1)


# --- action items ------------------------------------------------------------------------


class ActionItemAdded(DomainEvent):
    type: Literal["action_item.added"] = "action_item.added"
    schema_version: Literal[1] = 1
    item_id: UUID
    title: Title
    kind: ActionKind
    owner: Person
    due_date: date
    priority: Priority
    ticket_url: TicketUrl | None = None


class ActionItemReassigned(DomainEvent):
    type: Literal["action_item.reassigned"] = "action_item.reassigned"
    schema_version: Literal[1] = 1
    item_id: UUID
    owner: Person
    previous_owner: Person


class ActionItemRescheduled(DomainEvent):
    type: Literal["action_item.rescheduled"] = "action_item.rescheduled"
    schema_version: Literal[1] = 1
    item_id: UUID
    due_date: date
    previous_due_date: date


class ActionItemRetitled(DomainEvent):
    type: Literal["action_item.retitled"] = "action_item.retitled"
    schema_version: Literal[1] = 1
    item_id: UUID
    title: Title
    previous: Title


class ActionItemReprioritized(DomainEvent):
    type: Literal["action_item.reprioritized"] = "action_item.reprioritized"
    schema_version: Literal[1] = 1
    item_id: UUID
    priority: Priority
    previous: Priority


class ActionItemStatusChanged(DomainEvent):
    type: Literal["action_item.status_changed"] = "action_item.status_changed"
    schema_version: Literal[1] = 1
    item_id: UUID
    from_status: ActionStatus
    to_status: ActionStatus
    reason: Reason | None = None


class ActionItemTicketLinked(DomainEvent):
    """The item's ticket link is now ``ticket_url``; ``None`` means the link was removed.

    Version 2 allowed ``None``; version 1 always named a ticket, so it reads unchanged
    (``upcast_ticket_linked_v1_v2``).
    """

    type: Literal["action_item.ticket_linked"] = "action_item.ticket_linked"
    schema_version: Literal[2] = 2
    item_id: UUID
    ticket_url: TicketUrl | None


Event = Annotated[
    IncidentDeclared
    | IncidentAcknowledged
    | IncidentStatusChanged
    | IncidentSeverityChanged
    | NoteAdded
    | NoteAmended
    | NoteRedacted
    | ImpactUpdated
    | RootCauseUpdated
    | ResolutionUpdated
    | IncidentMitigated
    | RoleAssigned
    | ParticipantAdded
    | ServicesChanged
    | PostmortemSectionEdited
    | PostmortemReviewRequested
    | PostmortemPublished
    | ActionItemAdded
    | ActionItemReassigned
    | ActionItemRescheduled
    | ActionItemRetitled
    | ActionItemReprioritized
    | ActionItemStatusChanged
    | ActionItemTicketLinked
    | AlertFired
    | AlertResolved
    | AlertAcknowledged
    | AlertsCleared
    | IncidentLinked,
    Field(discriminator="type"),
]

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)

_COLUMNS = {"type", "schema_version", "occurred_at"}

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


def upcast_note_added_v1_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 notes had no visibility: every note was written for the responders only."""
    return {**data, "visibility": NoteVisibility.INTERNAL.value}


def upcast_ticket_linked_v1_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 always linked a ticket; version 2 only added removing the link (``None``).

    The version was raised so that a release reading only version 1 refuses a removal
    plainly (``UnknownSchemaVersion``) instead of failing to validate it.
    """
    return dict(data)


UPCASTERS: dict[tuple[str, int], Upcaster] = {
    ("timeline.note_added", 1): upcast_note_added_v1_v2,
    ("action_item.ticket_linked", 1): upcast_ticket_linked_v1_v2,
}
"""(type, stored version) -> function lifting ``data`` to version + 1. Applied on read.

Stored events never change, so every version ever written stays decodable through
this chain; an upcaster is never removed.
"""

CURRENT_VERSIONS: dict[str, int] = {
    event_class.model_fields["type"].default: event_class.model_fields["schema_version"].default
    for event_class in get_args(get_args(Event)[0])
}
"""The schema version each event type is written with by this code."""


class UnknownSchemaVersion(ValueError):
    """A stored event is newer than this code: written by a newer release of the service."""


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
    current = CURRENT_VERSIONS.get(type_)
    if current is not None and version > current:
        # Guessing at a newer shape could misread it; an older release must stop instead.
        raise UnknownSchemaVersion(
            f"{type_} is stored as schema version {version}, but this release reads up to"
            f" version {current}; upgrade the service before it reads this log"
        )
    while (upcast := UPCASTERS.get((type_, version))) is not None:
        data = upcast(data)
        version += 1
    event: DomainEvent = EVENT_ADAPTER.validate_python(
        {**data, "type": type_, "schema_version": version, "occurred_at": occurred_at}
    )
    return event
