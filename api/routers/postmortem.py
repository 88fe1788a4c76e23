"""The postmortem: edit sections, review, publish, read (JSON or Markdown, live or as of a
past moment), and its audit: history, published revisions, diffs."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Header, HTTPException, Query
from fastapi.responses import Response
from sqlalchemy import Connection

from api.as_of_query import AsOfDep, DecodedStreamsDep, invalid_query
from api.dependencies import ConnectionDep, ServiceDep
from api.negotiation import prefers
from api.routers.common import COMMAND_ERRORS, NOT_FOUND, CommandsDep, found
from api.schemas.audit import (
    DiffSide,
    PostmortemDiff,
    PostmortemHistory,
    PostmortemRevisions,
    PublishedRevision,
    SectionChange,
    SectionDiff,
    StatusChange,
)
from api.schemas.common import CommandResult
from api.schemas.postmortem import (
    ApprovalRequest,
    ChangesRequest,
    DueDateRequest,
    ReviewRequest,
    SectionRequest,
)
from application.publication_proofs import with_proof
from domain import commands as c
from domain.values import Section
from projections.as_of import parse_number, parse_time
from projections.base import Envelope
from projections.documents.postmortem import PostmortemDocument, postmortem_document
from projections.documents.postmortem_markdown import render_postmortem
from projections.postmortem_audit import (
    NoSuchRevision,
    NotDeclared,
    Version,
    postmortem_log_of,
    published_revisions,
    section_changes,
    section_diffs,
    status_changes,
    version_at,
)

router = APIRouter(prefix="/incidents/{incident_id}/postmortem", tags=["postmortem"])

MARKDOWN = "text/markdown"


@router.put(
    "/sections/{section}",
    summary="Write one section (a published postmortem gets a new revision)",
    responses=COMMAND_ERRORS,
)
async def edit_section(
    incident_id: UUID, section: Section, body: SectionRequest, commands: CommandsDep
) -> CommandResult:
    """Replaces one section's text. Editing a published postmortem starts a new draft revision; the
    published one stays readable."""
    command = body.command(incident_id, commands.now(), section=section, editor=commands.actor)
    return await commands.run(command)


@router.post("/review", summary="Send the draft to review", responses=COMMAND_ERRORS)
async def request_review(
    incident_id: UUID, body: ReviewRequest, commands: CommandsDep
) -> CommandResult:
    """Moves the current draft to in_review with its reviewers, the step before it can be
    published. An edit in review clears every verdict given so far."""
    return await commands.run(body.command(incident_id, commands.now()))


@router.post("/approve", summary="Approve the revision in review", responses=COMMAND_ERRORS)
async def approve(
    incident_id: UUID,
    commands: CommandsDep,
    body: Annotated[ApprovalRequest | None, Body()] = None,
) -> CommandResult:
    """The caller (the token's name) must be a reviewer and not the revision's last editor."""
    command = c.ApprovePostmortem(
        incident_id=incident_id,
        at=commands.now(),
        reviewer=commands.actor,
        comment=body.comment if body else None,
    )
    return await commands.run(command)


@router.post(
    "/request-changes",
    summary="Ask for changes to the revision in review",
    responses=COMMAND_ERRORS,
)
async def request_changes(
    incident_id: UUID, body: ChangesRequest, commands: CommandsDep
) -> CommandResult:
    """Publishing waits until this reviewer approves a later text."""
    command = c.RequestPostmortemChanges(
        incident_id=incident_id, at=commands.now(), reviewer=commands.actor, comment=body.comment
    )
    return await commands.run(command)


@router.post("/publish", summary="Publish the approved revision", responses=COMMAND_ERRORS)
async def publish(incident_id: UUID, commands: CommandsDep) -> CommandResult:
    """Publishes the revision in review once a reviewer other than its last editor approved it
    and nobody asks for changes; it becomes the postmortem readers see."""
    return await commands.run(c.PublishPostmortem(incident_id=incident_id, at=commands.now()))


@router.put("/due-date", summary="Set when the postmortem is due", responses=COMMAND_ERRORS)
async def set_due_date(
    incident_id: UUID, body: DueDateRequest, commands: CommandsDep
) -> CommandResult:
    """Without one, a postmortem is due a set number of business days after resolution
    (INCIDENTS_POSTMORTEM_DUE_BUSINESS_DAYS, 5 by default)."""
    return await commands.run(body.command(incident_id, commands.now()))


def _wants_markdown(accept: str | None) -> bool:
    return prefers(accept, MARKDOWN, "the postmortem is")


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
        404: {"description": "No such incident (at as_of), or no such revision"},
        406: {"description": "Neither JSON nor Markdown is acceptable"},
        422: {"description": "revision or as_of is not valid"},
    },
)
def read_postmortem(
    incident_id: UUID,
    conn: ConnectionDep,
    service: ServiceDep,
    as_of: AsOfDep,
    streams: DecodedStreamsDep,
    revision: Annotated[int | None, Query(ge=1, description="Default: the latest.")] = None,
    accept: Annotated[
        str | None,
        Header(description="application/json (the default) or text/markdown for a document."),
    ] = None,
) -> Any:
    """Sections, incident summary, timeline and action items; `Accept: text/markdown` gives the same
    as a Markdown document. `revision` and `as_of` show an earlier one. A published revision
    carries the proof of its publication (`incidents verify-postmortem FILE` checks it)."""
    markdown = _wants_markdown(accept)
    with found():
        doc = postmortem_document(conn, incident_id, revision, service.now(), as_of, streams)
    doc = with_proof(conn, doc)
    if markdown:
        return Response(render_postmortem(doc), media_type=f"{MARKDOWN}; charset=utf-8")
    return doc


# --- audit ---------------------------------------------------------------------------------


def _audited(conn: Connection, incident_id: UUID) -> list[Envelope]:
    """The incident's declaration and postmortem events; 404 for an unknown incident."""
    with found():
        return postmortem_log_of(conn, incident_id)


@router.get(
    "/history",
    summary="Every change: who, when, through which request, before, after and the diff",
    responses=NOT_FOUND,
)
def history(incident_id: UUID, conn: ConnectionDep) -> PostmortemHistory:
    """Every section edit and status change of the postmortem, with the request that made it, the
    text before and after, and the diff."""
    audited = _audited(conn, incident_id)
    return PostmortemHistory(
        incident_id=incident_id,
        changes=[SectionChange.from_row(row) for row in section_changes(audited)],
        status_changes=[StatusChange(**row) for row in status_changes(audited)],
    )


@router.get("/revisions", summary="The published revisions: when and by whom", responses=NOT_FOUND)
def revisions(incident_id: UUID, conn: ConnectionDep) -> PostmortemRevisions:
    """Each published revision, when and by whom; read one with `?revision=`."""
    audited = _audited(conn, incident_id)
    return PostmortemRevisions(
        incident_id=incident_id,
        revisions=[PublishedRevision(**row) for row in published_revisions(audited)],
    )


REFERENCE = (
    "A revision number (that revision's text as it stands) or an RFC 3339 time (the latest"
    " revision's text as the service had recorded it by then; write `+` as `%2B`)."
)


def _side(
    incident_id: UUID, audited: list[Envelope], name: str, reference: str | None
) -> tuple[Version, DiffSide, str]:
    """One side of a diff: its text, its description and its label in the diff headers."""
    if reference is None:
        version = version_at(audited, None, None)
        side = DiffSide(
            reference="latest", revision=version.revision, status=version.status, as_of=None
        )
        return version, side, f"revision-{version.revision}"
    number, at = parse_number(reference), parse_time(reference)
    if number is None and at is None:
        raise invalid_query(
            name, reference, f"{name} must be a revision number or an RFC 3339 time with a timezone"
        )
    if number == 0:
        raise invalid_query(name, reference, "revisions are numbered from 1")
    try:
        version = version_at(audited, number, at)
    except NoSuchRevision:
        raise HTTPException(
            404, f"the postmortem of {incident_id} has no revision {number}"
        ) from None
    except NotDeclared:
        raise HTTPException(
            404, f"incident {incident_id} had not been declared as of {reference}"
        ) from None
    side = DiffSide(reference=reference, revision=version.revision, status=version.status, as_of=at)
    label = f"revision-{version.revision}" if at is None else at.isoformat().replace("+00:00", "Z")
    return version, side, label


@router.get(
    "/diff",
    summary="What changed in each section between two revisions or two moments",
    responses={
        404: {"description": "No such incident or revision, or not declared yet at that time"},
        422: {"description": "from or to is neither a revision number nor an RFC 3339 time"},
    },
)
def diff(
    incident_id: UUID,
    conn: ConnectionDep,
    from_: Annotated[
        str,
        Query(
            alias="from",
            min_length=1,
            max_length=64,
            description=REFERENCE,
            examples=["1", "2026-03-02T10:30:00Z"],
        ),
    ],
    to: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=64,
            description=REFERENCE + " Default: the latest revision as it stands.",
            examples=["2", "2026-03-03T09:00:00Z"],
        ),
    ] = None,
) -> PostmortemDiff:
    """Compares two revisions or two moments (`from`, `to`: a revision number or an RFC 3339 time),
    section by section."""
    audited = _audited(conn, incident_id)
    before, before_side, before_label = _side(incident_id, audited, "from", from_)
    after, after_side, after_label = _side(incident_id, audited, "to", to)
    sections = [
        SectionDiff(**row) for row in section_diffs(before, after, before_label, after_label)
    ]
    return PostmortemDiff(
        incident_id=incident_id,
        from_=before_side,
        to=after_side,
        changed=any(section.changed for section in sections),
        sections=sections,
    )
