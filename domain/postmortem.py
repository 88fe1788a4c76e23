"""Postmortem rules: sections edited in a revision, reviewed, approved, published; published
is final.

Editing a published postmortem opens the next revision (starting from the published
text), so every published revision stays exactly as it was published. A revision goes to
named reviewers; it is published only once one of them, someone other than its last
editor, approved its text as it stands and none asks for changes. An edit in review
clears every verdict: an approval is of a text, not of a revision number.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from domain import commands as c
from domain import events as e
from domain.errors import InvalidTransition, RuleViolation
from domain.state import Incident, Postmortem, frozen_map, require_incident
from domain.values import REQUIRED_TO_PUBLISH, PostmortemStatus, Status, Verdict


def _edit(state: Incident, cmd: c.EditPostmortemSection) -> list[e.DomainEvent]:
    require_incident(state, cmd)
    pm = state.postmortem
    revision = pm.revision + 1 if pm.status is PostmortemStatus.PUBLISHED else pm.revision
    if pm.sections.get(cmd.section, "") == cmd.text:
        raise RuleViolation(f"section {cmd.section.value} already has exactly this text")
    return [
        e.PostmortemSectionEdited(
            occurred_at=cmd.at,
            revision=revision,
            section=cmd.section,
            text=cmd.text,
            editor=cmd.editor,
        )
    ]


def _request_review(state: Incident, cmd: c.RequestPostmortemReview) -> list[e.DomainEvent]:
    require_incident(state, cmd)
    pm = state.postmortem
    if pm.status is not PostmortemStatus.DRAFT:
        raise InvalidTransition(
            f"revision {pm.revision} of the postmortem is {pm.status.value}; only a draft"
            " can be sent to review (edit a section to start a new revision)"
        )
    if not any(pm.sections.values()):
        raise RuleViolation("the postmortem is empty; write at least one section before review")
    reviewers = tuple(dict.fromkeys(cmd.reviewers))
    if not reviewers:
        raise RuleViolation("a review names at least one reviewer")
    if pm.last_editor is not None and reviewers == (pm.last_editor,):
        raise RuleViolation(
            f"{pm.last_editor} wrote the latest edit and cannot approve it; name another reviewer"
        )
    return [
        e.PostmortemReviewRequested(occurred_at=cmd.at, revision=pm.revision, reviewers=reviewers)
    ]


def _in_review_by(state: Incident, cmd: c.ApprovePostmortem | c.RequestPostmortemChanges) -> int:
    """The revision in review, when ``cmd.reviewer`` may give a verdict on it."""
    require_incident(state, cmd)
    pm = state.postmortem
    if pm.status is not PostmortemStatus.IN_REVIEW:
        raise InvalidTransition(
            f"revision {pm.revision} of the postmortem is {pm.status.value}, not in review"
        )
    if pm.reviewers and cmd.reviewer not in pm.reviewers:
        raise RuleViolation(
            f"{cmd.reviewer} is not a reviewer of revision {pm.revision}"
            f" (reviewers: {', '.join(pm.reviewers)})"
        )
    return pm.revision


def _approve(state: Incident, cmd: c.ApprovePostmortem) -> list[e.DomainEvent]:
    revision = _in_review_by(state, cmd)
    pm = state.postmortem
    if cmd.reviewer == pm.last_editor:
        raise RuleViolation(
            f"{cmd.reviewer} wrote the latest edit of revision {revision} and cannot approve"
            " their own edit"
        )
    if pm.verdicts.get(cmd.reviewer) is Verdict.APPROVED:
        raise RuleViolation(f"{cmd.reviewer} already approved revision {revision} as it stands")
    return [
        e.PostmortemApproved(
            occurred_at=cmd.at, revision=revision, reviewer=cmd.reviewer, comment=cmd.comment
        )
    ]


def _request_changes(state: Incident, cmd: c.RequestPostmortemChanges) -> list[e.DomainEvent]:
    revision = _in_review_by(state, cmd)
    return [
        e.PostmortemChangesRequested(
            occurred_at=cmd.at, revision=revision, reviewer=cmd.reviewer, comment=cmd.comment
        )
    ]


def _set_due_date(state: Incident, cmd: c.SetPostmortemDueDate) -> list[e.DomainEvent]:
    require_incident(state, cmd)
    if cmd.due_date == state.postmortem.due_date:
        raise RuleViolation("the postmortem already has this due date")
    return [e.PostmortemDueDateSet(occurred_at=cmd.at, due_date=cmd.due_date)]


def _publish(state: Incident, cmd: c.PublishPostmortem) -> list[e.DomainEvent]:
    require_incident(state, cmd)
    pm = state.postmortem
    if pm.status is PostmortemStatus.PUBLISHED:
        raise InvalidTransition(f"revision {pm.revision} of the postmortem is already published")
    if pm.status is not PostmortemStatus.IN_REVIEW:
        raise InvalidTransition("the postmortem must be in review before it is published")
    missing = [s.value for s in REQUIRED_TO_PUBLISH if not pm.sections.get(s)]
    if missing:
        raise RuleViolation(f"cannot publish: section(s) {', '.join(missing)} are empty")
    if state.status not in (Status.RESOLVED, Status.CLOSED):
        raise RuleViolation(
            f"cannot publish the postmortem of an incident that is {state.status.value};"
            " resolve it first"
        )
    asking = sorted(r for r, v in pm.verdicts.items() if v is Verdict.CHANGES_REQUESTED)
    if asking:
        raise RuleViolation(
            f"cannot publish: {', '.join(asking)} asked for changes to revision {pm.revision}"
        )
    if Verdict.APPROVED not in pm.verdicts.values():
        raise RuleViolation(
            f"cannot publish: revision {pm.revision} needs an approval from a reviewer"
            " other than its last editor"
        )
    return [e.PostmortemPublished(occurred_at=cmd.at, revision=pm.revision)]


DECIDERS: dict[type[c.Command], Callable[[Incident, Any], list[e.DomainEvent]]] = {
    c.EditPostmortemSection: _edit,
    c.RequestPostmortemReview: _request_review,
    c.PublishPostmortem: _publish,
    c.ApprovePostmortem: _approve,
    c.RequestPostmortemChanges: _request_changes,
    c.SetPostmortemDueDate: _set_due_date,
}


def _edited(state: Incident, ev: e.PostmortemSectionEdited) -> Incident:
    pm = state.postmortem
    status = PostmortemStatus.DRAFT if ev.revision > pm.revision else pm.status
    sections = frozen_map({**pm.sections, ev.section: ev.text})
    reviewers = () if ev.revision > pm.revision else pm.reviewers
    return replace(
        state,
        postmortem=replace(
            pm,
            revision=ev.revision,
            status=status,
            sections=sections,
            reviewers=reviewers,
            verdicts=frozen_map({}),
            last_editor=ev.editor,
        ),
    )


def _reviewed(state: Incident, ev: e.PostmortemReviewRequested) -> Incident:
    pm = state.postmortem
    return replace(
        state,
        postmortem=replace(
            pm, status=PostmortemStatus.IN_REVIEW, reviewers=ev.reviewers, verdicts=frozen_map({})
        ),
    )


def _verdict(verdict: Verdict) -> Callable[[Incident, Any], Incident]:
    def evolve(
        state: Incident, ev: e.PostmortemApproved | e.PostmortemChangesRequested
    ) -> Incident:
        pm = state.postmortem
        verdicts = frozen_map({**pm.verdicts, ev.reviewer: verdict})
        return replace(state, postmortem=replace(pm, verdicts=verdicts))

    return evolve


def _published(state: Incident, ev: e.PostmortemPublished) -> Incident:
    pm: Postmortem = state.postmortem
    return replace(
        state,
        postmortem=replace(
            pm, status=PostmortemStatus.PUBLISHED, published=(*pm.published, ev.revision)
        ),
    )


EVOLVERS: dict[type[e.DomainEvent], Callable[[Incident, Any], Incident]] = {
    e.PostmortemSectionEdited: _edited,
    e.PostmortemReviewRequested: _reviewed,
    e.PostmortemPublished: _published,
    e.PostmortemApproved: _verdict(Verdict.APPROVED),
    e.PostmortemChangesRequested: _verdict(Verdict.CHANGES_REQUESTED),
    e.PostmortemDueDateSet: lambda s, ev: replace(
        s, postmortem=replace(s.postmortem, due_date=ev.due_date)
    ),
}
