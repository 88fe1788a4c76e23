"""Commands: what someone asks the incident to do. ``at`` is when the request was made."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from domain.values import (
    ActionKind,
    ActionStatus,
    AlertKey,
    AlertName,
    AlertSource,
    AlertStatus,
    AlertText,
    Comment,
    IncidentKind,
    LabelKey,
    LabelValue,
    LinkUrl,
    LongText,
    NoteText,
    NoteVisibility,
    Person,
    Priority,
    Reason,
    Relation,
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
    labels: dict[LabelKey, LabelValue] = Field(default_factory=dict)
    kind: IncidentKind = IncidentKind.INCIDENT


class BackDatable(Command):
    """A command whose fact may have happened before it was asked: ``occurred_at`` says when
    (``at`` when absent)."""

    occurred_at: UtcDatetime | None = None


class AcknowledgeIncident(BackDatable):
    pass


class ChangeStatus(BackDatable):
    status: Status


class ChangeSeverity(Command):
    severity: Severity
    reason: Reason | None = None


class AddNote(BackDatable):
    note_id: UUID
    text: NoteText
    visibility: NoteVisibility = NoteVisibility.INTERNAL


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


class MarkMitigated(BackDatable):
    pass


class AssignRole(Command):
    role: Role
    person: Person


class AddParticipant(Command):
    person: Person


class ChangeServices(Command):
    services: tuple[ServiceName, ...]


class ChangeLabels(Command):
    """Set labels (add, or give a new value) and remove others, in one change."""

    labels: dict[LabelKey, LabelValue] = Field(default_factory=dict)
    removed: tuple[LabelKey, ...] = ()


class ChangeKind(Command):
    kind: IncidentKind


class RelateIncident(Command):
    """Record how this incident relates to another (which must exist: the service checks)."""

    other_incident_id: UUID
    relation: Relation


class UnrelateIncident(Command):
    other_incident_id: UUID


class EditPostmortemSection(Command):
    section: Section
    text: SectionText
    editor: Person | None = None
    """Who writes the text: an approval must come from someone else."""


class RequestPostmortemReview(Command):
    reviewers: tuple[Person, ...] = ()


class ApprovePostmortem(Command):
    reviewer: Person
    comment: Comment | None = None


class RequestPostmortemChanges(Command):
    reviewer: Person
    comment: Comment


class SetPostmortemDueDate(Command):
    due_date: date | None


class PublishPostmortem(Command):
    pass


class ActionItemCommand(Command):
    """Base of the commands on one action item."""

    item_id: UUID


class AddActionItem(ActionItemCommand):
    title: Title
    kind: ActionKind
    owner: Person
    due_date: date
    priority: Priority = Priority.P3
    ticket_url: TicketUrl | None = None


class ReassignActionItem(ActionItemCommand):
    owner: Person


class RescheduleActionItem(ActionItemCommand):
    due_date: date


class RetitleActionItem(ActionItemCommand):
    title: Title


class ReprioritizeActionItem(ActionItemCommand):
    priority: Priority


class ChangeActionItemStatus(ActionItemCommand):
    """Also reopens a done or abandoned item (status ``open``)."""

    status: ActionStatus
    reason: Reason | None = None


class LinkTicket(ActionItemCommand):
    ticket_url: TicketUrl


class UnlinkTicket(ActionItemCommand):
    """Remove the item's link to an issue tracker."""


# --- monitoring ----------------------------------------------------------------------------


class AlertReport(BaseModel):
    """One alert as a monitoring system reported it, in a firing or resolved state.

    ``key`` identifies the alert within its incident (Alertmanager's fingerprint, a
    PagerDuty dedup key). ``starts_at`` tells two firings of one key apart; a resolved
    report without it resolves whichever firing of the key is open.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: AlertKey
    status: AlertStatus
    name: AlertName
    starts_at: UtcDatetime | None = None
    ends_at: UtcDatetime | None = None
    fingerprint: str | None = Field(default=None, max_length=100)
    summary: AlertText | None = None
    severity: str | None = Field(default=None, max_length=100)
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    generator_url: LinkUrl | None = None
    dashboard_url: LinkUrl | None = None
    panel_url: LinkUrl | None = None
    silence_url: LinkUrl | None = None
    details: dict[str, Any] = Field(default_factory=dict)


class RecordAlerts(Command):
    """Record what a notification says about its alerts; declares the incident if need be.

    Alerts already recorded are skipped, so a redelivered notification records nothing.
    ``title``, ``severity``, ``services`` and ``summary`` are used only to declare.
    """

    source: AlertSource
    alerts: tuple[AlertReport, ...] = Field(min_length=1)
    title: Title | None = None
    severity: Severity | None = None
    services: tuple[ServiceName, ...] = ()
    summary: AlertText | None = None
    previous_incident_id: UUID | None = None
    """Declaring: the incident this one follows (the same alert group, firing again)."""
    auto_resolve: bool = False
    """Resolve the incident when its last alert resolves."""
    labels: dict[LabelKey, LabelValue] = Field(default_factory=dict)
    """Labels the incident takes from its alerts, for each one it has no value for yet."""


class AcknowledgeAlert(BackDatable):
    alert_key: AlertKey


class RedactAlertText(Command):
    alert_key: AlertKey
    reason: Reason


class LinkIncident(Command):
    previous_incident_id: UUID
    reason: AlertText | None = None
