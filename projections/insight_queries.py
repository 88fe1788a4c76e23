"""Incident figures read from the insights read model, group by group.

The database filters the period (indexed by started_at), forms the groups and counts.
Medians and 90th percentiles need every value of a group in order: PostgreSQL takes
them itself (projections/insight_postgres.py); SQLite hands each group's values over
and Python orders them (projections/insight_sqlite.py).

Months and weeks are read as ranges of started_at, one per period: grouping by a
computed period would make the database sort every row by it first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    FromClause,
    String,
    and_,
    func,
    literal,
    select,
    true,
    union_all,
)

from domain.values import Severity
from projections.insight_figures import FIGURES, IncidentGroup
from projections.insight_periods import PERIODS, periods
from projections.insight_postgres import postgres_aggregates, postgres_groups
from projections.insight_sqlite import (
    Names,
    as_named,
    label_in,
    services_in,
    sqlite_aggregates,
    sqlite_groups,
)
from projections.insight_tables import incident_insights

__all__ = ["INCIDENT_GROUPINGS", "LABEL_PREFIX", "Grouping", "IncidentGroup", "incident_groups"]

INCIDENT_GROUPINGS = ("severity", "service", "month", "week")
"""Ways to group incidents besides ``label:<key>``."""

LABEL_PREFIX = "label:"

PERIODS_PER_STATEMENT = 100
"""Within SQLite's limits on the terms of a compound SELECT (500) and on bound values."""

_COLUMNS = [incident_insights.c[f"{name}_us"] for name in FIGURES]
_SEVERITY_ORDER = {severity.value: number for number, severity in enumerate(Severity)}


@dataclass(frozen=True, slots=True)
class Grouping:
    """How incidents are grouped: by ``by``, and for ``label`` by the label named ``label``."""

    by: str
    label: str | None = None

    @property
    def name(self) -> str:
        """As the request wrote it: ``month``, ``label:team``."""
        return f"{LABEL_PREFIX}{self.label}" if self.by == "label" else self.by


def incident_groups(
    conn: Connection,
    *,
    start: datetime,
    end: datetime,
    grouping: Grouping,
    kinds: Sequence[str],
    include_duplicates: bool = False,
) -> list[IncidentGroup]:
    """The figures of the incidents that started in [start, end), one entry per group with
    incidents: severities worst first, periods oldest first, names in order, null last."""
    t = incident_insights
    conditions = [t.c.kind.in_(list(kinds))]
    if not include_duplicates:
        conditions.append(t.c.duplicate_of.is_(None))
    if grouping.by in PERIODS:
        return _by_period(conn, _periods(conn, grouping.by, start, end), conditions)
    where = and_(t.c.started_at >= start, t.c.started_at < end, *conditions)
    key, source, names = _key(conn, grouping)
    query = select(key, *_columns(conn)).select_from(source).where(where).group_by(key)
    rows = [(row[0], row[1:]) for row in conn.execute(query)]
    found = _groups(conn, rows, names)
    return sorted(found, key=lambda g: _order(g, grouping))


def _by_period(
    conn: Connection,
    spans: Sequence[tuple[str, datetime, datetime]],
    conditions: Sequence[ColumnElement[bool]],
) -> list[IncidentGroup]:
    """One group per period, each a range of started_at, oldest first. Up to
    ``PERIODS_PER_STATEMENT`` periods go in one statement (UNION ALL), sparing a round
    trip per period: a year of weeks is 53 of them."""
    t = incident_insights
    columns = _columns(conn)
    parts = [
        select(literal(name, String), *columns).where(
            t.c.started_at >= lower, t.c.started_at < upper, *conditions
        )
        for name, lower, upper in spans
    ]
    rows = []
    for first in range(0, len(parts), PERIODS_PER_STATEMENT):
        chunk = parts[first : first + PERIODS_PER_STATEMENT]
        query = union_all(*chunk) if len(chunk) > 1 else chunk[0]
        rows += [(row[0], row[1:]) for row in conn.execute(query)]
    order = {name: number for number, (name, _, _) in enumerate(spans)}
    return sorted(_groups(conn, rows), key=lambda g: order[g.group or ""])


def _periods(
    conn: Connection, by: str, start: datetime, end: datetime
) -> list[tuple[str, datetime, datetime]]:
    """The months or weeks from the first incident of [start, end) to its last: never more
    than the stored incidents span, however wide the period asked for."""
    t = incident_insights
    within = select(t.c.started_at).where(t.c.started_at >= start, t.c.started_at < end)
    first = conn.execute(within.order_by(t.c.started_at).limit(1)).scalar()
    last = conn.execute(within.order_by(t.c.started_at.desc()).limit(1)).scalar()
    if first is None or last is None:
        return []
    return list(periods(by, first, last, start, end))


def _key(conn: Connection, grouping: Grouping) -> tuple[ColumnElement[Any], FromClause, Names]:
    """The expression keying each row's group, what to select it from, and the groups each
    key puts its rows in."""
    t = incident_insights
    if grouping.by == "severity":
        return t.c.severity, t, as_named
    postgres = conn.dialect.name == "postgresql"
    if grouping.by == "label":
        assert grouping.label is not None
        if postgres:
            return t.c.labels[grouping.label].as_string(), t, as_named
        return t.c.labels_text, t, label_in(grouping.label)
    if postgres:
        # One row per service; a function in FROM sees the row before it.
        names = func.string_to_array(func.btrim(t.c.services, ","), ",")
        each = func.unnest(names).table_valued("service").render_derived(name="s")
        return each.c.service, t.outerjoin(each, true()), as_named
    return t.c.services, t, services_in


def _columns(conn: Connection) -> list[Any]:
    """The aggregates of a group: its count, how many are resolved, and each figure's."""
    t = incident_insights
    counts = [func.count(), func.count(t.c.resolved_at)]
    if conn.dialect.name == "postgresql":
        return [*counts, *postgres_aggregates(_COLUMNS)]
    return [*counts, *sqlite_aggregates(_COLUMNS)]


def _groups(
    conn: Connection, rows: Sequence[tuple[str | None, Sequence[Any]]], names: Names = as_named
) -> list[IncidentGroup]:
    """The groups of rows ``(key, [*_columns])``; groups without incidents are left out.
    ``names``: the groups each key puts its rows in (SQLite's, see ``_key``)."""
    if conn.dialect.name == "postgresql":
        return postgres_groups(rows)
    return sqlite_groups(rows, names)


def _order(group: IncidentGroup, grouping: Grouping) -> tuple[Any, ...]:
    """Severities worst first, names in order; the group null last."""
    if group.group is None:
        return (1, 0, "")
    if grouping.by == "severity":
        return (0, _SEVERITY_ORDER.get(group.group, 0), group.group)
    return (0, 0, group.group)
