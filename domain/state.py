"""The aggregate's frozen state and the checks and builders every rule module shares."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import TypeVar
from uuid import UUID

from domain.commands import BackDatable, Command, DeclareIncident, RecordAlerts
from domain.erasable_text import RedactedText
from domain.errors import IncidentNotFound, RuleViolation
from domain.incident_events import IncidentDeclared
from domain.persistent import PersistentMap, PersistentSet
from domain.values import (
    ActionStatus,
    IncidentKind,
    PostmortemStatus,
    Priority,
    Relation,
    Role,
    Section,
    Severity,
    Status,
    Verdict,
)

CLOCK_SKEW = timedelta(minutes=5)
"""How far in the future a reported time may lie before it is refused as a typo."""


@dataclass(frozen=True, slots=True)
class Postmortem:
    """The revision being written, its status, its sections, and what was published."""

    revision: int = 1
    status: PostmortemStatus = PostmortemStatus.DRAFT
    sections: Mapping[Section, str] = field(default_factory=lambda: MappingProxyType({}))
    published: tuple[int, ...] = ()
    reviewers: tuple[str, ...] = ()
    """Who the revision in review was sent to; empty when none was named (older logs)."""
    verdicts: Mapping[str, Verdict] = field(default_factory=lambda: MappingProxyType({}))
    """Each reviewer's latest verdict on the text as it stands; an edit clears them."""
    last_editor: str | None = None
    """Who wrote the revision's latest edit, when known."""
    due_date: date | None = None
    """Set explicitly; None means the service's default rule applies."""


@dataclass(frozen=True, slots=True)
class ActionItem:
    owner: str
    due_date: date
    status: ActionStatus
    ticket_url: str | None = None
    title: str = ""
    priority: Priority = Priority.P3


@dataclass(frozen=True, slots=True)
class Note:
    """What a note says now and when its fact happened, as amended."""

    text: str | RedactedText
    """``RedactedText`` when read after the note's redaction erased it."""
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert of the incident: its latest firing, and whether it resolved since."""

    name: str
    starts_at: datetime
    resolved_at: datetime | None = None
    acknowledged_at: datetime | None = None

    @property
    def open(self) -> bool:
        return self.resolved_at is None


@dataclass(frozen=True, slots=True)
class Incident:
    """What the rules need to know about one incident; ``version`` counts its events."""

    version: int = 0
    id: UUID | None = None
    title: str = ""
    severity: Severity = Severity.SEV5
    status: Status = Status.INVESTIGATING
    started_at: datetime | None = None
    detected_at: datetime | None = None
    acknowledged_at: datetime | None = None
    mitigated_at: datetime | None = None
    resolved_at: datetime | None = None
    notes: PersistentSet[UUID] = field(default_factory=PersistentSet)
    redacted_notes: PersistentSet[UUID] = field(default_factory=PersistentSet)
    note_contents: PersistentMap[UUID, Note] = field(default_factory=PersistentMap)
    """Live notes only: a redacted note's text is dropped from the state too."""
    services: tuple[str, ...] = ()
    impact: str | None = None
    root_cause: str | None = None
    resolution: str | None = None
    roles: Mapping[Role, str] = field(default_factory=lambda: MappingProxyType({}))
    participants: frozenset[str] = frozenset()
    postmortem: Postmortem = Postmortem()
    action_items: Mapping[UUID, ActionItem] = field(default_factory=lambda: MappingProxyType({}))
    alerts: PersistentMap[str, Alert] = field(default_factory=PersistentMap)
    alerts_resolved: int = 0
    previous_incident_id: UUID | None = None
    labels: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    kind: IncidentKind = IncidentKind.INCIDENT
    relations: Mapping[UUID, Relation] = field(default_factory=lambda: MappingProxyType({}))
    """Incidents this one recorded a relation to (one relation per other incident)."""

    @property
    def exists(self) -> bool:
        return self.id is not None

    @property
    def ended(self) -> bool:
        """Resolved or closed: new alerts belong to a new incident."""
        return self.status in (Status.RESOLVED, Status.CLOSED)


K = TypeVar("K")
V = TypeVar("V")


def frozen_map(mapping: Mapping[K, V]) -> Mapping[K, V]:
    """A read-only copy, so state handed out can never be changed in place."""
    return MappingProxyType(dict(mapping))


def require_incident(state: Incident, command: Command) -> datetime:
    """The incident's start time; IncidentNotFound when it was never declared."""
    if not state.exists:
        raise IncidentNotFound(f"incident {command.incident_id} does not exist")
    assert state.started_at is not None
    return state.started_at


def not_in_future(name: str, value: datetime, now: datetime) -> None:
    if value > now + CLOCK_SKEW:
        raise RuleViolation(f"{name} {value.isoformat()} lies in the future")


def occurred(cmd: BackDatable) -> datetime:
    """When the command's fact happened: its ``occurred_at``, or when it was asked; refused
    when that lies in the future."""
    when = cmd.occurred_at or cmd.at
    not_in_future("occurred_at", when, cmd.at)
    return when


def declaration(
    cmd: DeclareIncident | RecordAlerts,
    title: str,
    severity: Severity,
    started_at: datetime,
    detected_at: datetime,
) -> IncidentDeclared:
    """The event declaring the command's incident; each affected service is named once."""
    return IncidentDeclared(
        occurred_at=cmd.at,
        incident_id=cmd.incident_id,
        title=title,
        severity=severity,
        services=tuple(dict.fromkeys(cmd.services)),
        summary=cmd.summary,
        started_at=started_at,
        detected_at=detected_at,
    )
