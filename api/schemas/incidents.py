"""Bodies of the incident routes: declare, acknowledge, status, severity; pages of summaries."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import CommandBody
from application.input_times import RequestTime
from application.text_fields import MultiLine, SingleLine
from domain import commands as c
from domain.values import (
    IncidentKind,
    LabelKey,
    LabelValue,
    Reason,
    ServiceName,
    Severity,
    Status,
    Title,
)
from projections.documents.incident import IncidentSummary


class DeclareIncidentRequest(CommandBody):
    """Declare an incident: what is wrong, how bad, where."""

    command_type = c.DeclareIncident

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
    labels: dict[LabelKey, LabelValue] = Field(
        default_factory=dict,
        max_length=50,
        description='Labels to start with, e.g. {"team": "payments", "env": "prod"}.',
    )
    kind: IncidentKind = Field(
        default=IncidentKind.INCIDENT,
        description="incident (default), drill, maintenance or false_alarm.",
    )


class AcknowledgeRequest(CommandBody):
    """Acknowledge the incident: a responder is on it."""

    command_type = c.AcknowledgeIncident

    occurred_at: RequestTime | None = Field(
        default=None, description="When it was acknowledged (defaults to now)."
    )


class StatusRequest(CommandBody):
    """Move the incident to another status."""

    command_type = c.ChangeStatus

    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "identified"}]})

    status: Status = Field(
        description="The new status: investigating, identified, monitoring, resolved or closed."
    )
    occurred_at: RequestTime | None = Field(
        default=None, description="When the change happened (defaults to now)."
    )


class SeverityRequest(CommandBody):
    """Change how bad the incident is."""

    command_type = c.ChangeSeverity

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"severity": "SEV1", "reason": "All regions affected"}]}
    )

    severity: Severity = Field(description="The new severity: SEV1 (worst) to SEV5.")
    reason: MultiLine[Reason] | None = Field(default=None, description="Why the severity changes.")


class IncidentPage(BaseModel):
    """A page of incident summaries, newest first."""

    items: list[IncidentSummary] = Field(description="The incidents on this page.")
    next: str | None = Field(description="Cursor for the next page; null on the last page.")
    next_url: str | None = Field(default=None, description="The next page's URL; null on the last.")
