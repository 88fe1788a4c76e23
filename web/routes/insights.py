"""The insights page: for a period and a kind of incident, time to resolve by month and
severity, incidents by service and action-item completion, drawn as charts with their
figures as tables, and the definitions every figure follows."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import Engine

from web import insight_charts
from web.insight_filters import ITEMS_BY, KIND_CHOICES, FilterInvalid, read_filters
from web.insight_reads import read_insights
from web.templating import templates
from web.viewer import ViewerDep

router = APIRouter(prefix="/ui", include_in_schema=False)

Text = Annotated[str | None, Query(max_length=64)]


@router.get("/insights")
def insights(
    request: Request,
    viewer: ViewerDep,
    from_: Annotated[str | None, Query(alias="from", max_length=64)] = None,
    to: Text = None,
    kind: Text = None,
    group_by: Text = None,
) -> HTMLResponse:
    today = request.app.state.service.now().date()
    context: dict[str, Any] = {
        "viewer": viewer,
        "section": "insights",
        "kind_choices": KIND_CHOICES,
        "items_by_choices": ITEMS_BY,
    }
    try:
        filters, shown = read_filters(from_, to, kind, group_by, today)
    except FilterInvalid as exc:
        context.update(
            form={"from_": from_ or "", "to": to or "", "kind": kind, "group_by": group_by},
            filter_error=exc,
        )
        return templates.TemplateResponse(request, "insights.html", context, status_code=422)
    engine: Engine = request.app.state.engine
    with engine.connect() as conn:
        found = read_insights(conn, filters, today)
    context.update(
        form=shown,
        filters=filters,
        found=found,
        resolve_panels=insight_charts.time_to_resolve(found.months),
        services_chart=insight_charts.by_service(found.services),
        items_chart=insight_charts.action_items(found.action_items, filters.items_by),
    )
    return templates.TemplateResponse(request, "insights.html", context)
