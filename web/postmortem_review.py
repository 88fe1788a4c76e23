"""The review part of the postmortem page: who reviews the revision and what each said, who
may give a verdict now, whether publishing would be accepted (and, when not, what is
missing), and when the postmortem is due.

Whether publishing would be accepted is asked of the domain's own rule (``decide`` with a
PublishPostmortem on the incident's state), so the page never states a rule of its own that
could drift from the one the service applies when the button is pressed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from application.postmortem_due import due_date, is_overdue
from domain.commands import PublishPostmortem
from domain.errors import DomainError
from domain.incident import decide
from domain.state import Incident
from domain.values import PostmortemStatus, Verdict
from projections.documents.postmortem import PostmortemDocument

VERDICT_LABELS = {
    Verdict.APPROVED.value: "approved",
    Verdict.CHANGES_REQUESTED.value: "changes requested",
}


@dataclass(frozen=True, slots=True)
class ReviewerVerdict:
    """A reviewer of the revision and their verdict on its text as it stands (None: not yet)."""

    name: str
    verdict: str | None
    comment: str | None
    at: datetime | None

    @property
    def label(self) -> str:
        return VERDICT_LABELS.get(self.verdict or "", "waiting")


@dataclass(frozen=True, slots=True)
class Due:
    """When the postmortem is due: its own date, or the default rule's; None while unresolved."""

    day: date | None
    own: bool
    overdue: bool
    business_days: int
    """The default rule: due this many business days after resolution."""
    settled: bool
    """A revision was published: the postmortem is no longer due."""


@dataclass(frozen=True, slots=True)
class Review:
    """What the page shows of the review of the latest revision, for one viewer."""

    reviewers: list[ReviewerVerdict]
    last_editor: str | None
    may_approve: bool
    may_request_changes: bool
    wrote_latest_edit: bool
    """The viewer is a reviewer but wrote the latest edit: someone else must approve it."""
    publish_blocker: str | None
    """Why publishing would be refused now (the domain's words); None when it would not."""
    due: Due


def _verdicts(doc: PostmortemDocument) -> list[ReviewerVerdict]:
    """Each named reviewer in the order named, then anyone else who gave a verdict (a revision
    sent to review before reviewers were named accepts a verdict from anyone)."""
    names = list(dict.fromkeys([*doc.reviewers, *doc.verdicts]))
    found = []
    for name in names:
        given = doc.verdicts.get(name)
        if given is None:
            found.append(ReviewerVerdict(name, None, None, None))
        else:
            found.append(ReviewerVerdict(name, given.verdict, given.comment, given.at))
    return found


def _publish_blocker(state: Incident, incident_id: UUID, now: datetime) -> str | None:
    if state.postmortem.status is not PostmortemStatus.IN_REVIEW:
        return None
    try:
        decide(state, PublishPostmortem(incident_id=incident_id, at=now))
    except DomainError as exc:
        # The page puts "Not publishable yet:" before it.
        return exc.detail.removeprefix("cannot publish: ")
    return None


def due_of(state: Incident, business_days: int, today: date) -> Due:
    """The postmortem's due date by the service's rule, and whether it has passed."""
    pm = state.postmortem
    due = due_date(pm.due_date, state.resolved_at, business_days)
    published = bool(pm.published)
    overdue = is_overdue(due, published, today)
    return Due(due, pm.due_date is not None, overdue, business_days, published)


def review_of(
    state: Incident,
    doc: PostmortemDocument,
    viewer: str,
    *,
    now: datetime,
    business_days: int,
) -> Review:
    """The review of the incident's latest revision as ``viewer`` sees it."""
    pm = state.postmortem
    in_review = pm.status is PostmortemStatus.IN_REVIEW
    named = not pm.reviewers or viewer in pm.reviewers
    wrote_it = pm.last_editor is not None and pm.last_editor == viewer
    may_review = in_review and named and not wrote_it
    return Review(
        reviewers=_verdicts(doc),
        last_editor=pm.last_editor,
        may_approve=may_review and pm.verdicts.get(viewer) is not Verdict.APPROVED,
        may_request_changes=may_review,
        wrote_latest_edit=in_review and named and wrote_it,
        publish_blocker=_publish_blocker(state, doc.incident_id, now),
        due=due_of(state, business_days, now.date()),
    )
