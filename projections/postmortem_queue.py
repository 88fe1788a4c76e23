"""Postmortems not yet published, with what their due date is computed from."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, or_, select

from projections.tables import incident_summaries


def unpublished_postmortems(
    conn: Connection, *, include_drafts_of_open: bool
) -> list[dict[str, Any]]:
    """Incidents whose postmortem was never published and that have a due date or were
    resolved (``include_drafts_of_open`` adds those still open without one)."""
    t = incident_summaries
    never_published = and_(t.c.postmortem_status != "published", t.c.postmortem_revision == 1)
    query = select(
        t.c.incident_id,
        t.c.title,
        t.c.severity,
        t.c.status,
        t.c.kind,
        t.c.resolved_at,
        t.c.postmortem_status,
        t.c.postmortem_revision,
        t.c.postmortem_due_date,
    ).where(never_published)
    if not include_drafts_of_open:
        query = query.where(or_(t.c.resolved_at.is_not(None), t.c.postmortem_due_date.is_not(None)))
    return [dict(row._mapping) for row in conn.execute(query)]
