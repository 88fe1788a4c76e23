"""Issue-summary facts of an incident: impact, root cause, resolution, mitigation, people, services."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from uuid import UUID

from fastapi import APIRouter
from pydantic.alias_generators import to_snake

from api.routers.common import COMMAND_ERRORS, CommandsDep, OptionalBody
from api.schemas.common import CommandBody, CommandResult
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

DESCRIPTIONS: dict[type[CommandBody], str] = {
    ImpactRequest: "Records who and what was affected, as known during the incident; shown in its summary.",
    RootCauseRequest: "Records why it happened, as known during the incident; shown in its summary.",
    ResolutionRequest: "Records what ended the incident, as known during it; shown in its summary.",
    RoleRequest: "Gives a person a role (incident commander, communications lead, scribe), replacing its previous holder.",
    ParticipantRequest: "Adds a person to the incident's participants, kept in the order they joined.",
    ServicesRequest: "Replaces the incident's list of affected services with the one given.",
}
"""What the OpenAPI document says each route does, by the body it takes."""


def _run_body(body_type: type[CommandBody]) -> Callable[..., Awaitable[CommandResult]]:
    """The route that runs the command its body asks for, named after the command."""

    async def route(incident_id: UUID, body: CommandBody, commands: CommandsDep) -> CommandResult:
        return await commands.run(body.command(incident_id, commands.now()))

    # FastAPI reads the body's model from the annotation, so each route documents its own.
    route.__annotations__["body"] = body_type
    route.__name__ = route.__qualname__ = to_snake(body_type.command_type.__name__)
    route.__doc__ = DESCRIPTIONS[body_type]
    return route


async def mitigate(
    incident_id: UUID, commands: CommandsDep, body: OptionalBody[MitigateRequest] = None
) -> CommandResult:
    """Records when the impact stopped, before the cause is fixed (time to mitigate)."""
    return await commands.run((body or MitigateRequest()).command(incident_id, commands.now()))


ROUTES: tuple[tuple[str, str, str, Callable[..., Awaitable[CommandResult]]], ...] = (
    ("POST", "/impact", "Describe the impact", _run_body(ImpactRequest)),
    ("POST", "/root-cause", "Describe the root cause", _run_body(RootCauseRequest)),
    ("POST", "/resolution", "Describe how it was resolved", _run_body(ResolutionRequest)),
    ("POST", "/mitigate", "Record that the impact stopped", mitigate),
    (
        "POST",
        "/roles",
        "Assign a role (incident commander, communications lead, scribe)",
        _run_body(RoleRequest),
    ),
    ("POST", "/participants", "Add a participant to the response", _run_body(ParticipantRequest)),
    ("PUT", "/services", "Replace the affected services", _run_body(ServicesRequest)),
)
"""Method, path, summary and route of each fact: a route's name is its operation id's start."""

for method, path, summary, endpoint in ROUTES:
    router.add_api_route(path, endpoint, methods=[method], summary=summary)
