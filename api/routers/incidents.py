"""Incident commands and the summary and timeline read models."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, HTTPException, Query, Request, Response, status

from api.cursor import (
    decode_cursor,
    decode_timeline_cursor,
    encode_cursor,
    encode_timeline_cursor,
    next_link,
)
from api.dependencies import CommandDep, ConnectionDep, ServiceDep
from api.json_documents import dump_json, timeline_entry_json
from api.routers.common import result
from api.schemas import (
    AcknowledgeRequest,
    CommandResult,
    DeclareIncidentRequest,
    IncidentPage,
    IncidentSummary,
    NoteCreated,
    NoteRequest,
    SeverityRequest,
    StatusRequest,
    Timeline,
    TimelinePatch,
)
from api.schemas_examples import INCIDENT_PAGE, INCIDENT_SUMMARY, TIMELINE, answers
from api.time_travel import AsOfDep, replay
from application.input_times import QueryTime
from application.text_fields import SingleLine
from domain import commands as c
from domain.values import Severity, Status
from projections.as_of import summary_row, timeline_rows
from projections.summary import get_summary, list_summaries
from projections.timeline import get_timeline

router = APIRouter(prefix="/incidents", tags=["incidents"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such incident"}}
COMMAND_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such incident or entry"},
    409: {"description": "Concurrent change; retry"},
    422: {"description": "Invalid input or a broken rule"},
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Declare an incident",
    responses={409: {"description": "An incident with this id exists"}, 422: {}},
)
def declare(
    body: DeclareIncidentRequest, service: ServiceDep, ctx: CommandDep, response: Response
) -> CommandResult:
    """Starts a new incident's event stream; `Location` names the new incident. A client-chosen `id`
    or an `Idempotency-Key` keeps a retry from declaring it twice."""
    command = c.DeclareIncident(
        incident_id=body.id or ctx.new_id("incident"),
        at=service.now(),
        title=body.title,
        severity=body.severity,
        services=tuple(body.services),
        summary=body.summary,
        started_at=body.started_at,
        detected_at=body.detected_at,
    )
    outcome = service.execute(command, ctx)
    response.headers["Location"] = f"/incidents/{outcome.incident_id}"
    return result(outcome, response)


@router.get("", summary="List incident summaries, newest first", responses=answers(INCIDENT_PAGE))
def list_incidents(
    conn: ConnectionDep,
    request: Request,
    status_: Annotated[
        Status | None, Query(alias="status", description="Only incidents in this status.")
    ] = None,
    severity: Annotated[
        Severity | None, Query(description="Only incidents of this severity.")
    ] = None,
    service: Annotated[
        SingleLine[str] | None,
        Query(max_length=100, description="Only incidents that affect this service."),
    ] = None,
    declared_after: Annotated[
        QueryTime | None, Query(description="Only incidents declared after this RFC 3339 time.")
    ] = None,
    declared_before: Annotated[
        QueryTime | None, Query(description="Only incidents declared before this RFC 3339 time.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> IncidentPage:
    """Filter by status, severity, service and declaration time; page with `cursor` (the previous
    page's `next`)."""
    rows = list_summaries(
        conn,
        limit=limit + 1,
        status=status_.value if status_ else None,
        severity=severity.value if severity else None,
        service=service,
        declared_after=declared_after,
        declared_before=declared_before,
        before=decode_cursor(cursor) if cursor else None,
    )
    page = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        last = page[-1]
        next_cursor = encode_cursor(last["declared_at"], last["incident_id"])
    return IncidentPage(
        items=[IncidentSummary.from_row(r) for r in page],
        next=next_cursor,
        next_url=next_link(request, next_cursor),
    )


@router.get(
    "/{incident_id}",
    summary="The incident's summary",
    responses={**NOT_FOUND, **answers(INCIDENT_SUMMARY)},
)
def get_incident(
    incident_id: UUID, conn: ConnectionDep, response: Response, as_of: AsOfDep
) -> IncidentSummary:
    """Its current state from the read model, or as it was at a past log position or time with
    `as_of`. The `ETag` is its version, for `If-Match` on a command."""
    if as_of is None:
        row = get_summary(conn, incident_id)
    else:
        row = summary_row(replay(conn, incident_id, as_of))
    if row is None:
        raise HTTPException(404, f"incident {incident_id} does not exist")
    # The version the summary reflects: send it back as If-Match to change this state only.
    response.headers["ETag"] = f'"{row["version"]}"'
    return IncidentSummary.from_row(row)


@router.post(
    "/{incident_id}/acknowledge", summary="Acknowledge the incident", responses=COMMAND_ERRORS
)
def acknowledge(
    incident_id: UUID,
    service: ServiceDep,
    ctx: CommandDep,
    response: Response,
    body: Annotated[AcknowledgeRequest | None, Body()] = None,
) -> CommandResult:
    """Records that a responder is on it; `occurred_at` back-dates the moment."""
    command = c.AcknowledgeIncident(
        incident_id=incident_id, at=service.now(), occurred_at=body.occurred_at if body else None
    )
    return result(service.execute(command, ctx), response)


@router.post("/{incident_id}/status", summary="Change the status", responses=COMMAND_ERRORS)
def change_status(
    incident_id: UUID, body: StatusRequest, service: ServiceDep, ctx: CommandDep, response: Response
) -> CommandResult:
    """Moves the incident to investigating, identified, monitoring, resolved or closed;
    `occurred_at` back-dates the change."""
    command = c.ChangeStatus(
        incident_id=incident_id, at=service.now(), status=body.status, occurred_at=body.occurred_at
    )
    return result(service.execute(command, ctx), response)


@router.post("/{incident_id}/severity", summary="Change the severity", responses=COMMAND_ERRORS)
def change_severity(
    incident_id: UUID,
    body: SeverityRequest,
    service: ServiceDep,
    ctx: CommandDep,
    response: Response,
) -> CommandResult:
    """Records the new severity and, optionally, why."""
    command = c.ChangeSeverity(
        incident_id=incident_id, at=service.now(), severity=body.severity, reason=body.reason
    )
    return result(service.execute(command, ctx), response)


@router.post(
    "/{incident_id}/notes",
    status_code=status.HTTP_201_CREATED,
    summary="Add a note to the timeline",
    responses=COMMAND_ERRORS,
)
def add_note(
    incident_id: UUID,
    body: NoteRequest,
    service: ServiceDep,
    ctx: CommandDep,
    response: Response,
) -> NoteCreated:
    """Appends a note to the timeline; the answer carries the note's id, also its entry's id."""
    note_id = ctx.new_id("note")
    command = c.AddNote(
        incident_id=incident_id,
        at=service.now(),
        note_id=note_id,
        text=body.text,
        occurred_at=body.occurred_at,
        visibility=body.visibility,
    )
    outcome = service.execute(command, ctx)
    response.headers["Location"] = f"/incidents/{incident_id}/timeline/{note_id}"
    return NoteCreated(note_id=note_id, **result(outcome, response).model_dump())


@router.patch(
    "/{incident_id}/timeline/{entry_id}",
    summary="Amend or redact a timeline note",
    responses=COMMAND_ERRORS,
)
def patch_entry(
    incident_id: UUID,
    entry_id: UUID,
    body: TimelinePatch,
    service: ServiceDep,
    ctx: CommandDep,
    response: Response,
) -> CommandResult:
    """Amends a note's text or time, or redacts it for good with a reason; the timeline keeps a
    placeholder entry."""
    command: c.Command
    if body.redacted:
        assert body.reason is not None  # checked by TimelinePatch
        command = c.RedactNote(
            incident_id=incident_id, at=service.now(), note_id=entry_id, reason=body.reason
        )
    else:
        command = c.AmendNote(
            incident_id=incident_id,
            at=service.now(),
            note_id=entry_id,
            text=body.text,
            occurred_at=body.occurred_at,
        )
    return result(service.execute(command, ctx), response)


@router.get(
    "/{incident_id}/timeline",
    summary="The reconstructed timeline",
    response_model=Timeline,
    responses={**NOT_FOUND, **answers(TIMELINE)},
)
def timeline(
    incident_id: UUID,
    conn: ConnectionDep,
    request: Request,
    as_of: AsOfDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 500,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """Every lifecycle moment, note and alert, oldest first, one page at a time; `as_of` shows it as
    it was then."""
    after = decode_timeline_cursor(cursor) if cursor else None
    if as_of is None:
        rows = get_timeline(conn, incident_id, limit=limit + 1, after=after)
    else:
        rows = timeline_rows(replay(conn, incident_id, as_of), limit=limit + 1, after=after)
    if not rows and get_summary(conn, incident_id) is None:
        raise HTTPException(404, f"incident {incident_id} does not exist")
    page = rows[:limit]
    token = None
    if len(rows) > limit:
        token = encode_timeline_cursor(page[-1]["occurred_at"], page[-1]["position"])
    # The read model's rows have the response's types already, so a page goes straight
    # to JSON: validating 500 entries into models and FastAPI validating them again
    # against the response model would cost more than reading them.
    document = {
        "incident_id": incident_id,
        "entries": [timeline_entry_json(r) for r in page],
        "next": token,
        "next_url": next_link(request, token),
    }
    return Response(dump_json(document), media_type="application/json")
