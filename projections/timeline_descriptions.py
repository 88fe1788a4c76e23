"""What the timeline says of each event that is one entry of its own: kind, text, details."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain import events as e
from domain.action_item_events import ActionItemEvent
from domain.postmortem_events import PostmortemEvent
from projections.timeline_alerts import ALERT_DESCRIBERS
from projections.timeline_classification import CLASSIFICATION_DESCRIBERS

Described = tuple[str, str, dict[str, Any]]
"""An entry's kind, human-readable text and details."""


def _brief(text: str, limit: int = 200) -> str:
    """The first line of a long text, cut to ``limit`` characters."""
    lines = text.strip().splitlines() or [""]
    brief = lines[0]
    if len(brief) > limit:
        return brief[: limit - 1] + "…"
    return brief + " …" if len(lines) > 1 else brief


def _label(value: str) -> str:
    return value.replace("_", " ")


def _fact(name: str, text: str) -> Described:
    """An issue-summary fact: the entry tells its first line, the details hold all of it."""
    return f"{name}_updated", f"{_label(name).capitalize()} updated: {_brief(text)}", {name: text}


def _item(kind: str, text: str, ev: ActionItemEvent, /, **details: Any) -> Described:
    """An action item's entry: its details name the item first."""
    return kind, text, {"item_id": str(ev.item_id), **details}


def _with_reason(text: str, reason: str | None) -> str:
    return f"{text}: {reason}" if reason else text


def _status(ev: e.IncidentStatusChanged) -> Described:
    before, after = ev.from_status.value, ev.to_status.value
    return (
        "status_changed",
        f"Status changed from {before} to {after}",
        {"from": before, "to": after},
    )


def _severity(ev: e.IncidentSeverityChanged) -> Described:
    before, after = ev.from_severity.value, ev.to_severity.value
    text = _with_reason(f"Severity changed from {before} to {after}", ev.reason)
    return "severity_changed", text, {"from": before, "to": after, "reason": ev.reason}


def _role(ev: e.RoleAssigned) -> Described:
    text = f"{ev.person} is now {_label(ev.role.value)}"
    if ev.previous:
        text += f" (was {ev.previous})"
    details = {"role": ev.role.value, "person": ev.person, "previous": ev.previous}
    return "role_assigned", text, details


def _section(ev: e.PostmortemSectionEdited) -> Described:
    verb = "edited" if ev.text else "cleared"
    text = f"Postmortem section {_label(ev.section.value)} {verb} (revision {ev.revision})"
    return "postmortem_section_edited", text, {"revision": ev.revision, "section": ev.section.value}


def _workflow(step: str, what: str, ev: PostmortemEvent) -> Described:
    """A step of the postmortem's review workflow, for the revision it moves."""
    text = f"Postmortem revision {ev.revision} {what}"
    return f"postmortem_{step}", text, {"revision": ev.revision}


def _review_requested(ev: e.PostmortemReviewRequested) -> Described:
    kind, text, details = _workflow("review_requested", "sent to review", ev)
    if ev.reviewers:
        text += f" (reviewers: {', '.join(ev.reviewers)})"
    return kind, text, {**details, "reviewers": list(ev.reviewers)}


def _verdict(ev: e.PostmortemApproved | e.PostmortemChangesRequested) -> Described:
    approved = isinstance(ev, e.PostmortemApproved)
    what = "approved" if approved else "changes requested"
    kind, text, details = _workflow(
        "approved" if approved else "changes_requested", f"{what} by {ev.reviewer}", ev
    )
    return (
        kind,
        _with_reason(text, ev.comment),
        {**details, "reviewer": ev.reviewer, "comment": ev.comment},
    )


def _due_date(ev: e.PostmortemDueDateSet) -> Described:
    if ev.due_date is None:
        return (
            "postmortem_due_date_set",
            "Postmortem due date reset to the default",
            {"due_date": None},
        )
    due = ev.due_date.isoformat()
    return "postmortem_due_date_set", f"Postmortem due by {due}", {"due_date": due}


def _item_added(ev: e.ActionItemAdded) -> Described:
    text = (
        f"{ev.kind.value.capitalize()} action item added: {ev.title}"
        f" (owner {ev.owner}, due {ev.due_date.isoformat()}, {ev.priority.value})"
    )
    return _item(
        "action_item_added",
        text,
        ev,
        title=ev.title,
        kind=ev.kind.value,
        owner=ev.owner,
        due_date=ev.due_date.isoformat(),
        priority=ev.priority.value,
        ticket_url=ev.ticket_url,
    )


def _item_reassigned(ev: e.ActionItemReassigned) -> Described:
    text = f"Action item reassigned from {ev.previous_owner} to {ev.owner}"
    details = {"owner": ev.owner, "previous_owner": ev.previous_owner}
    return _item("action_item_reassigned", text, ev, **details)


def _item_retitled(ev: e.ActionItemRetitled) -> Described:
    text = f"Action item retitled: {ev.title} (was {ev.previous})"
    return _item("action_item_retitled", text, ev, title=ev.title, previous=ev.previous)


def _item_reprioritized(ev: e.ActionItemReprioritized) -> Described:
    now, before = ev.priority.value, ev.previous.value
    text = f"Action item priority changed to {now} (was {before})"
    return _item("action_item_reprioritized", text, ev, priority=now, previous=before)


def _item_rescheduled(ev: e.ActionItemRescheduled) -> Described:
    before, after = ev.previous_due_date.isoformat(), ev.due_date.isoformat()
    text = f"Action item rescheduled from {before} to {after}"
    return _item("action_item_rescheduled", text, ev, due_date=after, previous_due_date=before)


def _item_status(ev: e.ActionItemStatusChanged) -> Described:
    before, after = ev.from_status.value, ev.to_status.value
    text = _with_reason(
        f"Action item status changed from {_label(before)} to {_label(after)}", ev.reason
    )
    details = {"from": before, "to": after, "reason": ev.reason}
    return _item("action_item_status_changed", text, ev, **details)


def _item_ticket(ev: e.ActionItemTicketLinked) -> Described:
    if ev.ticket_url is None:
        return _item(
            "action_item_ticket_unlinked", "Action item ticket link removed", ev, ticket_url=None
        )
    text = f"Action item linked to {ev.ticket_url}"
    return _item("action_item_ticket_linked", text, ev, ticket_url=ev.ticket_url)


DESCRIBERS: dict[type[e.DomainEvent], Callable[[Any], Described]] = {
    e.IncidentAcknowledged: lambda ev: ("acknowledged", "Incident acknowledged", {}),
    e.IncidentStatusChanged: _status,
    e.IncidentSeverityChanged: _severity,
    e.ImpactUpdated: lambda ev: _fact("impact", ev.impact),
    e.RootCauseUpdated: lambda ev: _fact("root_cause", ev.root_cause),
    e.ResolutionUpdated: lambda ev: _fact("resolution", ev.resolution),
    e.IncidentMitigated: lambda ev: ("mitigated", "Incident mitigated", {}),
    e.RoleAssigned: _role,
    e.ParticipantAdded: lambda ev: (
        "participant_added",
        f"{ev.person} joined the response",
        {"person": ev.person},
    ),
    e.ServicesChanged: lambda ev: (
        "services_changed",
        "Affected services changed to " + (", ".join(ev.services) or "none"),
        {"services": list(ev.services)},
    ),
    e.PostmortemSectionEdited: _section,
    e.PostmortemReviewRequested: _review_requested,
    e.PostmortemApproved: _verdict,
    e.PostmortemChangesRequested: _verdict,
    e.PostmortemDueDateSet: _due_date,
    e.PostmortemPublished: lambda ev: _workflow("published", "published", ev),
    e.ActionItemAdded: _item_added,
    e.ActionItemReassigned: _item_reassigned,
    e.ActionItemRescheduled: _item_rescheduled,
    e.ActionItemRetitled: _item_retitled,
    e.ActionItemReprioritized: _item_reprioritized,
    e.ActionItemStatusChanged: _item_status,
    e.ActionItemTicketLinked: _item_ticket,
    **ALERT_DESCRIBERS,
    **CLASSIFICATION_DESCRIBERS,
}
"""Event type -> its entry's kind, text and details; events that shape the timeline
otherwise (the declaration, notes and their amendments) are applied in ``timeline``."""
