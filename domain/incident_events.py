"""Events of the response itself: declared, acknowledged, status and severity, notes, facts."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from domain.erasable_text import RedactedText
from domain.event_base import DomainEvent
from domain.values import (
    LongText,
    NoteText,
    NoteVisibility,
    Person,
    Reason,
    Role,
    ServiceName,
    Severity,
    Status,
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
    text: NoteText | RedactedText
    """``RedactedText`` once the note was redacted: the text was erased (domain.erasable_text)."""
    visibility: NoteVisibility


class NoteAmended(DomainEvent):
    type: Literal["timeline.note_amended"] = "timeline.note_amended"
    schema_version: Literal[1] = 1
    note_id: UUID
    text: NoteText | RedactedText | None = None
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
