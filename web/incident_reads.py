"""What the incident page shows, read now or as of a past moment: the summary, the
timeline with each amended note's earlier texts, the action items, the postmortem's
sections, and the moments time travel can stop at (the log positions of the
incident's events).

Now, everything but the earlier texts and the moments comes from the read models. As of
a past moment, all of it is replayed from the incident's stream cut there, exactly as
the JSON API answers ``?as_of=``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection

from domain import events as e
from projections.action_items import list_action_items
from projections.as_of import (
    AsOf,
    Cut,
    action_item_rows,
    postmortem_revision,
    postmortem_rows,
    read_incident,
    replay,
    summary_row,
    timeline_rows,
)
from projections.base import Envelope
from projections.decoded_streams import DecodedStreams
from projections.documents.action_items import ActionItem
from projections.documents.incident import IncidentSummary
from projections.documents.timeline import TimelineEntry
from projections.errors import NotFound
from projections.postmortem import get_postmortem
from projections.summary import get_summary
from projections.timeline import get_timeline
from web.incident_relations import Mention, RelatedIncident, mentions, related_incidents

ITEMS_LIMIT = 10_000
"""More action items than any incident has: the page lists them all."""

STATUS_KINDS = frozenset({"status_changed", "severity_changed", "acknowledged", "mitigated"})
GROUP_PREFIXES = (
    ("note", "note"),
    ("alert", "alert"),
    ("postmortem_", "postmortem"),
    ("action_item_", "action-item"),
)
LABELS = {
    "note": "Note",
    "alert": "Alert",
    "status": "Status",
    "postmortem": "Postmortem",
    "action-item": "Action item",
    "incident": "Incident",
}


def group_of(kind: str) -> str:
    """The family a timeline entry's kind belongs to, which the page tells by label and colour."""
    for prefix, group in GROUP_PREFIXES:
        if kind.startswith(prefix):
            return group
    return "status" if kind in STATUS_KINDS else "incident"


@dataclass(frozen=True, slots=True)
class NoteVersion:
    """One text a note had: what it said, when it said it happened, who wrote it when."""

    text: str
    occurred_at: datetime
    written_at: datetime
    written_by: str | None


@dataclass(frozen=True, slots=True)
class Entry:
    """A timeline entry as the page shows it."""

    entry: TimelineEntry
    earlier: tuple[NoteVersion, ...] = ()
    """An amended note's texts before its current one, oldest first."""

    @property
    def group(self) -> str:
        return group_of(self.entry.kind)

    @property
    def label(self) -> str:
        return LABELS[self.group]

    @property
    def redacted(self) -> bool:
        return self.entry.kind == "note_redacted"

    @property
    def amended(self) -> bool:
        return self.entry.kind == "note" and self.entry.amended_at is not None

    @property
    def links(self) -> list[tuple[str, str]]:
        """An alert's links (dashboard, source, silence) that a browser may follow safely."""
        details = self.entry.details
        found = ((label, details.get(key)) for key, label in ALERT_LINKS)
        return [(label, url) for label, url in found if isinstance(url, str) and _web_url(url)]

    @property
    def labels(self) -> dict[str, str]:
        """An alert's labels, as its monitoring system sent them."""
        labels = self.entry.details.get("labels")
        return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}


ALERT_LINKS = (
    ("dashboard_url", "Dashboard"),
    ("panel_url", "Panel"),
    ("generator_url", "Source"),
    ("silence_url", "Silence"),
)


def _web_url(url: str) -> bool:
    # Monitoring systems send these; only plain web links become clickable.
    return url.startswith(("https://", "http://"))


@dataclass(frozen=True, slots=True)
class Moment:
    """A log position of one of the incident's events and when it was recorded."""

    position: int
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class Past:
    """The past moment a page shows: as asked, the log position and the time it stands for."""

    asked: str
    position: int
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class IncidentView:
    summary: IncidentSummary
    timeline: list[Entry]
    items: list[ActionItem]
    postmortem: dict[str, Any] | None
    """The postmortem's latest revision with its sections; None before anyone wrote it."""
    moments: list[Moment]
    past: Past | None
    relations: list[RelatedIncident] = field(default_factory=list)
    """Read live only: a past view leaves them out, as the API's ``?as_of=`` summary does."""
    mentions: dict[UUID, Mention] = field(default_factory=dict)
    """The timeline's relation entries by entry id, naming the other incident by its title."""

    @property
    def newest_position(self) -> int:
        """The newest log position the page shows: live updates follow the log from there."""
        return self.summary.last_position


def note_versions(envelopes: Sequence[Envelope]) -> dict[UUID, list[NoteVersion]]:
    """Every text of every note that still has one, oldest first (a redaction removes them all)."""
    versions: dict[UUID, list[NoteVersion]] = {}
    for env in envelopes:
        ev, recorded = env.event, env.recorded
        if isinstance(ev, e.NoteAdded) and isinstance(ev.text, str):
            first = NoteVersion(ev.text, recorded.occurred_at, recorded.recorded_at, env.actor)
            versions[ev.note_id] = [first]
        elif isinstance(ev, e.NoteAmended) and ev.note_id in versions:
            last = versions[ev.note_id][-1]
            versions[ev.note_id].append(
                NoteVersion(
                    ev.text if isinstance(ev.text, str) else last.text,
                    ev.note_occurred_at or last.occurred_at,
                    recorded.recorded_at,
                    env.actor,
                )
            )
        elif isinstance(ev, e.NoteRedacted):
            # Redacted means gone for good: no earlier text of it may be shown either.
            versions.pop(ev.note_id, None)
    return versions


def _entries(rows: Sequence[dict[str, Any]], envelopes: Sequence[Envelope]) -> list[Entry]:
    versions = note_versions(envelopes)
    entries = []
    for row in rows:
        entry = TimelineEntry.from_row(row)
        earlier = versions.get(entry.id, [])[:-1] if entry.kind == "note" else []
        entries.append(Entry(entry, tuple(earlier)))
    return entries


def _now_view(
    conn: Connection, incident_id: UUID, stream: list[Envelope], now: datetime
) -> IncidentView:
    row = get_summary(conn, incident_id)
    if row is None:
        raise NotFound.incident(incident_id)
    today = now.date()
    items = list_action_items(conn, incident_id=incident_id, today=today, limit=ITEMS_LIMIT)
    timeline = _entries(get_timeline(conn, incident_id), stream)
    return IncidentView(
        summary=IncidentSummary.from_row(row),
        timeline=timeline,
        items=[ActionItem.from_row(item, today) for item in items],
        postmortem=get_postmortem(conn, incident_id),
        moments=[Moment(env.recorded.position, env.recorded.recorded_at) for env in stream],
        past=None,
        relations=related_incidents(conn, incident_id),
        mentions=mentions(conn, (item.entry for item in timeline)),
    )


def _past_view(
    conn: Connection,
    incident_id: UUID,
    stream: list[Envelope],
    as_of: AsOf,
    now: datetime,
    streams: DecodedStreams,
) -> IncidentView:
    shown = replay(conn, incident_id, as_of, streams)
    row = summary_row(shown)
    assert row is not None  # replay returns a declared incident's events
    moment = as_of.moment(conn, now)
    today = moment.date()
    position = as_of.cut.position if as_of.cut.position is not None else row["last_position"]
    pm = postmortem_rows(shown)
    timeline = _entries(timeline_rows(shown), shown)
    return IncidentView(
        summary=IncidentSummary.from_row(row),
        timeline=timeline,
        items=[ActionItem.from_row(item, today) for item in action_item_rows(shown)],
        postmortem=postmortem_revision(pm) if pm.revisions else None,
        moments=[Moment(env.recorded.position, env.recorded.recorded_at) for env in stream],
        past=Past(as_of.text, position, moment),
        mentions=mentions(conn, (item.entry for item in timeline)),
    )


def read_incident_view(
    conn: Connection,
    incident_id: UUID,
    as_of: AsOf | None,
    now: datetime,
    streams: DecodedStreams,
) -> IncidentView:
    """The page's contents now or as of ``as_of``; NotFound for an unknown incident or one
    not yet declared at that moment."""
    stream = read_incident(conn, incident_id, Cut(), streams)
    if not stream:
        raise NotFound.incident(incident_id)
    if as_of is None:
        return _now_view(conn, incident_id, stream, now)
    return _past_view(conn, incident_id, stream, as_of, now, streams)
