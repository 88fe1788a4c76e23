"""Commands: what someone asks the incident to do. ``at`` is when the request was made."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, ConfigDict

from domain.values import NoteText, Reason, ServiceName, Severity, Status, Title, UtcDatetime


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
