"""Issue-summary facts of an incident: impact, root cause, resolution, mitigation, people, services."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body

from api.routers.common import COMMAND_ERRORS, CommandsDep
from api.schemas.common import CommandResult
from api.schemas.facts import (
    ImpactRequest,
    MitigateRequest,
    ParticipantRequest,
    ResolutionRequest,
    RoleRequest,
    RootCauseRequest,
    ServicesRequest,
)

# The tag predates this module's name: clients and the OpenAPI document know it as lifecycle.
router = APIRouter(prefix="/incidents/{incident_id}", tags=["lifecycle"], responses=COMMAND_ERRORS)


@router.post("/impact", summary="Describe the impact")
def update_impact(incident_id: UUID, body: ImpactRequest, commands: CommandsDep) -> CommandResult:
    """Records who and what was affected, as known during the incident; shown in its summary."""
    return commands.run(body.command(incident_id, commands.now()))


@router.post("/root-cause", summary="Describe the root cause")
def update_root_cause(
    incident_id: UUID, body: RootCauseRequest, commands: CommandsDep
) -> CommandResult:
    """Records why it happened, as known during the incident; shown in its summary."""
    return commands.run(body.command(incident_id, commands.now()))


@router.post("/resolution", summary="Describe how it was resolved")
def update_resolution(
    incident_id: UUID, body: ResolutionRequest, commands: CommandsDep
) -> CommandResult:
    """Records what ended the incident, as known during it; shown in its summary."""
    return commands.run(body.command(incident_id, commands.now()))


@router.post("/mitigate", summary="Record that the impact stopped")
def mitigate(
    incident_id: UUID,
    commands: CommandsDep,
    body: Annotated[MitigateRequest | None, Body()] = None,
) -> CommandResult:
    """Records when the impact stopped, before the cause is fixed (time to mitigate)."""
    return commands.run((body or MitigateRequest()).command(incident_id, commands.now()))


@router.post("/roles", summary="Assign a role (incident commander, communications lead, scribe)")
def assign_role(incident_id: UUID, body: RoleRequest, commands: CommandsDep) -> CommandResult:
    """Gives a person a role (incident commander, communications lead, scribe), replacing its
    previous holder."""
    return commands.run(body.command(incident_id, commands.now()))


@router.post("/participants", summary="Add a participant to the response")
def add_participant(
    incident_id: UUID, body: ParticipantRequest, commands: CommandsDep
) -> CommandResult:
    """Adds a person to the incident's participants, kept in the order they joined."""
    return commands.run(body.command(incident_id, commands.now()))


@router.put("/services", summary="Replace the affected services")
def change_services(
    incident_id: UUID, body: ServicesRequest, commands: CommandsDep
) -> CommandResult:
    """Replaces the incident's list of affected services with the one given."""
    return commands.run(body.command(incident_id, commands.now()))
