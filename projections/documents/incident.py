"""The incident summary document: the incident's current state, as its events left it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from domain.values import IncidentKind, PostmortemStatus, Role, Severity, Status

ACTION_ITEMS_PREFIX = "action_items_"
"""Summary columns counting action items per status: action_items_open, ..."""


class Relation(BaseModel):
    """A relation between this incident and another, as this incident reads it."""

    incident_id: UUID = Field(description="The other incident.")
    relation: str = Field(
        description="duplicate_of, related_to or caused_by when this incident recorded it;"
        " duplicated_by, related_to or caused when the other one did."
    )
    recorded_by_this: bool = Field(description="Whether this incident's stream records it.")
    actor: str | None = Field(default=None, description="Who recorded it.")
    recorded_at: datetime = Field(description="When it was recorded.")


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
    labels: dict[str, str] = Field(
        default_factory=dict, description="Labels, e.g. team=payments, env=prod."
    )
    kind: IncidentKind = Field(
        default=IncidentKind.INCIDENT,
        description="incident, drill, maintenance or false_alarm; only incidents count in"
        " insights unless asked.",
    )
    relations: list[Relation] = Field(
        default_factory=list,
        description="Incidents this one relates to, recorded by either of them (live reads"
        " only: an as_of read leaves it empty).",
    )
    postmortem_due_date: date | None = Field(
        default=None,
        description="When the postmortem is due: its own due date, or the default number of"
        " business days after resolution; null while unresolved without a due date.",
    )
    postmortem_overdue: bool = Field(
        default=False, description="Due before today and not published."
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
        """The document of a row of the summary read model, live or replayed."""

        def seconds(end: datetime | None, start: datetime | None) -> float | None:
            return (end - start).total_seconds() if end and start else None

        counts = {k: v for k, v in row.items() if k.startswith(ACTION_ITEMS_PREFIX)}
        roles = row.get("roles") or {}
        alerts = {"alerts_firing", "alerts_resolved", "alert_source"}
        special = {
            "incident_id",
            "services",
            "roles",
            "participants",
            "labels",
            "labels_text",
            *counts,
            *alerts,
        }
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
            labels=dict(sorted((row.get("labels") or {}).items())),
            action_items={k.removeprefix(ACTION_ITEMS_PREFIX): v for k, v in counts.items()},
            time_to_detect_seconds=(row["detected_at"] - row["started_at"]).total_seconds(),
            time_to_acknowledge_seconds=seconds(row["acknowledged_at"], row["detected_at"]),
            time_to_mitigate_seconds=seconds(row.get("mitigated_at"), row["detected_at"]),
            time_to_resolve_seconds=seconds(row["resolved_at"], row["detected_at"]),
            duration_seconds=seconds(row["resolved_at"], row["started_at"]),
            **{k: v for k, v in row.items() if k not in special},
        )
