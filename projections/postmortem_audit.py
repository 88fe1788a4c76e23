"""Who changed the postmortem, when, through which request, and how the text changed.

Read from the log itself rather than from the postmortem read model: an audit answers
for every change the log holds, including while asynchronous workers are still behind.
The incident's declaration is read along, so a time before it can be told apart from a
time before the first edit.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection

from domain import events as e
from domain.values import Section, stream_id_for
from eventstore.selective_reads import read_stream_types_in
from projections.as_of import postmortem_revision, postmortem_rows
from projections.base import Envelope, envelope
from projections.errors import NotFound

Row = dict[str, Any]

AUDITED = (
    e.IncidentDeclared,
    e.PostmortemSectionEdited,
    e.PostmortemReviewRequested,
    e.PostmortemApproved,
    e.PostmortemChangesRequested,
    e.PostmortemPublished,
)
AUDITED_TYPES = tuple(str(cls.model_fields["type"].default) for cls in AUDITED)

STATUS_AFTER = {
    e.PostmortemReviewRequested: "in_review",
    e.PostmortemApproved: "approved",
    e.PostmortemChangesRequested: "changes_requested",
    e.PostmortemPublished: "published",
}
"""Each step of the review workflow: the status it leaves its revision in, or the verdict."""


def postmortem_log_of(conn: Connection, incident_id: UUID) -> list[Envelope]:
    """The incident's declaration and postmortem events, in stream order; NotFound for an
    incident that was never declared (every stream starts with its declaration)."""
    recorded = read_stream_types_in(conn, stream_id_for(incident_id), AUDITED_TYPES)
    if not recorded:
        raise NotFound.incident(incident_id)
    return [envelope(r) for r in recorded]


def unified_diff(before: str | None, after: str | None, from_label: str, to_label: str) -> str:
    """``difflib.unified_diff`` of two texts as one string; empty when they are equal."""
    lines = difflib.unified_diff(
        (before or "").splitlines(),
        (after or "").splitlines(),
        fromfile=from_label,
        tofile=to_label,
        lineterm="",
    )
    text = "\n".join(lines)
    return text + "\n" if text else ""


def section_changes(envelopes: Sequence[Envelope]) -> list[Row]:
    """Every section edit with the text before and after it and their diff, in log order."""
    changes = sorted(
        postmortem_rows(envelopes).changes.values(), key=lambda row: int(row["position"])
    )
    for change in changes:
        section, revision = change["section"], change["revision"]
        change["diff"] = unified_diff(
            change["before"],
            change["after"],
            f"a/revision-{revision}/{section}",
            f"b/revision-{revision}/{section}",
        )
    return changes


def status_changes(envelopes: Sequence[Envelope]) -> list[Row]:
    """Every review request, verdict and publication, in log order."""
    return [
        {
            "id": env.recorded.event_id,
            "revision": getattr(env.event, "revision"),  # noqa: B009 - every step has one
            "status": STATUS_AFTER[type(env.event)],
            "actor": env.actor,
            "occurred_at": env.recorded.occurred_at,
            "recorded_at": env.recorded.recorded_at,
            "position": env.recorded.position,
            "request_id": env.meta("request_id"),
            "correlation_id": env.meta("correlation_id"),
            "reviewers": list(getattr(env.event, "reviewers", ())),
            "comment": getattr(env.event, "comment", None),
        }
        for env in envelopes
        if type(env.event) in STATUS_AFTER
    ]


def published_revisions(envelopes: Sequence[Envelope]) -> list[Row]:
    """Each published revision: when, by whom, at which log position."""
    return [
        {
            "revision": change["revision"],
            "published_at": change["occurred_at"],
            "actor": change["actor"],
            "position": change["position"],
        }
        for change in status_changes(envelopes)
        if change["status"] == "published"
    ]


# --- comparing two states of the document --------------------------------------------------


@dataclass(frozen=True, slots=True)
class Version:
    """One side of a comparison: a revision's text, as it stands or as it stood at a time."""

    revision: int
    status: str
    sections: dict[str, str]


class NotDeclared(LookupError):
    """The incident had not been declared at the time asked for."""


class NoSuchRevision(LookupError):
    """The postmortem has no revision with this number."""


def version_at(envelopes: Sequence[Envelope], revision: int | None, at: datetime | None) -> Version:
    """The postmortem's text: of ``revision`` (default: the latest) as recorded by ``at``.

    A postmortem nobody wrote yet is revision 1, an empty draft.
    """
    if at is not None:
        envelopes = [env for env in envelopes if env.recorded.recorded_at <= at]
        if not envelopes:
            raise NotDeclared(at)
    found = postmortem_revision(postmortem_rows(envelopes), revision)
    if found is None:
        if revision not in (None, 1) or postmortem_revision(postmortem_rows(envelopes)):
            raise NoSuchRevision(revision)
        return Version(revision=1, status="draft", sections={})
    return Version(found["revision"], found["status"], found["sections"])


def section_diffs(before: Version, after: Version, from_label: str, to_label: str) -> list[Row]:
    """Every section in reading order: its two texts, their diff and whether they differ."""
    diffs = []
    for section in Section:
        old, new = before.sections.get(section.value), after.sections.get(section.value)
        diffs.append(
            {
                "section": section,
                "before": old,
                "after": new,
                "diff": unified_diff(
                    old, new, f"a/{from_label}/{section.value}", f"b/{to_label}/{section.value}"
                ),
                "changed": old != new,
            }
        )
    return diffs
