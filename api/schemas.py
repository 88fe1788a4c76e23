"""Request and response bodies of the HTTP API (never the database tables themselves)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.values import (
    NoteText,
    NoteVisibility,
    PostmortemStatus,
    Reason,
    Role,
    ServiceName,
    Severity,
    Status,
    Title,
    UtcDatetime,
)

ACTION_ITEMS_PREFIX = "action_items_"
"""Summary columns counting action items per status: action_items_open, ..."""


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DeclareIncidentRequest(Body):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "title": "Checkout API returns 502",
                    "severity": "SEV2",
                    "services": ["checkout", "payments"],
                    "summary": "Error rate above 20% since the 14:00 deploy",
                }
            ]
        }
    )

    id: UUID | None = Field(default=None, description="Client-chosen id; generated when absent.")
    title: Title
    severity: Severity
    services: list[ServiceName] = Field(default_factory=list, max_length=50)
    summary: str | None = Field(default=None, max_length=10_000)
    started_at: UtcDatetime | None = Field(
        default=None, description="When the problem began (defaults to detection time)."
    )
    detected_at: UtcDatetime | None = Field(
        default=None, description="When it was noticed (defaults to now)."
    )


class AcknowledgeRequest(Body):
    occurred_at: UtcDatetime | None = None


class StatusRequest(Body):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "identified"}]})

    status: Status
    occurred_at: UtcDatetime | None = Field(
        default=None, description="When the change happened (defaults to now)."
    )


class SeverityRequest(Body):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"severity": "SEV1", "reason": "All regions affected"}]}
    )

    severity: Severity
    reason: Reason | None = None


class NoteRequest(Body):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"text": "Rolled back deploy 4812", "visibility": "internal"}]
        }
    )

    text: NoteText
    occurred_at: UtcDatetime | None = Field(
        default=None, description="When the noted fact happened (defaults to now)."
    )
    visibility: NoteVisibility = Field(
        default=NoteVisibility.INTERNAL,
        description="internal: for the responders; public: fit to share beyond them.",
    )


class TimelinePatch(Body):
    """Amend a note (new text and/or time) or redact it (``redacted: true`` with a reason)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"text": "Rolled back deploy 4812 (not 4811)"},
                {"redacted": True, "reason": "Contained a customer's e-mail address"},
            ]
        }
    )

    text: NoteText | None = None
    occurred_at: UtcDatetime | None = None
    redacted: Literal[True] | None = None
    reason: Reason | None = None

    @model_validator(mode="after")
    def _one_action(self) -> TimelinePatch:
        if self.redacted:
            if self.text is not None or self.occurred_at is not None:
                raise ValueError("a redaction cannot also change text or occurred_at")
            if self.reason is None:
                raise ValueError("a redaction needs a reason")
        elif self.text is None and self.occurred_at is None:
            raise ValueError("give text and/or occurred_at to amend, or redacted: true to redact")
        elif self.reason is not None:
            raise ValueError("reason is only used with redacted: true")
        return self


class CommandResult(BaseModel):
    """Where a command landed: the incident's new stream version and the log position."""

    id: UUID
    version: int
    position: int


class NoteCreated(CommandResult):
    """Where a new note landed, and its id: the id of its timeline entry."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "0b7c6f2e-3f57-4b2c-9a53-3d7d2f0f4a10",
                    "note_id": "7d9e4c1a-2b3f-4e5d-8a6b-9c0d1e2f3a40",
                    "version": 4,
                    "position": 1230,
                }
            ]
        }
    )

    note_id: UUID = Field(description="The note's id, also its timeline entry's id.")


class IncidentSummary(BaseModel):
    id: UUID
    title: str
    status: Status
    severity: Severity
    services: list[str]
    summary: str | None
    declared_by: str | None
    declared_at: datetime
    started_at: datetime
    detected_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    impact: str | None = None
    root_cause: str | None = None
    resolution: str | None = None
    mitigated_at: datetime | None = None
    roles: dict[str, str] = Field(
        default_factory=dict, description="Role -> person, e.g. incident_commander."
    )
    participants: list[str] = Field(default_factory=list, description="In the order they joined.")
    action_items: dict[str, int] = Field(
        default_factory=dict, description="How many action items are in each status."
    )
    postmortem_status: PostmortemStatus = PostmortemStatus.DRAFT
    postmortem_revision: int = 1
    alerts: dict[str, int] = Field(
        default_factory=dict, description="How many of its alerts fire and have resolved."
    )
    source: str | None = Field(
        default=None, description="The monitoring system of its first alert, if any."
    )
    previous_incident_id: UUID | None = Field(
        default=None, description="The incident this one follows (its alert group fired again)."
    )
    time_to_detect_seconds: float = Field(description="detected_at - started_at")
    time_to_acknowledge_seconds: float | None = Field(description="acknowledged_at - detected_at")
    time_to_resolve_seconds: float | None = Field(description="resolved_at - detected_at")
    time_to_mitigate_seconds: float | None = Field(
        default=None, description="mitigated_at - detected_at"
    )
    duration_seconds: float | None = Field(description="resolved_at - started_at")
    version: int
    last_position: int
    updated_at: datetime

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> IncidentSummary:
        def seconds(end: datetime | None, start: datetime | None) -> float | None:
            return (end - start).total_seconds() if end and start else None

        counts = {k: v for k, v in row.items() if k.startswith(ACTION_ITEMS_PREFIX)}
        roles = row.get("roles") or {}
        alerts = {"alerts_firing", "alerts_resolved", "alert_source"}
        special = {"incident_id", "services", "roles", "participants", *counts, *alerts}
        return cls(
            id=row["incident_id"],
            alerts={
                "firing": row.get("alerts_firing") or 0,
                "resolved": row.get("alerts_resolved") or 0,
            },
            source=row.get("alert_source"),
            services=[s for s in row["services"].split(",") if s],
            # In Role order: JSONB keeps object keys in an order of its own.
            roles={r.value: roles[r.value] for r in Role if r.value in roles},
            participants=row.get("participants") or [],
            action_items={k.removeprefix(ACTION_ITEMS_PREFIX): v for k, v in counts.items()},
            time_to_detect_seconds=(row["detected_at"] - row["started_at"]).total_seconds(),
            time_to_acknowledge_seconds=seconds(row["acknowledged_at"], row["detected_at"]),
            time_to_mitigate_seconds=seconds(row.get("mitigated_at"), row["detected_at"]),
            time_to_resolve_seconds=seconds(row["resolved_at"], row["detected_at"]),
            duration_seconds=seconds(row["resolved_at"], row["started_at"]),
            **{k: v for k, v in row.items() if k not in special},
        )


class IncidentPage(BaseModel):
    items: list[IncidentSummary]
    next: str | None = Field(description="Cursor for the next page; null on the last page.")
    next_url: str | None = Field(default=None, description="The next page's URL; null on the last.")


class TimelineEntry(BaseModel):
    id: UUID
    kind: str
    text: str
    actor: str | None
    details: dict[str, Any]
    occurred_at: datetime = Field(description="When it happened in the world.")
    recorded_at: datetime = Field(description="When the service stored it.")
    amended_at: datetime | None
    position: int

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> TimelineEntry:
        return cls(id=row["entry_id"], **{k: v for k, v in row.items() if k != "entry_id"})


class Timeline(BaseModel):
    incident_id: UUID
    entries: list[TimelineEntry]
    next: str | None = Field(default=None, description="Cursor of the next page; null on the last.")
    next_url: str | None = Field(default=None, description="The next page's URL; null on the last.")
