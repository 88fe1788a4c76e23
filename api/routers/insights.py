"""Cross-incident figures with published definitions: incidents and action items per group."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query
from fastapi.responses import Response

from api import insight_params
from api.dependencies import ConnectionDep, ServiceDep
from api.insights_csv import CSV, action_item_csv, incident_csv, wants_csv
from api.query_flags import QueryFlag
from api.schemas.insights import (
    ActionItemInsightGroup,
    ActionItemInsights,
    IncidentInsightGroup,
    IncidentInsights,
)
from projections.insight_action_items import action_item_groups
from projections.insight_figures import ACTION_ITEM_DEFINITIONS, INCIDENT_DEFINITIONS
from projections.insight_queries import incident_groups

router = APIRouter(prefix="/insights", tags=["insights"])

FROM = Query(
    alias="from",
    max_length=64,
    description="The period's start, inclusive: a date (midnight UTC) or an RFC 3339 time."
    " Default: 90 days before `to`.",
    examples=["2026-01-01"],
)
TO = Query(
    max_length=64,
    description="The period's end, exclusive: a date (midnight UTC) or an RFC 3339 time."
    " Default: now.",
    examples=["2026-04-01T00:00:00Z"],
)
ACCEPT = Header(description="application/json (the default), or text/csv: one row per group.")
NOT_ACCEPTABLE: dict[int | str, dict[str, Any]] = {
    406: {"description": "Neither JSON nor CSV is acceptable"}
}


def _csv(text: str) -> Response:
    return Response(text, media_type=f"{CSV}; charset=utf-8")


@router.get(
    "/incidents",
    summary="Incident figures per group: counts and times to detect, acknowledge, mitigate, resolve",
    response_model=IncidentInsights,
    responses={
        200: {"content": {CSV: {"example": "group,count,open,resolved,time_to_detect_n,...\r\n"}}},
        **NOT_ACCEPTABLE,
    },
)
def incidents(
    conn: ConnectionDep,
    service: ServiceDep,
    from_: Annotated[str | None, FROM] = None,
    to: Annotated[str | None, TO] = None,
    group_by: Annotated[
        str,
        Query(
            max_length=100,
            description="severity, service, label:<key>, month or week.",
            examples=["month", "label:team"],
        ),
    ] = "month",
    kind: Annotated[
        list[str] | None,
        Query(
            description="The kinds to count: incident, drill, maintenance, false_alarm, or all;"
            " repeated or comma-separated. Default: incident.",
            examples=[["incident", "drill"]],
        ),
    ] = None,
    include_duplicates: Annotated[
        QueryFlag, Query(description="Count incidents that record duplicate_of another too.")
    ] = False,
    accept: Annotated[str | None, ACCEPT] = None,
) -> Any:
    """For the incidents that started in [from, to): per group, how many, how many are still open,
    and the count, mean, nearest-rank median and 90th percentile of each time figure, in
    seconds. `definitions` says exactly what each figure is."""
    csv = wants_csv(accept)
    start, end = insight_params.period(from_, to, service.now())
    grouping = insight_params.incident_grouping(group_by)
    kinds = insight_params.kinds(kind)
    groups = [
        IncidentInsightGroup.of(group)
        for group in incident_groups(
            conn,
            start=start,
            end=end,
            grouping=grouping,
            kinds=kinds,
            include_duplicates=include_duplicates,
        )
    ]
    if csv:
        return _csv(incident_csv(groups))
    return IncidentInsights(
        from_=start,
        to=end,
        group_by=grouping.name,
        kind=kinds,
        include_duplicates=include_duplicates,
        definitions=INCIDENT_DEFINITIONS,
        groups=groups,
    )


@router.get(
    "/action-items",
    summary="Action-item figures per group: created, done, overdue, completion rate",
    response_model=ActionItemInsights,
    responses={
        200: {"content": {CSV: {"example": "group,created,done,wont_do,open,overdue,...\r\n"}}},
        **NOT_ACCEPTABLE,
    },
)
def action_items(
    conn: ConnectionDep,
    service: ServiceDep,
    from_: Annotated[str | None, FROM] = None,
    to: Annotated[str | None, TO] = None,
    group_by: Annotated[
        str,
        Query(
            max_length=100,
            description="kind, owner or severity (of the item's incident).",
            examples=["owner"],
        ),
    ] = "kind",
    accept: Annotated[str | None, ACCEPT] = None,
) -> Any:
    """For the action items added in [from, to): per group, how many were added, are done,
    abandoned, open and overdue, the completion rate and the median days to done."""
    csv = wants_csv(accept)
    now = service.now()
    start, end = insight_params.period(from_, to, now)
    grouping = insight_params.action_item_grouping(group_by)
    today = now.date()
    groups = [
        ActionItemInsightGroup.of(group)
        for group in action_item_groups(conn, start=start, end=end, group_by=grouping, today=today)
    ]
    if csv:
        return _csv(action_item_csv(groups))
    return ActionItemInsights(
        from_=start,
        to=end,
        group_by=grouping,
        today=today,
        definitions=ACTION_ITEM_DEFINITIONS,
        groups=groups,
    )
