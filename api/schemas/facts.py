"""Bodies of the incident-fact routes: impact, root cause, resolution, mitigation, roles,
participants and affected services."""

from __future__ import annotations

from pydantic import Field

from api.schemas.common import CommandBody, examples
from application.input_times import RequestTime
from application.text_fields import MultiLine, SingleLine
from domain import commands as c
from domain.values import LongText, Person, Role, ServiceName


class ImpactRequest(CommandBody):
    """Record the incident's impact."""

    command_type = c.UpdateImpact

    model_config = examples({"impact": "30% of checkouts failed with HTTP 502 for 42 minutes"})

    impact: MultiLine[LongText] = Field(
        description="Who and what was affected, how much and for how long."
    )


class RootCauseRequest(CommandBody):
    """Record the incident's root cause."""

    command_type = c.UpdateRootCause

    model_config = examples({"root_cause": "Deploy 4812 halved the payments connection pool"})

    root_cause: MultiLine[LongText] = Field(description="Why it happened.")


class ResolutionRequest(CommandBody):
    """Record how the incident was resolved."""

    command_type = c.UpdateResolution

    model_config = examples({"resolution": "Rolled back deploy 4812"})

    resolution: MultiLine[LongText] = Field(description="What was done to end it.")


class MitigateRequest(CommandBody):
    """Record that the impact stopped, before the incident is resolved."""

    command_type = c.MarkMitigated

    model_config = examples({"occurred_at": "2026-03-02T10:42:00Z"}, {})

    occurred_at: RequestTime | None = Field(
        default=None, description="When the impact stopped (defaults to now)."
    )


class RoleRequest(CommandBody):
    """Give a person a role in the response."""

    command_type = c.AssignRole

    model_config = examples({"role": "incident_commander", "person": "alice"})

    role: Role = Field(description="The role: incident_commander, communications_lead or scribe.")
    person: SingleLine[Person] = Field(description="Who takes the role.")


class ParticipantRequest(CommandBody):
    """Add a person to the response."""

    command_type = c.AddParticipant

    model_config = examples({"person": "bob"})

    person: SingleLine[Person] = Field(description="Who joins.")


class ServicesRequest(CommandBody):
    """Replace the list of affected services."""

    command_type = c.ChangeServices

    model_config = examples({"services": ["checkout", "payments"]})

    services: list[SingleLine[ServiceName]] = Field(
        max_length=50, description="Replaces the affected services."
    )
