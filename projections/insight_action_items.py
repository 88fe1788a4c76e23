"""Action-item figures read from the insights read model, group by group.

Counts are sums in SQL. The median days to done is ``percentile_disc`` on PostgreSQL
(the nearest-rank method) and, on SQLite, which has no such aggregate, the group's
values handed over as one text and ordered in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Connection, Integer, and_, case, func, select

from domain.values import Severity
from projections.insight_figures import MICROSECONDS_PER_DAY, completion_rate, median_days
from projections.insight_tables import action_item_insights

ACTION_ITEM_GROUPINGS = ("kind", "owner", "severity")

_SEVERITY_ORDER = {severity.value: number for number, severity in enumerate(Severity)}


@dataclass(frozen=True, slots=True)
class ActionItemGroup:
    group: str | None
    created: int
    done: int
    wont_do: int
    open: int
    overdue: int
    completion_rate: float | None
    median_days_to_done: float | None


def _number(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """How many rows of the group meet ``condition``."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0, type_=Integer)


def action_item_groups(
    conn: Connection, *, start: datetime, end: datetime, group_by: str, today: date
) -> list[ActionItemGroup]:
    """The figures of the action items added in [start, end), one entry per group: severities
    worst first, kinds and owners in alphabetical order."""
    t = action_item_insights
    key = t.c[group_by]
    finished = t.c.status.in_(("done", "wont_do"))
    postgres = conn.dialect.name == "postgresql"
    done_after: Any = (
        func.percentile_disc(0.5).within_group(t.c.time_to_done_us)
        if postgres
        else func.group_concat(t.c.time_to_done_us)
    )
    query = (
        select(
            key,
            func.count(),
            _number(t.c.status == "done"),
            _number(t.c.status == "wont_do"),
            _number(~finished),
            _number(and_(~finished, t.c.due_date < today)),
            done_after,
        )
        .where(t.c.created_at >= start, t.c.created_at < end)
        .group_by(key)
    )
    groups = []
    for group, created, done, wont_do, still_open, overdue, after in conn.execute(query):
        if postgres:
            days = after / MICROSECONDS_PER_DAY if after is not None else None
        else:
            days = median_days(orjson.loads(f"[{after}]") if after else [])
        groups.append(
            ActionItemGroup(
                group=group,
                created=created,
                done=done,
                wont_do=wont_do,
                open=still_open,
                overdue=overdue,
                completion_rate=completion_rate(created, done, wont_do),
                median_days_to_done=days,
            )
        )
    if group_by == "severity":
        return sorted(groups, key=lambda g: _SEVERITY_ORDER.get(g.group or "", 0))
    return sorted(groups, key=lambda g: g.group or "")
