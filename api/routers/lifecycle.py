"""Issue-summary facts of an incident: impact, root cause, resolution, mitigation, people, services."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Response

from api.dependencies import CommandDep, ServiceDep
from api.routers.common import COMMAND_ERRORS, result
from api.schemas import CommandResult
from api.schemas_postmortem import (
    ImpactRequest,
    MitigateRequest,
    ParticipantRequest,
    ResolutionRequest,
    RoleRequest,
    RootCauseRequest,
    ServicesRequest,
)
from domain import commands as c

router = APIRouter(prefix="/incidents/{incident_id}", tags=["lifecycle"], responses=COMMAND_ERRORS)


@router.post("/impact", summary="Describe the impact")
def update_impact(
    incident_id: UUID, body: ImpactRequest, service: ServiceDep, ctx: CommandDep, response: Response
) -> CommandResult:
    """Records who and what was affected, as known during the incident; shown in its summary."""
    command = c.UpdateImpact(incident_id=incident_id, at=service.now(), impact=body.impact)
    return result(service.execute(command, ctx), response)


@router.post("/root-cause", summary="Describe the root cause")
def update_root_cause(
    incident_id: UUID,
    body: RootCauseRequest,
    service: ServiceDep,
    ctx: CommandDep,
    response: Response,
) -> CommandResult:
    """Records why it happened, as known during the incident; shown in its summary."""
    command = c.UpdateRootCause(
        incident_id=incident_id, at=service.now(), root_cause=body.root_cause
    )
    return result(service.execute(command, ctx), response)


@router.post("/resolution", summary="Describe how it was resolved")
def update_resolution(
    incident_id: UUID,
    body: ResolutionRequest,
    service: ServiceDep,
    ctx: CommandDep,
    response: Response,
) -> CommandResult:
    """Records what ended the incident, as known during it; shown in its summary."""
    command = c.UpdateResolution(
        incident_id=incident_id, at=service.now(), resolution=body.resolution
    )
    return result(service.execute(command, ctx), response)


@router.post("/mitigate", summary="Record that the impact stopped")
def mitigate(
    incident_id: UUID,
    service: ServiceDep,
    ctx: CommandDep,
    response: Response,
    body: Annotated[MitigateRequest | None, Body()] = None,
) -> CommandResult:
    """Records when the impact stopped, before the cause is fixed (time to mitigate)."""
    command = c.MarkMitigated(
        incident_id=incident_id, at=service.now(), occurred_at=body.occurred_at if body else None
    )
    return result(service.execute(command, ctx), response)


@router.post("/roles", summary="Assign a role (incident commander, communications lead, scribe)")
def assign_role(
    incident_id: UUID, body: RoleRequest, service: ServiceDep, ctx: CommandDep, response: Response
) -> CommandResult:
    """Gives a person a role (incident commander, communications lead, scribe), replacing its
    previous holder."""
    command = c.AssignRole(
        incident_id=incident_id, at=service.now(), role=body.role, person=body.person
    )
    return result(service.execute(command, ctx), response)


@router.post("/participants", summary="Add a participant to the response")
def add_participant(
    incident_id: UUID,
    body: ParticipantRequest,
    service: ServiceDep,
    ctx: CommandDep,
    response: Response,
) -> CommandResult:
    """Adds a person to the incident's participants, kept in the order they joined."""
    command = c.AddParticipant(incident_id=incident_id, at=service.now(), person=body.person)
    return result(service.execute(command, ctx), response)


@router.put("/services", summary="Replace the affected services")
def change_services(
    incident_id: UUID,
    body: ServicesRequest,
    service: ServiceDep,
    ctx: CommandDep,
    response: Response,
) -> CommandResult:
    """Replaces the incident's list of affected services with the one given."""
    command = c.ChangeServices(
        incident_id=incident_id, at=service.now(), services=tuple(body.services)
    )
    return result(service.execute(command, ctx), response)
