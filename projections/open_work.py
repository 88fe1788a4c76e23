"""What is still open across every incident: for dashboards and alerts on them (``/metrics``)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, func, select

from domain.values import Severity, Status
from projections.action_items import overdue_condition
from projections.tables import action_items, incident_summaries

ENDED = (Status.RESOLVED.value, Status.CLOSED.value)
"""Statuses of incidents that no longer count as open."""


def open_incidents_by_severity(conn: Connection) -> dict[str, int]:
    """Incidents not resolved or closed, per severity; every severity, 0 where none.

    Every severity is always there, so a dashboard's series never vanish at 0.
    """
    s = incident_summaries
    query = (
        select(s.c.severity, func.count()).where(s.c.status.not_in(ENDED)).group_by(s.c.severity)
    )
    counts = dict.fromkeys((severity.value for severity in Severity), 0)
    counts.update({severity: int(count) for severity, count in conn.execute(query)})
    return counts


def overdue_action_items(conn: Connection, today: date) -> int:
    """Action items past their due date on ``today`` and neither done nor abandoned."""
    query = select(func.count()).select_from(action_items).where(overdue_condition(today))
    return int(conn.execute(query).scalar_one())
