"""Postmortem rules: sections edited in a revision, reviewed, published; published is final.

Editing a published postmortem opens the next revision (starting from the published
text), so every published revision stays exactly as it was published.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from domain import commands as c
from domain import events as e
from domain.errors import InvalidTransition, RuleViolation
from domain.state import Incident, Postmortem, frozen_map, require_incident
from domain.values import REQUIRED_TO_PUBLISH, PostmortemStatus, Status


def _edit(state: Incident, cmd: c.EditPostmortemSection) -> list[e.DomainEvent]:
    require_incident(state, cmd)
    pm = state.postmortem
    revision = pm.revision + 1 if pm.status is PostmortemStatus.PUBLISHED else pm.revision
    if pm.sections.get(cmd.section, "") == cmd.text:
        raise RuleViolation(f"section {cmd.section.value} already has exactly this text")
    return [
        e.PostmortemSectionEdited(
            occurred_at=cmd.at, revision=revision, section=cmd.section, text=cmd.text
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
    return [e.PostmortemReviewRequested(occurred_at=cmd.at, revision=pm.revision)]


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
    return [e.PostmortemPublished(occurred_at=cmd.at, revision=pm.revision)]


DECIDERS: dict[type[c.Command], Callable[[Incident, Any], list[e.DomainEvent]]] = {
    c.EditPostmortemSection: _edit,
    c.RequestPostmortemReview: _request_review,
    c.PublishPostmortem: _publish,
}


def _edited(state: Incident, ev: e.PostmortemSectionEdited) -> Incident:
    pm = state.postmortem
    status = PostmortemStatus.DRAFT if ev.revision > pm.revision else pm.status
    sections = frozen_map({**pm.sections, ev.section: ev.text})
    return replace(
        state, postmortem=replace(pm, revision=ev.revision, status=status, sections=sections)
    )


def _reviewed(state: Incident, ev: e.PostmortemReviewRequested) -> Incident:
    return replace(state, postmortem=replace(state.postmortem, status=PostmortemStatus.IN_REVIEW))


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
}
