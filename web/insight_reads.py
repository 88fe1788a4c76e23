"""What the insights page reads: the figures the /insights API serves, from the same query
functions (``projections.insight_queries``, ``projections.insight_action_items``), for the
page's filters. The calls are all here, so a change of those functions' signatures is
made in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Connection

from projections.insight_action_items import ActionItemGroup, action_item_groups
from projections.insight_figures import ACTION_ITEM_DEFINITIONS, INCIDENT_DEFINITIONS
from projections.insight_periods import periods
from projections.insight_queries import Grouping, IncidentGroup, incident_groups


@dataclass(frozen=True, slots=True)
class InsightFilters:
    """The period [start, end), the incident kinds counted, and how action items are grouped."""

    start: datetime
    end: datetime
    kinds: list[str]
    items_by: str


@dataclass(frozen=True, slots=True)
class MonthFigures:
    """One month's incidents, by severity (worst first)."""

    month: str
    severities: list[IncidentGroup]


@dataclass(frozen=True, slots=True)
class Insights:
    months: list[MonthFigures]
    services: list[IncidentGroup]
    action_items: list[ActionItemGroup]
    incident_definitions: dict[str, str]
    action_item_definitions: dict[str, str]


def _incidents(
    conn: Connection, start: datetime, end: datetime, by: str, kinds: list[str]
) -> list[IncidentGroup]:
    return incident_groups(conn, start=start, end=end, grouping=Grouping(by), kinds=kinds)


def _month_start(name: str) -> datetime:
    """The first moment of a month named as the month grouping names it (``2026-03``)."""
    year, month = name.split("-")
    return datetime(int(year), int(month), 1, tzinfo=UTC)


def _months(conn: Connection, filters: InsightFilters) -> list[MonthFigures]:
    """Each month of the period with incidents, by severity: one query finds the months, then
    one per month groups its incidents (the API groups by one thing at a time)."""
    start, end, kinds = filters.start, filters.end, filters.kinds
    found = sorted(g.group for g in _incidents(conn, start, end, "month", kinds) if g.group)
    if not found:
        return []
    # From the first month with incidents to the last: never the whole of a wide period.
    first, last = _month_start(found[0]), _month_start(found[-1])
    return [
        MonthFigures(name, _incidents(conn, lower, upper, "severity", kinds))
        for name, lower, upper in periods("month", first, last, start, end)
        if name in found
    ]


def read_insights(conn: Connection, filters: InsightFilters, today: date) -> Insights:
    """The page's figures for ``filters``; ``today`` judges which action items are overdue."""
    return Insights(
        months=_months(conn, filters),
        services=_incidents(conn, filters.start, filters.end, "service", filters.kinds),
        action_items=action_item_groups(
            conn, start=filters.start, end=filters.end, group_by=filters.items_by, today=today
        ),
        incident_definitions=INCIDENT_DEFINITIONS,
        action_item_definitions=ACTION_ITEM_DEFINITIONS,
    )
