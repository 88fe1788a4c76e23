"""The postmortem: edit sections, review, publish, read (JSON or Markdown), and its history."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Header, HTTPException, Query
from fastapi.responses import Response

from api.dependencies import CommandDep, ConnectionDep, ServiceDep
from api.markdown import render_postmortem
from api.routers.common import COMMAND_ERRORS, NOT_FOUND, require_summary, result
from api.schemas import CommandResult, IncidentSummary, TimelineEntry
from api.schemas_examples import POSTMORTEM_HISTORY, answers
from api.schemas_postmortem import (
    ActionItem,
    PostmortemDocument,
    PostmortemHistory,
    SectionChange,
    SectionRequest,
)
from domain import commands as c
from domain.values import Section
from projections.action_items import list_action_items
from projections.postmortem import get_history, get_postmortem
from projections.timeline import get_timeline

router = APIRouter(prefix="/incidents/{incident_id}/postmortem", tags=["postmortem"])

MARKDOWN = "text/markdown"
BOOKKEEPING = ("postmortem_", "action_item_")
"""Timeline kinds about writing the postmortem itself, left out of the document's timeline."""


@router.put(
    "/sections/{section}",
    summary="Write one section (a published postmortem gets a new revision)",
    responses=COMMAND_ERRORS,
)
def edit_section(
    incident_id: UUID,
    section: Section,
    body: SectionRequest,
    service: ServiceDep,
    ctx: CommandDep,
    response: Response,
) -> CommandResult:
    command = c.EditPostmortemSection(
        incident_id=incident_id, at=service.now(), section=section, text=body.text
    )
    return result(service.execute(command, ctx), response)


@router.post("/review", summary="Send the draft to review", responses=COMMAND_ERRORS)
def request_review(
    incident_id: UUID, service: ServiceDep, ctx: CommandDep, response: Response
) -> CommandResult:
    command = c.RequestPostmortemReview(incident_id=incident_id, at=service.now())
    return result(service.execute(command, ctx), response)


@router.post("/publish", summary="Publish the reviewed revision", responses=COMMAND_ERRORS)
def publish(
    incident_id: UUID, service: ServiceDep, ctx: CommandDep, response: Response
) -> CommandResult:
    command = c.PublishPostmortem(incident_id=incident_id, at=service.now())
    return result(service.execute(command, ctx), response)


def _empty_draft(incident_id: UUID) -> dict[str, Any]:
    """What an incident's postmortem is before anyone wrote a word of it."""
    return {
        "incident_id": incident_id,
        "revision": 1,
        "status": "draft",
        "published_at": None,
        "published_by": None,
        "review_requested_at": None,
        "sections": {},
        "latest_revision": 1,
        "published_revisions": [],
    }


def _quality(accept: str, media_type: str) -> float:
    """The q-value ``accept`` gives ``media_type`` (0 when it is not acceptable)."""
    best = 0.0
    kind = media_type.split("/")[0]
    for part in accept.split(","):
        name, *params = (p.strip() for p in part.split(";"))
        if name.lower() not in (media_type, f"{kind}/*", "*/*"):
            continue
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        best = max(best, q)
    return best


def _wants_markdown(accept: str | None) -> bool:
    if not accept:
        return False
    markdown, json = _quality(accept, MARKDOWN), _quality(accept, "application/json")
    if markdown == 0 and json == 0:
        raise HTTPException(406, f"the postmortem is served as application/json or {MARKDOWN}")
    return markdown > json


@router.get(
    "",
    summary="The postmortem, as JSON or (Accept: text/markdown) as a Markdown document",
    response_model=PostmortemDocument,
    responses={
        200: {
            "content": {
                MARKDOWN: {
                    "example": "# Postmortem: Checkout returns 502\n\nRevision 1 · published ..."
                }
            }
        },
        404: {"description": "No such incident, or no such revision"},
        406: {"description": "Neither JSON nor Markdown is acceptable"},
    },
)
def read_postmortem(
    incident_id: UUID,
    conn: ConnectionDep,
    service: ServiceDep,
    revision: Annotated[int | None, Query(ge=1, description="Default: the latest.")] = None,
    accept: Annotated[str | None, Header()] = None,
) -> Any:
    markdown = _wants_markdown(accept)
    summary = require_summary(conn, incident_id)
    postmortem = get_postmortem(conn, incident_id, revision)
    if postmortem is None:
        if revision not in (None, 1) or get_postmortem(conn, incident_id) is not None:
            raise HTTPException(404, f"the postmortem of {incident_id} has no revision {revision}")
        postmortem = _empty_draft(incident_id)
    today = service.now().date()
    entries = [
        TimelineEntry.from_row(row)
        for row in get_timeline(conn, incident_id)
        if not row["kind"].startswith(BOOKKEEPING)
    ]
    items = list_action_items(conn, incident_id=incident_id, today=today, limit=10_000)
    document = PostmortemDocument(
        title=summary["title"],
        incident=IncidentSummary.from_row(summary),
        timeline=entries,
        action_items=[ActionItem.from_row(row, today) for row in items],
        **postmortem,
    )
    if markdown:
        return Response(render_postmortem(document), media_type=f"{MARKDOWN}; charset=utf-8")
    return document


@router.get(
    "/history",
    summary="Every section change: who, when, before and after",
    responses={**NOT_FOUND, **answers(POSTMORTEM_HISTORY)},
)
def history(incident_id: UUID, conn: ConnectionDep) -> PostmortemHistory:
    require_summary(conn, incident_id)
    changes = [SectionChange.from_row(row) for row in get_history(conn, incident_id)]
    return PostmortemHistory(incident_id=incident_id, changes=changes)
