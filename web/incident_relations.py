"""The incidents an incident relates to, as its page lists them: each with its title, the
relation as this incident reads it, and whether this incident recorded it (only the
recording incident may withdraw a relation); and the timeline's relation entries, which
name the other incident by its title, linked to its page."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import Connection, select

from application.summary_documents import relation_documents
from domain.values import Relation
from projections.documents.timeline import TimelineEntry
from projections.tables import incident_summaries

RELATION_LABELS = {
    "duplicate_of": "duplicate of",
    "related_to": "related to",
    "caused_by": "caused by",
    "duplicated_by": "duplicated by",
    "caused": "caused",
}
"""How each relation reads in a sentence: "this incident is <label> the other"."""

RELATION_CHOICES = [
    (r.value, RELATION_LABELS[r.value])
    for r in (Relation.RELATED_TO, Relation.CAUSED_BY, Relation.DUPLICATE_OF)
]
"""The relations a person records, as the form offers them: the loosest first, the default."""


@dataclass(frozen=True, slots=True)
class RelatedIncident:
    incident_id: UUID
    title: str | None
    """None while the other incident's summary is not written yet (projection workers)."""
    relation: str
    recorded_by_this: bool
    actor: str | None
    recorded_at: datetime

    @property
    def label(self) -> str:
        return RELATION_LABELS.get(self.relation, self.relation.replace("_", " "))


def _titles(conn: Connection, ids: set[UUID]) -> dict[UUID, str]:
    if not ids:
        return {}
    t = incident_summaries
    rows = conn.execute(select(t.c.incident_id, t.c.title).where(t.c.incident_id.in_(ids)))
    return {row.incident_id: row.title for row in rows}


def related_incidents(conn: Connection, incident_id: UUID) -> list[RelatedIncident]:
    """The incident's relations, recorded by it or by the other incident, oldest first."""
    relations = relation_documents(conn, incident_id)
    titles = _titles(conn, {r.incident_id for r in relations})
    return [
        RelatedIncident(
            incident_id=r.incident_id,
            title=titles.get(r.incident_id),
            relation=r.relation,
            recorded_by_this=r.recorded_by_this,
            actor=r.actor,
            recorded_at=r.recorded_at,
        )
        for r in relations
    ]


RELATION_ENTRIES = frozenset({"related", "unrelated"})
"""The timeline entries that name another incident (``details.other_incident_id``)."""


@dataclass(frozen=True, slots=True)
class Mention:
    """A timeline entry's sentence around the other incident it names: ``before``, the
    incident (its title; None when its summary is not there), ``after``."""

    before: str
    incident_id: UUID
    title: str | None
    after: str


def mentions(conn: Connection, entries: Iterable[TimelineEntry]) -> dict[UUID, Mention]:
    """The relation entries among ``entries`` by entry id, each split around the id of the
    incident it names (as the timeline's text gives it), with that incident's title."""
    found: dict[UUID, tuple[str, UUID, str]] = {}
    for entry in entries:
        other = entry.details.get("other_incident_id")
        if entry.kind not in RELATION_ENTRIES or not isinstance(other, str):
            continue
        before, named, after = entry.text.partition(other)
        if named:
            found[entry.id] = (before, UUID(other), after)
    titles = _titles(conn, {other for _, other, _ in found.values()})
    return {
        entry_id: Mention(before, other, titles.get(other), after)
        for entry_id, (before, other, after) in found.items()
    }
