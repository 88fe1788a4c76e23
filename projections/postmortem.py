"""The postmortem: every revision's sections and its review status.

A new revision starts as a copy of the previous one's sections (the domain opens one
when a published postmortem is edited), so every revision can be read whole and a
published revision keeps exactly the text it was published with.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Table, and_, bindparam, delete, func, select

from domain import events as e
from domain.values import Section
from projections.base import Envelope
from projections.sql import upsert
from projections.tables import postmortem_revisions, postmortem_sections

Row = dict[str, Any]

EVENTS = (
    e.PostmortemSectionEdited,
    e.PostmortemReviewRequested,
    e.PostmortemPublished,
    e.PostmortemApproved,
    e.PostmortemChangesRequested,
)

SECTION_ORDER = {section.value: index for index, section in enumerate(Section)}


@dataclass
class Rows:
    """The postmortem rows one batch reads and writes, keyed by primary key."""

    revisions: dict[tuple[UUID, int], Row] = field(default_factory=dict)
    sections: dict[tuple[UUID, int, str], str | None] = field(default_factory=dict)
    """Section texts; ``None`` marks a section cleared (its row is deleted)."""
    changes: dict[UUID, Row] = field(default_factory=dict)
    """Each section edit with its text before and after, by event id: for audits of
    replayed events, never stored (the log is the postmortem's history)."""


def _revision(rows: Rows, incident_id: UUID, revision: int) -> Row:
    """The revision's row; a new revision starts with a copy of the previous one's sections."""
    key = (incident_id, revision)
    if key not in rows.revisions:
        rows.revisions[key] = {
            "incident_id": incident_id,
            "revision": revision,
            "status": "draft",
            "published_at": None,
            "published_by": None,
            "review_requested_at": None,
            "reviewers": [],
            "verdicts": {},
        }
        previous = [
            (section, text)
            for (owner, number, section), text in rows.sections.items()
            if owner == incident_id and number == revision - 1 and text is not None
        ]
        for section, text in previous:
            rows.sections[(incident_id, revision, section)] = text
    return rows.revisions[key]


def apply_to_rows(rows: Rows, env: Envelope) -> None:
    """Fold one event into in-memory postmortem rows; other events are ignored.

    ``rows`` must hold the incident's latest stored revision and its sections.
    """
    ev = env.event
    if not isinstance(ev, EVENTS):
        return
    incident_id = env.incident_id
    revision = _revision(rows, incident_id, ev.revision)
    if isinstance(ev, e.PostmortemSectionEdited):
        key = (incident_id, ev.revision, ev.section.value)
        before = rows.sections.get(key)
        rows.sections[key] = ev.text or None
        rows.changes[env.recorded.event_id] = {
            "change_id": env.recorded.event_id,
            "incident_id": incident_id,
            "revision": ev.revision,
            "section": ev.section.value,
            "actor": env.actor,
            "occurred_at": env.recorded.occurred_at,
            "recorded_at": env.recorded.recorded_at,
            "position": env.recorded.position,
            "before": before,
            "after": ev.text or None,
            "request_id": env.meta("request_id"),
            "correlation_id": env.meta("correlation_id"),
        }
        revision["verdicts"] = {}  # an approval is of a text: a new text needs a new one
    elif isinstance(ev, e.PostmortemReviewRequested):
        revision.update(
            status="in_review",
            review_requested_at=ev.occurred_at,
            reviewers=list(ev.reviewers),
            verdicts={},
        )
    elif isinstance(ev, e.PostmortemApproved | e.PostmortemChangesRequested):
        verdict = "approved" if isinstance(ev, e.PostmortemApproved) else "changes_requested"
        entry = {"verdict": verdict, "comment": ev.comment, "at": ev.occurred_at.isoformat()}
        # New containers rather than in-place changes: rows read back stay as read.
        revision["verdicts"] = {**(revision["verdicts"] or {}), ev.reviewer: entry}
    else:
        revision.update(status="published", published_at=ev.occurred_at, published_by=env.actor)


class PostmortemProjection:
    name = "postmortem"
    version = 2

    def __init__(
        self, sections: Table = postmortem_sections, revisions: Table = postmortem_revisions
    ) -> None:
        self.sections = sections
        self.revisions = revisions

    @property
    def tables(self) -> tuple[Table, ...]:
        return (self.sections, self.revisions)

    def using(self, tables: Mapping[str, Table]) -> PostmortemProjection:
        return PostmortemProjection(
            tables[postmortem_sections.name], tables[postmortem_revisions.name]
        )

    def _load_latest(self, conn: Connection, ids: set[UUID]) -> Rows:
        """Each incident's latest revision and its sections: all a batch can build on."""
        revs, secs = self.revisions, self.sections
        latest = (
            select(revs.c.incident_id, func.max(revs.c.revision).label("revision"))
            .where(revs.c.incident_id.in_(ids))
            .group_by(revs.c.incident_id)
            .subquery()
        )
        rows = Rows()
        on_revision = and_(
            revs.c.incident_id == latest.c.incident_id, revs.c.revision == latest.c.revision
        )
        for row in conn.execute(select(revs).join(latest, on_revision)):
            rows.revisions[(row.incident_id, row.revision)] = dict(row._mapping)
        on_section = and_(
            secs.c.incident_id == latest.c.incident_id, secs.c.revision == latest.c.revision
        )
        for row in conn.execute(select(secs).join(latest, on_section)):
            rows.sections[(row.incident_id, row.revision, row.section)] = row.text
        return rows

    def apply(self, conn: Connection, batch: Sequence[Envelope]) -> None:
        relevant = [env for env in batch if isinstance(env.event, EVENTS)]
        if not relevant:
            return
        rows = self._load_latest(conn, {env.incident_id for env in relevant})
        for env in relevant:
            apply_to_rows(rows, env)
        upsert(conn, self.revisions, [rows.revisions[key] for key in sorted(rows.revisions)])
        kept = sorted(key for key, text in rows.sections.items() if text is not None)
        upsert(
            conn,
            self.sections,
            [
                {"incident_id": i, "revision": r, "section": s, "text": rows.sections[(i, r, s)]}
                for i, r, s in kept
            ],
        )
        cleared = [key for key, text in rows.sections.items() if text is None]
        if cleared:
            t = self.sections
            conn.execute(
                delete(t).where(
                    t.c.incident_id == bindparam("i"),
                    t.c.revision == bindparam("r"),
                    t.c.section == bindparam("s"),
                ),
                [{"i": i, "r": r, "s": s} for i, r, s in cleared],
            )


def get_postmortem(conn: Connection, incident_id: UUID, revision: int | None = None) -> Row | None:
    """One revision (default: the latest) with its sections in reading order, or None."""
    revs, secs = postmortem_revisions, postmortem_sections
    query = select(revs).where(revs.c.incident_id == incident_id).order_by(revs.c.revision)
    all_revisions = [dict(row._mapping) for row in conn.execute(query)]

    def texts(wanted: int) -> dict[str, str]:
        query = select(secs.c.section, secs.c.text).where(
            secs.c.incident_id == incident_id, secs.c.revision == wanted
        )
        return dict(conn.execute(query).all())

    return revision_document(all_revisions, revision, texts)


def revision_document(
    revisions: Sequence[Row], revision: int | None, texts: Callable[[int], Mapping[str, str]]
) -> Row | None:
    """One of ``revisions`` (in revision order; default: the latest) with its sections in
    reading order, or None; ``texts`` gives a revision's section texts by section name."""
    if not revisions:
        return None
    wanted = revision if revision is not None else revisions[-1]["revision"]
    chosen = next((row for row in revisions if row["revision"] == wanted), None)
    if chosen is None:
        return None
    found = texts(wanted)
    return {
        **chosen,
        "sections": {name: found[name] for name in sorted(found, key=SECTION_ORDER.__getitem__)},
        "latest_revision": revisions[-1]["revision"],
        "published_revisions": [
            row["revision"] for row in revisions if row["status"] == "published"
        ],
    }
