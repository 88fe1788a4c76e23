"""What the postmortem pages show, read through the projections: the document, its
published revisions, each section's history, and two states of it compared.

The history and the comparisons are read from the log (``projections.postmortem_audit``),
as the API's audit answers are, so they account for every change the log holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection

from application.publication_proofs import with_proof
from domain.values import REQUIRED_TO_PUBLISH, ActionKind, PostmortemStatus, Role, Section
from projections.as_of import parse_number, parse_time
from projections.base import Envelope
from projections.documents.action_items import ActionItem
from projections.documents.postmortem import PostmortemDocument, postmortem_document
from projections.errors import NotFound
from projections.postmortem_audit import (
    NoSuchRevision,
    NotDeclared,
    Version,
    postmortem_log_of,
    published_revisions,
    section_changes,
    version_at,
)
from web.diffs import Line, collapse, has_changes, line_diff
from web.errors import PageError
from web.incident_relations import mentions
from web.proof_badge import proof_badge

SECTION_TITLES = {
    Section.SUMMARY: "Summary",
    Section.IMPACT: "Impact",
    Section.DETECTION: "Detection",
    Section.ROOT_CAUSE: "Root cause",
    Section.RESOLUTION: "Resolution",
    Section.LESSONS_LEARNED: "Lessons learned",
}
STATUS_LABELS = {
    PostmortemStatus.DRAFT: "draft",
    PostmortemStatus.IN_REVIEW: "in review",
    PostmortemStatus.PUBLISHED: "published",
}
ITEM_STATUS_LABELS = {
    "open": "open",
    "in_progress": "in progress",
    "done": "done",
    "wont_do": "won't do",
}


def section_of(name: str) -> Section:
    """The section a path names; 404 for any other name."""
    try:
        return Section(name)
    except ValueError:
        raise PageError(404, f"a postmortem has no section {name!r}") from None


def revision_number(text: str | None) -> int | None:
    """The ``?revision=`` asked for (None: the latest); 422 for anything but a number from 1."""
    if not text:
        return None
    number = parse_number(text)
    if number is None or number == 0:
        raise PageError(422, f"revision must be a number from 1, not {text!r}")
    return number


def audit_log(conn: Connection, incident_id: UUID) -> list[Envelope]:
    """The incident's declaration and postmortem events; 404 for an unknown incident."""
    try:
        return postmortem_log_of(conn, incident_id)
    except NotFound as exc:
        raise PageError(404, exc.detail) from None


@dataclass(frozen=True, slots=True)
class Change:
    """One edit of a section: who, when, in which revision, and how the text changed."""

    revision: int
    actor: str | None
    occurred_at: datetime
    recorded_at: datetime
    cleared: bool
    first: bool
    lines: list[Line]


def section_history(audited: list[Envelope]) -> dict[Section, list[Change]]:
    """Each section's edits, newest first, each with its diff from the text before it."""
    history: dict[Section, list[Change]] = {section: [] for section in Section}
    for row in section_changes(audited):
        history[Section(row["section"])].insert(
            0,
            Change(
                revision=row["revision"],
                actor=row["actor"],
                occurred_at=row["occurred_at"],
                recorded_at=row["recorded_at"],
                cleared=row["after"] is None,
                first=row["before"] is None,
                lines=collapse(line_diff(row["before"], row["after"])),
            ),
        )
    return history


def _measures(items: list[ActionItem]) -> list[tuple[str, list[ActionItem]]]:
    return [(kind.value.capitalize(), [i for i in items if i.kind is kind]) for kind in ActionKind]


def page_context(
    conn: Connection, incident_id: UUID, revision: int | None, now: datetime
) -> dict[str, Any]:
    """Everything the postmortem page shows of one revision (default: the latest)."""
    audited = audit_log(conn, incident_id)
    try:
        doc: PostmortemDocument = postmortem_document(conn, incident_id, revision, now)
    except NotFound as exc:
        raise PageError(404, exc.detail) from None
    doc = with_proof(conn, doc)
    latest = doc.revision == doc.latest_revision
    inc = doc.incident
    return {
        "doc": doc,
        "inc": inc,
        "latest": latest,
        "status_label": STATUS_LABELS[doc.status],
        "proof": proof_badge(doc.proof),
        "sections": SECTION_TITLES,
        "summary_text": doc.sections.get(Section.SUMMARY),
        "declared_summary": inc.summary,
        "roles": [
            (role.value.replace("_", " ").capitalize(), inc.roles[role.value])
            for role in Role
            if role.value in inc.roles
        ],
        "measures": _measures(doc.action_items),
        "mentions": mentions(conn, doc.timeline),
        "item_status_labels": ITEM_STATUS_LABELS,
        "history": section_history(audited),
        "revisions": published_revisions(audited)[::-1],
        "can_edit": latest,
        "can_review": latest and doc.status is PostmortemStatus.DRAFT,
        "can_publish": latest and doc.status is PostmortemStatus.IN_REVIEW,
        "required_to_publish": [SECTION_TITLES[s].lower() for s in REQUIRED_TO_PUBLISH],
        "next_revision": doc.revision + 1
        if doc.status is PostmortemStatus.PUBLISHED
        else doc.revision,
    }


# --- comparing two states --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Side:
    """One side of a comparison: what was asked for and the text it names."""

    reference: str | None
    at: datetime | None
    version: Version

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[PostmortemStatus(self.version.status)]


class BadReference(Exception):
    """A side of a comparison that names nothing: ``status`` is 422 (not a revision or a time)
    or 404 (no such revision, or the incident was not declared yet)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


_LOCAL_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?", re.ASCII)


def _time(text: str) -> datetime | None:
    """An RFC 3339 time; one without a zone (as a datetime-local field sends it) is UTC,
    the zone every page shows."""
    at = parse_time(text)
    if at is not None or not _LOCAL_TIME.fullmatch(text):
        return at
    try:
        return datetime.fromisoformat(text.upper()).replace(tzinfo=UTC)
    except ValueError:  # month 13, hour 24
        return None


def resolve_side(audited: list[Envelope], name: str, reference: str | None) -> Side:
    """The text ``reference`` names: a revision as it stands, or (a time) the latest revision as
    recorded by then; no reference is the latest revision as it stands."""
    if not reference:
        return Side(None, None, version_at(audited, None, None))
    number, at = parse_number(reference), _time(reference)
    if (number is None and at is None) or number == 0:
        raise BadReference(
            422,
            f"{name}: {reference!r} is neither a revision number (from 1) nor a time such as"
            " 2026-03-02T10:30:00Z",
        )
    try:
        return Side(reference, at, version_at(audited, number, at))
    except NoSuchRevision:
        raise BadReference(404, f"{name}: the postmortem has no revision {number}") from None
    except NotDeclared:
        raise BadReference(
            404, f"{name}: the incident had not been declared as of {reference}"
        ) from None


@dataclass(frozen=True, slots=True)
class SectionDiff:
    section: Section
    title: str
    lines: list[Line]
    changed: bool
    before: str | None
    after: str | None


def compare(before: Version, after: Version) -> list[SectionDiff]:
    """Every section in reading order with its line diff from ``before`` to ``after``."""
    diffs = []
    for section in Section:
        old, new = before.sections.get(section.value), after.sections.get(section.value)
        lines = line_diff(old, new)
        diffs.append(
            SectionDiff(
                section, SECTION_TITLES[section], collapse(lines), has_changes(lines), old, new
            )
        )
    return diffs
