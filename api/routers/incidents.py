"""Incident commands and the summary and timeline read models."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response, status

from api.as_of_query import AsOfDep, DecodedStreamsDep
from api.cursor import SUMMARIES_CURSOR, TIMELINE_CURSOR, next_link
from api.dependencies import ConnectionDep
from api.json_documents import dump_json, timeline_entry_json
from api.routers.common import COMMAND_ERRORS, NOT_FOUND, CommandsDep, OptionalBody, found
from api.schemas.alert_redaction import AlertTextRedaction
from api.schemas.common import CommandResult
from api.schemas.examples import INCIDENT_PAGE, TIMELINE, answers
from api.schemas.incidents import (
    AcknowledgeRequest,
    DeclareIncidentRequest,
    IncidentPage,
    SeverityRequest,
    StatusRequest,
)
from api.schemas.label_filter import LabelFilter, label_pair
from api.schemas.timeline import NoteCreated, NoteRequest, Timeline, TimelinePatch
from application.input_times import QueryTime
from application.summary_documents import summary_document
from application.text_fields import SingleLine
from domain.values import IncidentKind, Severity, Status
from projections.as_of import replay, summary_row, timeline_rows
from projections.documents.examples import INCIDENT_SUMMARY
from projections.documents.incident import IncidentSummary
from projections.errors import NotFound
from projections.summary import get_summary, list_summaries
from projections.timeline import get_timeline

router = APIRouter(prefix="/incidents", tags=["incidents"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Declare an incident",
    responses={409: {"description": "An incident with this id exists"}, 422: {}},
)
async def declare(body: DeclareIncidentRequest, commands: CommandsDep) -> CommandResult:
    """Starts a new incident's event stream; `Location` names the new incident. A client-chosen `id`
    or an `Idempotency-Key` keeps a retry from declaring it twice."""
    incident_id = body.id or commands.new_id("incident")
    command = body.command(incident_id, commands.now())
    return await commands.run(command, location=f"/incidents/{incident_id}")


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
    label: Annotated[
        LabelFilter | None,
        Query(max_length=200, description="Only incidents with this label, as key=value."),
    ] = None,
    kind: Annotated[IncidentKind | None, Query(description="Only incidents of this kind.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> IncidentPage:
    """Filter by status, severity, service, label, kind and declaration time; page with `cursor`
    (the previous page's `next`)."""
    settings = request.app.state.settings
    today = request.app.state.service.now().date()
    rows = list_summaries(
        conn,
        limit=limit + 1,
        status=status_.value if status_ else None,
        severity=severity.value if severity else None,
        service=service,
        label=label_pair(label),
        kind=kind.value if kind else None,
        declared_after=declared_after,
        declared_before=declared_before,
        before=SUMMARIES_CURSOR.decode(cursor),
    )
    page, next_cursor = SUMMARIES_CURSOR.page(rows, limit)
    return IncidentPage(
        items=[
            summary_document(r, today=today, business_days=settings.postmortem_due_business_days)
            for r in page
        ],
        next=next_cursor,
        next_url=next_link(request, next_cursor),
    )


@router.get(
    "/{incident_id}",
    summary="The incident's summary",
    responses={**NOT_FOUND, **answers(INCIDENT_SUMMARY)},
)
def get_incident(
    incident_id: UUID,
    conn: ConnectionDep,
    request: Request,
    response: Response,
    as_of: AsOfDep,
    streams: DecodedStreamsDep,
) -> IncidentSummary:
    """Its current state from the read model, or as it was at a past log position or time with
    `as_of`. The `ETag` is its version, for `If-Match` on a command."""
    with found():
        if as_of is None:
            row = get_summary(conn, incident_id)
        else:
            row = summary_row(replay(conn, incident_id, as_of, streams))
        if row is None:
            raise NotFound.incident(incident_id)
    # The version the summary reflects: send it back as If-Match to change this state only.
    response.headers["ETag"] = f'"{row["version"]}"'
    now = request.app.state.service.now()
    # As of a past moment, overdue is judged on that moment: the answer given then.
    moment = now if as_of is None else as_of.moment(conn, now)
    return summary_document(
        row,
        today=moment.date(),
        business_days=request.app.state.settings.postmortem_due_business_days,
        conn=conn if as_of is None else None,
    )


@router.post(
    "/{incident_id}/acknowledge", summary="Acknowledge the incident", responses=COMMAND_ERRORS
)
async def acknowledge(
    incident_id: UUID, commands: CommandsDep, body: OptionalBody[AcknowledgeRequest] = None
) -> CommandResult:
    """Records that a responder is on it; `occurred_at` back-dates the moment."""
    return await commands.run((body or AcknowledgeRequest()).command(incident_id, commands.now()))


@router.post("/{incident_id}/status", summary="Change the status", responses=COMMAND_ERRORS)
async def change_status(
    incident_id: UUID, body: StatusRequest, commands: CommandsDep
) -> CommandResult:
    """Moves the incident to investigating, identified, monitoring, resolved or closed;
    `occurred_at` back-dates the change."""
    return await commands.run(body.command(incident_id, commands.now()))


@router.post("/{incident_id}/severity", summary="Change the severity", responses=COMMAND_ERRORS)
async def change_severity(
    incident_id: UUID, body: SeverityRequest, commands: CommandsDep
) -> CommandResult:
    """Records the new severity and, optionally, why."""
    return await commands.run(body.command(incident_id, commands.now()))


@router.post(
    "/{incident_id}/notes",
    status_code=status.HTTP_201_CREATED,
    summary="Add a note to the timeline",
    responses=COMMAND_ERRORS,
)
async def add_note(incident_id: UUID, body: NoteRequest, commands: CommandsDep) -> NoteCreated:
    """Appends a note to the timeline; the answer carries the note's id, also its entry's id."""
    note_id = commands.new_id("note")
    command = body.command(incident_id, commands.now(), note_id=note_id)
    done = await commands.run(command, location=f"/incidents/{incident_id}/timeline/{note_id}")
    return NoteCreated(note_id=note_id, **done.model_dump())


@router.patch(
    "/{incident_id}/timeline/{entry_id}",
    summary="Amend or redact a timeline note",
    responses=COMMAND_ERRORS,
)
async def patch_entry(
    incident_id: UUID, entry_id: UUID, body: TimelinePatch, commands: CommandsDep
) -> CommandResult:
    """Amends a note's text or time, or redacts it for good with a reason; the timeline keeps a
    placeholder entry."""
    return await commands.run(body.command(incident_id, commands.now(), entry_id))


@router.post(
    "/{incident_id}/alerts/redactions",
    summary="Erase an alert's text",
    responses=COMMAND_ERRORS,
)
async def redact_alert_text(
    incident_id: UUID, body: AlertTextRedaction, commands: CommandsDep
) -> CommandResult:
    """Erases the summary, annotations and details of every firing of the alert so far: their
    keys are deleted with the event, so no answer, past view or export shows them again.
    The alert's name, labels and links stay; its timeline entries say who erased the text,
    when and why."""
    return await commands.run(body.command(incident_id, commands.now()))


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
    streams: DecodedStreamsDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 500,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """Every lifecycle moment, note and alert, oldest first, one page at a time; `as_of` shows it as
    it was then."""
    after = TIMELINE_CURSOR.decode(cursor)
    with found():
        if as_of is None:
            rows = get_timeline(conn, incident_id, limit=limit + 1, after=after)
        else:
            envelopes = replay(conn, incident_id, as_of, streams)
            rows = timeline_rows(envelopes, limit=limit + 1, after=after)
        if not rows and get_summary(conn, incident_id) is None:
            raise NotFound.incident(incident_id)
    page, token = TIMELINE_CURSOR.page(rows, limit)
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
