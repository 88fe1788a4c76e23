"""The postmortem document: one revision with the incident facts it is written about, put
together from the live read models or replayed from the log as of a past moment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection

from domain.values import PostmortemStatus, Section
from projections.action_items import list_action_items
from projections.as_of import (
    AsOf,
    action_item_rows,
    postmortem_revision,
    postmortem_rows,
    replay,
    summary_row,
    timeline_rows,
)
from projections.decoded_streams import DecodedStreams
from projections.documents.action_items import ActionItem
from projections.documents.examples import POSTMORTEM
from projections.documents.incident import IncidentSummary
from projections.documents.publication_proof import PublicationProof
from projections.documents.timeline import TimelineEntry
from projections.errors import NotFound
from projections.postmortem import get_postmortem
from projections.summary import get_summary
from projections.timeline import get_timeline

Row = dict[str, Any]

ITEMS_LIMIT = 10_000
BOOKKEEPING = ("postmortem_", "action_item_")
"""Timeline kinds about writing the postmortem itself, left out of the document's timeline."""
ONCE_IN_SECTIONS = {"impact": None, "root_cause": None, "resolution": None}
"""Summary facts the document shows only as its sections of the same names."""


class Verdict(BaseModel):
    """A reviewer's answer to the revision in review."""

    verdict: Literal["approved", "changes_requested"] = Field(
        description="approved or changes_requested."
    )
    comment: str | None = Field(default=None, description="What the reviewer wrote.")
    at: datetime = Field(description="When the verdict was given.")


class PostmortemDocument(BaseModel):
    """One revision of the postmortem with the incident facts it is written about."""

    model_config = ConfigDict(json_schema_extra={"examples": [POSTMORTEM]})

    incident_id: UUID = Field(description="The incident's id.")
    title: str = Field(description="The incident's title.")
    revision: int = Field(description="The revision shown.")
    latest_revision: int = Field(description="The newest revision, published or not.")
    status: PostmortemStatus = Field(
        description="The shown revision's status: draft, in_review or published."
    )
    published_revisions: list[int] = Field(description="Every published revision, oldest first.")
    published_at: datetime | None = Field(
        description="When the shown revision was published; null when it is not."
    )
    published_by: str | None = Field(
        description="Who published the shown revision; null when it is not published."
    )
    review_requested_at: datetime | None = Field(
        description="When the shown revision was sent to review; null when it was not."
    )
    reviewers: list[str] = Field(
        default_factory=list, description="Who the shown revision was sent to for review."
    )
    verdicts: dict[str, Verdict] = Field(
        default_factory=dict,
        description="Each reviewer's verdict on the shown revision's text as it stands (an"
        " edit clears them).",
    )
    sections: dict[Section, str] = Field(description="Written sections, in reading order.")
    incident: IncidentSummary = Field(description="The incident's summary.")
    timeline: list[TimelineEntry] = Field(description="The incident's timeline, oldest first.")
    action_items: list[ActionItem] = Field(description="The incident's action items.")
    proof: PublicationProof | None = Field(
        default=None,
        description="For a published revision: the signed checkpoint of the log taken right"
        " after its publication and the hash of the document's published members; null when"
        " the revision is not published, or was published before the service kept proofs.",
    )


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
    """The parts as the read models hold them now; NotFound for an unknown incident."""
    summary = get_summary(conn, incident_id)
    if summary is None:
        raise NotFound.incident(incident_id)
    chosen = get_postmortem(conn, incident_id, revision)
    written = chosen is not None or get_postmortem(conn, incident_id) is not None
    today = now.date()
    items = list_action_items(conn, incident_id=incident_id, today=today, limit=ITEMS_LIMIT)
    return Parts(summary, chosen, written, get_timeline(conn, incident_id), items, today)


def past_parts(
    conn: Connection,
    incident_id: UUID,
    revision: int | None,
    as_of: AsOf,
    now: datetime,
    streams: DecodedStreams | None = None,
) -> Parts:
    """The parts replayed from the log as they stood at ``as_of``."""
    envelopes = replay(conn, incident_id, as_of, streams)
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
        "reviewers": [],
        "verdicts": {},
        "sections": {},
        "latest_revision": 1,
        "published_revisions": [],
    }


def document(
    incident_id: UUID, parts: Parts, revision: int | None, as_of: AsOf | None
) -> PostmortemDocument:
    """The document the parts make; NotFound for a revision that does not exist (then)."""
    postmortem = parts.revision
    if postmortem is None:
        if revision not in (None, 1) or parts.written:
            when = f" as of {as_of.text}" if as_of is not None else ""
            raise NotFound(f"the postmortem of {incident_id} has no revision {revision}{when}")
        postmortem = _empty_draft(incident_id)
    # Rows written before reviews named reviewers hold nulls until the projection's rebuild.
    postmortem = {
        **postmortem,
        "reviewers": postmortem.get("reviewers") or [],
        "verdicts": postmortem.get("verdicts") or {},
    }
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


def postmortem_document(
    conn: Connection,
    incident_id: UUID,
    revision: int | None,
    now: datetime,
    as_of: AsOf | None = None,
    streams: DecodedStreams | None = None,
) -> PostmortemDocument:
    """The postmortem (default: its latest revision) now, or as it stood at ``as_of``."""
    if as_of is None:
        parts = live_parts(conn, incident_id, revision, now)
    else:
        parts = past_parts(conn, incident_id, revision, as_of, now, streams)
    return document(incident_id, parts, revision, as_of)
