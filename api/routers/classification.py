"""Labels, kind and relations of an incident: how incidents are compared and linked."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, HTTPException, Path
from starlette.concurrency import run_in_threadpool

from api.dependencies import ConnectionDep
from api.routers.common import COMMAND_ERRORS, NOT_FOUND, CommandsDep, require_summary
from api.schemas.classification import KindRequest, LabelsRequest, RelationRequest
from api.schemas.common import CommandResult
from api.schemas.examples import RELATIONS, answers
from application.summary_documents import relation_documents
from domain import commands as c
from domain.values import LabelKey
from projections.documents.incident import Relation

router = APIRouter(prefix="/incidents/{incident_id}", tags=["classification"])


@router.post("/labels", summary="Set and remove labels", responses=COMMAND_ERRORS)
async def change_labels(
    incident_id: UUID, body: LabelsRequest, commands: CommandsDep
) -> CommandResult:
    """Sets each label in `labels` (adding it or giving it a new value) and removes each key in
    `removed`, as one change. Labels group incidents in insights (`group_by=label:team`)."""
    return await commands.run(body.command(incident_id, commands.now()))


@router.delete("/labels/{key}", summary="Remove one label", responses=COMMAND_ERRORS)
async def remove_label(
    incident_id: UUID,
    key: Annotated[LabelKey, Path(description="The label's key, e.g. team.")],
    commands: CommandsDep,
) -> CommandResult:
    """Removes one label; 422 when the incident has no such label."""
    command = c.ChangeLabels(incident_id=incident_id, at=commands.now(), removed=(key,))
    return await commands.run(command)


@router.post("/kind", summary="Say what kind of incident it was", responses=COMMAND_ERRORS)
async def change_kind(incident_id: UUID, body: KindRequest, commands: CommandsDep) -> CommandResult:
    """A drill, maintenance or false alarm stays out of insights unless asked for."""
    return await commands.run(body.command(incident_id, commands.now()))


@router.post("/relations", summary="Relate it to another incident", responses=COMMAND_ERRORS)
async def relate(incident_id: UUID, body: RelationRequest, commands: CommandsDep) -> CommandResult:
    """Recorded in this incident's stream and shown on both incidents' summaries and timelines.
    A `duplicate_of` incident counts once in insights: as the other one."""
    other = await run_in_threadpool(commands.service.load, body.other_incident_id)
    if not other.exists:
        raise HTTPException(
            422, f"other_incident_id: incident {body.other_incident_id} does not exist"
        )
    return await commands.run(body.command(incident_id, commands.now()))


@router.delete(
    "/relations/{other_incident_id}",
    summary="Remove the relation this incident recorded",
    responses=COMMAND_ERRORS,
)
async def unrelate(
    incident_id: UUID,
    other_incident_id: Annotated[UUID, Path(description="The other incident.")],
    commands: CommandsDep,
) -> CommandResult:
    """Only the incident that recorded a relation can withdraw it."""
    command = c.UnrelateIncident(
        incident_id=incident_id, at=commands.now(), other_incident_id=other_incident_id
    )
    return await commands.run(command)


@router.get(
    "/relations",
    summary="Incidents it relates to, recorded by either side",
    responses={**NOT_FOUND, **answers(RELATIONS)},
)
def relations(incident_id: UUID, conn: ConnectionDep) -> list[Relation]:
    """Each relation as this incident reads it: one another incident recorded against this one
    shows inverted (duplicated_by, caused)."""
    require_summary(conn, incident_id)
    return relation_documents(conn, incident_id)
