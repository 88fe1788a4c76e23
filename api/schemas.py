"""Request and response bodies of the HTTP API (never the database tables themselves)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from application.input_times import RequestTime
from application.text_fields import MultiLine, SingleLine
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
)

ACTION_ITEMS_PREFIX = "action_items_"
"""Summary columns counting action items per status: action_items_open, ..."""


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DeclareIncidentRequest(Body):
    """Declare an incident: what is wrong, how bad, where."""

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
    title: SingleLine[Title] = Field(
        description="A one-line statement of the problem, as responders will search for it."
    )
    severity: Severity = Field(description="How bad it is: SEV1 (worst) to SEV5.")
    services: list[SingleLine[ServiceName]] = Field(
        default_factory=list,
        max_length=50,
        description="The affected services (at most 50), e.g. checkout.",
    )
    summary: MultiLine[str] | None = Field(
        default=None, max_length=10_000, description="What is known so far, in a few sentences."
    )
    started_at: RequestTime | None = Field(
        default=None, description="When the problem began (defaults to detection time)."
    )
    detected_at: RequestTime | None = Field(
        default=None, description="When it was noticed (defaults to now)."
    )


class AcknowledgeRequest(Body):
    """Acknowledge the incident: a responder is on it."""

    occurred_at: RequestTime | None = Field(
        default=None, description="When it was acknowledged (defaults to now)."
    )


class StatusRequest(Body):
    """Move the incident to another status."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "identified"}]})

    status: Status = Field(
        description="The new status: investigating, identified, monitoring, resolved or closed."
    )
    occurred_at: RequestTime | None = Field(
        default=None, description="When the change happened (defaults to now)."
    )


class SeverityRequest(Body):
    """Change how bad the incident is."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"severity": "SEV1", "reason": "All regions affected"}]}
    )

    severity: Severity = Field(description="The new severity: SEV1 (worst) to SEV5.")
    reason: MultiLine[Reason] | None = Field(default=None, description="Why the severity changes.")


class NoteRequest(Body):
    """A note for the incident's timeline."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"text": "Rolled back deploy 4812", "visibility": "internal"}]
        }
    )

    text: MultiLine[NoteText] = Field(description="The note; several lines are fine.")
    occurred_at: RequestTime | None = Field(
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

    text: MultiLine[NoteText] | None = Field(default=None, description="The note's new text.")
    occurred_at: RequestTime | None = Field(
        default=None, description="The note's new time: when the noted fact happened."
    )
    redacted: Literal[True] | None = Field(
        default=None,
        description="true: remove the note's text for good (a placeholder entry stays).",
    )
    reason: MultiLine[Reason] | None = Field(
        default=None, description="With redacted: why the text is removed."
    )

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

    id: UUID = Field(description="The incident's id.")
    version: int = Field(
        description="The incident's version after the command, also its ETag (for If-Match)."
    )
    position: int = Field(
        description="The log position of its last event; as min_position, a read includes it."
    )


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
    """The incident's current state, as its events left it."""

    id: UUID = Field(description="The incident's id.")
    title: str = Field(description="The one-line statement of the problem.")
    status: Status = Field(description="Where the response stands.")
    severity: Severity = Field(description="How bad it is: SEV1 (worst) to SEV5.")
    services: list[str] = Field(description="The affected services.")
    summary: str | None = Field(
        description="What was known when it was declared; null when not given."
    )
    declared_by: str | None = Field(description="The name of the token that declared it.")
    declared_at: datetime = Field(description="When it was declared.")
    started_at: datetime = Field(description="When the problem began.")
    detected_at: datetime = Field(description="When the problem was noticed.")
    acknowledged_at: datetime | None = Field(
        description="When a responder acknowledged it; null until then."
    )
    resolved_at: datetime | None = Field(description="When it was resolved; null until then.")
    closed_at: datetime | None = Field(description="When it was closed; null until then.")
    impact: str | None = Field(
        default=None,
        description="The impact as recorded during the incident; null until described.",
    )
    root_cause: str | None = Field(
        default=None,
        description="The root cause as recorded during the incident; null until described.",
    )
    resolution: str | None = Field(
        default=None, description="How it was resolved, as recorded; null until described."
    )
    mitigated_at: datetime | None = Field(
        default=None, description="When the impact stopped; null until mitigated."
    )
    roles: dict[str, str] = Field(
        default_factory=dict, description="Role -> person, e.g. incident_commander."
    )
    participants: list[str] = Field(default_factory=list, description="In the order they joined.")
    action_items: dict[str, int] = Field(
        default_factory=dict, description="How many action items are in each status."
    )
    postmortem_status: PostmortemStatus = Field(
        default=PostmortemStatus.DRAFT,
        description="Where its postmortem stands: draft, in_review or published.",
    )
    postmortem_revision: int = Field(
        default=1, description="The postmortem's newest revision; editing a published one adds one."
    )
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
    version: int = Field(
        description="The incident's version (also its ETag): the number of its events."
    )
    last_position: int = Field(description="The log position of its newest event.")
    updated_at: datetime = Field(description="When its newest event was recorded.")

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
    """A page of incident summaries, newest first."""

    items: list[IncidentSummary] = Field(description="The incidents on this page.")
    next: str | None = Field(description="Cursor for the next page; null on the last page.")
    next_url: str | None = Field(default=None, description="The next page's URL; null on the last.")


class TimelineEntry(BaseModel):
    """One entry of the timeline: a lifecycle moment, a note, an alert."""

    id: UUID = Field(description="The entry's id; a note's id is its entry's id.")
    kind: str = Field(
        description="What the entry records, e.g. declared, acknowledged, note, alert."
    )
    text: str = Field(description="The entry as a sentence.")
    actor: str | None = Field(
        description="Who made it happen: a token's name; null for derived entries."
    )
    details: dict[str, Any] = Field(
        description="The entry's facts as fields, by kind (for example the new status)."
    )
    occurred_at: datetime = Field(description="When it happened in the world.")
    recorded_at: datetime = Field(description="When the service stored it.")
    amended_at: datetime | None = Field(
        description="When a note was last amended; null when never."
    )
    position: int = Field(description="The log position of the event behind the entry.")

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> TimelineEntry:
        return cls(id=row["entry_id"], **{k: v for k, v in row.items() if k != "entry_id"})


class Timeline(BaseModel):
    """The incident's timeline, oldest first, one page at a time."""

    incident_id: UUID = Field(description="The incident's id.")
    entries: list[TimelineEntry] = Field(description="The entries on this page, oldest first.")
    next: str | None = Field(default=None, description="Cursor of the next page; null on the last.")
    next_url: str | None = Field(default=None, description="The next page's URL; null on the last.")
