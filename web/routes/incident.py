"""The incident page: its summary, timeline, action items and postmortem sections, now
or as recorded at a past moment (``?as_of=``), and the fragments live updates and time
travel re-fetch. The forms that change the incident post to ``incident_forms``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from domain.events import CURRENT_VERSIONS
from domain.incident import NEXT_STATUSES
from domain.values import ActionKind, IncidentKind, Priority, Role, Section, Severity, Status
from projections.as_of import AsOf, parse_as_of
from projections.decoded_streams import DecodedStreams
from projections.errors import NotFound
from web.commands import Refusal
from web.errors import PageError
from web.incident_reads import IncidentView, read_incident_view
from web.incident_relations import RELATION_CHOICES
from web.templating import templates, when
from web.viewer import Viewer, ViewerDep

router = APIRouter(prefix="/ui", include_in_schema=False)

AsOfText = Annotated[str | None, Query(max_length=64)]

FRAGMENTS = {
    "summary": "_incident_summary.html",
    "timeline": "_incident_timeline.html",
    "action-items": "_incident_items.html",
    "relations": "_incident_relations.html",
    "postmortem-sections": "_incident_postmortem.html",
    "time-travel": "_incident_time_travel.html",
    "view": "_incident_view.html",
}
"""The parts of the page that can be fetched alone, by the name in their path."""

EVENT_TYPES = sorted(CURRENT_VERSIONS)
"""Server-sent events are named by event type: a page listens for each of them."""

_PAGE_PATH = "/ui/incidents/"


@dataclass(frozen=True, slots=True)
class Failed:
    """A form whose command was refused: its name, what was typed, and why."""

    form: str
    values: dict[str, str]
    refusal: Refusal


def _as_of(text: str | None) -> AsOf | None:
    if not text:
        return None
    parsed = parse_as_of(text)
    if parsed is None:
        raise PageError(
            422,
            f"as_of {text!r} is neither a log position nor an RFC 3339 time with a timezone"
            " (such as 2026-03-02T10:30:00Z)",
        )
    return parsed


async def _streams(request: Request) -> DecodedStreams:
    """The app's cache of replayed streams, shared with the API's ``?as_of=`` (made here on
    the event loop, so two first requests cannot each make one)."""
    state = request.app.state
    streams: DecodedStreams | None = getattr(state, "decoded_streams", None)
    if streams is None:
        streams = state.decoded_streams = DecodedStreams()
    return streams


def _read(
    request: Request, incident_id: UUID, as_of: AsOf | None, streams: DecodedStreams
) -> IncidentView:
    engine: Engine = request.app.state.engine
    now = request.app.state.service.now()
    try:
        with engine.connect() as conn:
            return read_incident_view(conn, incident_id, as_of, now, streams)
    except NotFound as exc:
        raise PageError(404, exc.detail) from None


def _status_choices(current: Status) -> list[dict[str, Any]]:
    allowed = NEXT_STATUSES[current]
    return [{"value": s.value, "allowed": s in allowed} for s in Status]


def _context(viewer: Viewer, view: IncidentView, failed: Failed | None) -> dict[str, Any]:
    incident = view.summary
    base = f"{_PAGE_PATH}{incident.id}"
    newest = view.moments[-1].position
    value = min(view.past.position, newest) if view.past else newest
    shown = [m for m in view.moments if m.position <= value] or view.moments
    statuses = _status_choices(incident.status)
    return {
        "viewer": viewer,
        "section": "incidents",
        "view": view,
        "incident": incident,
        "past": view.past,
        "base": base,
        "live": view.past is None,
        "editable": viewer.can_write and view.past is None,
        "stream_url": f"/events/stream?stream={incident.id}&after={view.newest_position}",
        "event_types": EVENT_TYPES,
        "moments": [[m.position, when(m.recorded_at)] for m in view.moments],
        "slider_value": value,
        "slider_time": when(shown[-1].recorded_at),
        "newest_position": newest,
        "statuses": statuses,
        "next_status": next((s["value"] for s in statuses if s["allowed"]), None),
        "severities": [s.value for s in Severity],
        "roles": [r.value for r in Role],
        "kinds": [k.value for k in ActionKind],
        "priorities": [p.value for p in Priority],
        "sections": [s.value for s in Section],
        "incident_kinds": [k.value for k in IncidentKind],
        "relation_choices": RELATION_CHOICES,
        "values": {failed.form: failed.values} if failed else {},
        "errors": {failed.form: failed.refusal} if failed else {},
    }


async def render(
    request: Request,
    viewer: Viewer,
    incident_id: UUID,
    as_of_text: str | None = None,
    *,
    template: str = "incident.html",
    failed: Failed | None = None,
    status: int = 200,
) -> HTMLResponse:
    """The page (or one of its fragments) now or as of a moment; 404 for an unknown incident."""
    as_of = _as_of(as_of_text)
    streams = await _streams(request)
    view = await run_in_threadpool(_read, request, incident_id, as_of, streams)
    context = _context(viewer, view, failed)
    return templates.TemplateResponse(request, template, context, status_code=status)


@router.get("/incidents/{incident_id}")
async def incident_page(
    request: Request, incident_id: UUID, viewer: ViewerDep, as_of: AsOfText = None
) -> Response:
    return await render(request, viewer, incident_id, as_of)


@router.get("/incidents/{incident_id}/fragments/{name}")
async def incident_fragment(
    request: Request, incident_id: UUID, name: str, viewer: ViewerDep, as_of: AsOfText = None
) -> HTMLResponse:
    """One part of the page alone, for live updates and time travel to swap in."""
    template = FRAGMENTS.get(name)
    if template is None:
        raise PageError(404, f"the incident page has no part named {name!r}")
    return await render(request, viewer, incident_id, as_of, template=template)
