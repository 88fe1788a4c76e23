"""The postmortem document's parts, from the live read models or replayed as of a past moment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from fastapi import HTTPException
from sqlalchemy import Connection

from api.routers.common import require_summary
from api.schemas import IncidentSummary, TimelineEntry
from api.schemas_postmortem import ActionItem, PostmortemDocument
from api.time_travel import AsOf, replay
from projections.action_items import list_action_items
from projections.as_of import (
    action_item_rows,
    postmortem_revision,
    postmortem_rows,
    summary_row,
    timeline_rows,
)
from projections.postmortem import get_postmortem
from projections.timeline import get_timeline

Row = dict[str, Any]

ITEMS_LIMIT = 10_000
BOOKKEEPING = ("postmortem_", "action_item_")
"""Timeline kinds about writing the postmortem itself, left out of the document's timeline."""
ONCE_IN_SECTIONS = {"impact": None, "root_cause": None, "resolution": None}
"""Summary facts the document shows only as its sections of the same names."""


@dataclass(frozen=True, slots=True)
class Parts:
    """Everything a postmortem document is made of, at one moment."""

    summary: Row
    revision: Row | None
    """The revision asked for; None when there is no such revision (yet)."""
    written: bool
    """Whether any revision exists: a postmortem nobody wrote is an empty revision 1."""
    timeline: list[Row]
    items: list[Row]
    today: date
    """The day ``overdue`` is judged on."""


def live_parts(conn: Connection, incident_id: UUID, revision: int | None, now: datetime) -> Parts:
    """The parts as the read models hold them now."""
    summary = require_summary(conn, incident_id)
    chosen = get_postmortem(conn, incident_id, revision)
    written = chosen is not None or get_postmortem(conn, incident_id) is not None
    today = now.date()
    items = list_action_items(conn, incident_id=incident_id, today=today, limit=ITEMS_LIMIT)
    return Parts(summary, chosen, written, get_timeline(conn, incident_id), items, today)


def past_parts(
    conn: Connection, incident_id: UUID, revision: int | None, as_of: AsOf, now: datetime
) -> Parts:
    """The parts replayed from the log as they stood at ``as_of``."""
    envelopes = replay(conn, incident_id, as_of)
    summary = summary_row(envelopes)
    assert summary is not None  # replay returns a declared incident's events
    rows = postmortem_rows(envelopes)
    return Parts(
        summary=summary,
        revision=postmortem_revision(rows, revision),
        written=bool(rows.revisions),
        timeline=timeline_rows(envelopes),
        items=action_item_rows(envelopes, limit=ITEMS_LIMIT),
        today=as_of.moment(conn, now).date(),
    )


def _empty_draft(incident_id: UUID) -> Row:
    """What an incident's postmortem is before anyone wrote a word of it."""
    return {
        "incident_id": incident_id,
        "revision": 1,
        "status": "draft",
        "published_at": None,
        "published_by": None,
        "review_requested_at": None,
        "sections": {},
        "latest_revision": 1,
        "published_revisions": [],
    }


def document(
    incident_id: UUID, parts: Parts, revision: int | None, as_of: AsOf | None
) -> PostmortemDocument:
    """The document the parts make; 404 for a revision that does not exist (at that moment)."""
    postmortem = parts.revision
    if postmortem is None:
        if revision not in (None, 1) or parts.written:
            when = f" as of {as_of.text}" if as_of is not None else ""
            raise HTTPException(
                404, f"the postmortem of {incident_id} has no revision {revision}{when}"
            )
        postmortem = _empty_draft(incident_id)
    return PostmortemDocument(
        title=parts.summary["title"],
        # Impact, root cause and resolution are the postmortem's sections (which facts
        # recorded during the incident seed): the document carries each of them once.
        incident=IncidentSummary.from_row(parts.summary).model_copy(update=ONCE_IN_SECTIONS),
        timeline=[
            TimelineEntry.from_row(row)
            for row in parts.timeline
            if not row["kind"].startswith(BOOKKEEPING)
        ],
        action_items=[ActionItem.from_row(row, parts.today) for row in parts.items],
        **postmortem,
    )
