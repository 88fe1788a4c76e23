"""Incident events: frozen, validated, named by a stable dotted type, versioned.

The stored name of an event is its ``type`` string, never a module path, so classes
can move freely. ``data`` holds every field but ``type``, ``schema_version`` and
``occurred_at``, which the log keeps in columns of their own.

The event classes live in one module per family; every one is reachable from here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, get_args

from pydantic import Field, TypeAdapter

from domain.action_item_events import (
    ActionItemAdded,
    ActionItemReassigned,
    ActionItemReprioritized,
    ActionItemRescheduled,
    ActionItemRetitled,
    ActionItemStatusChanged,
    ActionItemTicketLinked,
)
from domain.alert_events import (
    AlertAcknowledged,
    AlertFired,
    AlertResolved,
    AlertsCleared,
    AlertTextRedacted,
    IncidentLinked,
)
from domain.classification_events import (
    IncidentKindChanged,
    IncidentLabelsChanged,
    IncidentRelated,
    IncidentUnrelated,
)
from domain.event_base import DomainEvent
from domain.incident_events import (
    ImpactUpdated,
    IncidentAcknowledged,
    IncidentDeclared,
    IncidentMitigated,
    IncidentSeverityChanged,
    IncidentStatusChanged,
    NoteAdded,
    NoteAmended,
    NoteRedacted,
    ParticipantAdded,
    ResolutionUpdated,
    RoleAssigned,
    RootCauseUpdated,
    ServicesChanged,
)
from domain.postmortem_events import (
    PostmortemApproved,
    PostmortemChangesRequested,
    PostmortemDueDateSet,
    PostmortemPublished,
    PostmortemReviewRequested,
    PostmortemSectionEdited,
)
from domain.values import NoteVisibility

__all__ = [
    "CURRENT_VERSIONS",
    "EVENT_ADAPTER",
    "UPCASTERS",
    "ActionItemAdded",
    "ActionItemReassigned",
    "ActionItemReprioritized",
    "ActionItemRescheduled",
    "ActionItemRetitled",
    "ActionItemStatusChanged",
    "ActionItemTicketLinked",
    "AlertAcknowledged",
    "AlertFired",
    "AlertResolved",
    "AlertTextRedacted",
    "AlertsCleared",
    "DomainEvent",
    "Event",
    "ImpactUpdated",
    "IncidentAcknowledged",
    "IncidentDeclared",
    "IncidentKindChanged",
    "IncidentLabelsChanged",
    "IncidentLinked",
    "IncidentMitigated",
    "IncidentRelated",
    "IncidentSeverityChanged",
    "IncidentStatusChanged",
    "IncidentUnrelated",
    "NoteAdded",
    "NoteAmended",
    "NoteRedacted",
    "ParticipantAdded",
    "PostmortemApproved",
    "PostmortemChangesRequested",
    "PostmortemDueDateSet",
    "PostmortemPublished",
    "PostmortemReviewRequested",
    "PostmortemSectionEdited",
    "ResolutionUpdated",
    "RoleAssigned",
    "RootCauseUpdated",
    "ServicesChanged",
    "UnknownSchemaVersion",
    "Upcaster",
    "decode",
    "encode",
    "event_type",
    "schema_version",
    "upcast_added_field",
    "upcast_note_added_v1_v2",
    "upcast_ticket_linked_v1_v2",
]

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
    | AlertTextRedacted
    | IncidentLinked
    | IncidentLabelsChanged
    | IncidentKindChanged
    | IncidentRelated
    | IncidentUnrelated
    | PostmortemApproved
    | PostmortemChangesRequested
    | PostmortemDueDateSet,
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


def upcast_added_field(name: str, value: Any) -> Upcaster:
    """An upcaster for a version that only added a field: older events read with ``value``."""

    def upcast(data: dict[str, Any]) -> dict[str, Any]:
        return {**data, name: value}

    return upcast


UPCASTERS: dict[tuple[str, int], Upcaster] = {
    ("timeline.note_added", 1): upcast_note_added_v1_v2,
    ("action_item.ticket_linked", 1): upcast_ticket_linked_v1_v2,
    # Who wrote an edit before version 2 is only in its metadata, which the rules never read.
    ("postmortem.section_edited", 1): upcast_added_field("editor", None),
    ("postmortem.review_requested", 1): upcast_added_field("reviewers", []),
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
