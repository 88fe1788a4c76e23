"""Commands: what someone asks the incident to do. ``at`` is when the request was made."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from domain.values import (
    ActionKind,
    ActionStatus,
    LongText,
    NoteText,
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


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    incident_id: UUID
    at: UtcDatetime


class DeclareIncident(Command):
    title: Title
    severity: Severity
    services: tuple[ServiceName, ...] = ()
    summary: str | None = None
    started_at: UtcDatetime | None = None
    detected_at: UtcDatetime | None = None


class AcknowledgeIncident(Command):
    occurred_at: UtcDatetime | None = None


class ChangeStatus(Command):
    status: Status
    occurred_at: UtcDatetime | None = None


class ChangeSeverity(Command):
    severity: Severity
    reason: Reason | None = None


class AddNote(Command):
    note_id: UUID
    text: NoteText
    occurred_at: UtcDatetime | None = None


class AmendNote(Command):
    note_id: UUID
    text: NoteText | None = None
    occurred_at: UtcDatetime | None = None


class RedactNote(Command):
    note_id: UUID
    reason: Reason


class UpdateImpact(Command):
    impact: LongText


class UpdateRootCause(Command):
    root_cause: LongText


class UpdateResolution(Command):
    resolution: LongText


class MarkMitigated(Command):
    occurred_at: UtcDatetime | None = None


class AssignRole(Command):
    role: Role
    person: Person


class AddParticipant(Command):
    person: Person


class ChangeServices(Command):
    services: tuple[ServiceName, ...]


class EditPostmortemSection(Command):
    section: Section
    text: SectionText


class RequestPostmortemReview(Command):
    pass


class PublishPostmortem(Command):
    pass


class AddActionItem(Command):
    item_id: UUID
    title: Title
    kind: ActionKind
    owner: Person
    due_date: date
    priority: Priority = Priority.P3
    ticket_url: TicketUrl | None = None


class ReassignActionItem(Command):
    item_id: UUID
    owner: Person


class RescheduleActionItem(Command):
    item_id: UUID
    due_date: date


class ChangeActionItemStatus(Command):
    """Also reopens a done or abandoned item (status ``open``)."""

    item_id: UUID
    status: ActionStatus
    reason: Reason | None = None


class LinkTicket(Command):
    item_id: UUID
    ticket_url: TicketUrl
