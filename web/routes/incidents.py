"""The incident list with its filters and paging, and the form that declares an incident."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from uuid import uuid4

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Engine

from domain.commands import DeclareIncident
from domain.values import Severity, Status
from projections.documents.incident import IncidentSummary
from projections.keysets import SUMMARIES_CURSOR, InvalidCursor
from projections.summary import list_summaries
from web.commands import Refusal, form_time, form_values, optional, run
from web.paging import paging
from web.templating import templates
from web.viewer import Viewer, ViewerDep, WriterDep

router = APIRouter(prefix="/ui", include_in_schema=False)

PAGE_SIZE = 50
Text = Annotated[str | None, Query(max_length=100)]


def _day(text: str | None, field: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{field}: {text!r} is not a date") from None


def _choice(kind: type[Status] | type[Severity], text: str | None) -> Any:
    return kind(text) if text in {m.value for m in kind} else None


def _listing(request: Request, filters: dict[str, str | None]) -> dict[str, Any]:
    """The page's rows for ``filters`` (or why the filters cannot be used)."""
    try:
        start = _day(filters["declared_from"], "declared from")
        end = _day(filters["declared_to"], "declared to")
        before = SUMMARIES_CURSOR.decode(filters["cursor"])
    except (ValueError, InvalidCursor) as exc:
        return {"incidents": [], "filter_error": str(exc), "paging": None}
    engine: Engine = request.app.state.engine
    with engine.connect() as conn:
        rows = list_summaries(
            conn,
            limit=PAGE_SIZE + 1,
            status=filters["status"],
            severity=filters["severity"],
            service=filters["service"] or None,
            declared_after=datetime.combine(start, datetime.min.time(), UTC) if start else None,
            declared_before=datetime.combine(end + timedelta(days=1), datetime.min.time(), UTC)
            if end
            else None,
            before=before,
        )
    page, cursor = SUMMARIES_CURSOR.page(rows, PAGE_SIZE)
    shown = paging(request.url, filters["cursor"], filters["start"], len(page), cursor)
    return {"incidents": [IncidentSummary.from_row(r) for r in page], "paging": shown}


def _render(
    request: Request,
    viewer: Viewer,
    filters: dict[str, str | None],
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, Refusal] | None = None,
    status: int = 200,
) -> HTMLResponse:
    context = {
        "viewer": viewer,
        "section": "incidents",
        "filters": filters,
        "filtered": any(v for k, v in filters.items() if k not in ("cursor", "start")),
        "statuses": [s.value for s in Status],
        "severities": [s.value for s in Severity],
        "values": values or {},
        "errors": errors or {},
        **_listing(request, filters),
    }
    return templates.TemplateResponse(request, "incidents.html", context, status_code=status)


@router.get("/incidents")
def incidents(
    request: Request,
    viewer: ViewerDep,
    status: Text = None,
    severity: Text = None,
    service: Text = None,
    declared_from: Text = None,
    declared_to: Text = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    start: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    filters = {
        "status": status if _choice(Status, status) else None,
        "severity": severity if _choice(Severity, severity) else None,
        "service": service,
        "declared_from": declared_from,
        "declared_to": declared_to,
        "cursor": cursor,
        "start": start,
    }
    return _render(request, viewer, filters)


@router.post("/incidents")
async def declare(request: Request, viewer: WriterDep) -> Response:
    values = await form_values(request)
    incident_id = uuid4()
    now = request.app.state.service.now()

    def command() -> DeclareIncident:
        services = [s.strip() for s in values.get("services", "").split(",") if s.strip()]
        return DeclareIncident(
            incident_id=incident_id,
            at=now,
            title=values.get("title", ""),
            severity=values.get("severity", ""),
            services=tuple(services),
            summary=optional(values, "summary"),
            started_at=form_time(values, "started_at"),
        )

    outcome = await run(request, viewer, command, form="declare")
    if isinstance(outcome, Refusal):
        empty = dict.fromkeys(
            ("status", "severity", "service", "declared_from", "declared_to", "cursor", "start")
        )
        return _render(
            request, viewer, empty, values=values, errors={"declare": outcome}, status=422
        )
    return RedirectResponse(f"/ui/incidents/{incident_id}", status_code=303)
