"""Corrective and preventative measures: owned, scheduled, tracked to done (or not)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any
from uuid import UUID

from domain import commands as c
from domain import events as e
from domain.errors import EntryNotFound, InvalidTransition, RuleViolation
from domain.state import ActionItem, Incident, frozen_map, require_incident
from domain.values import ActionStatus

NEXT_ACTION_STATUSES: dict[ActionStatus, frozenset[ActionStatus]] = {
    ActionStatus.OPEN: frozenset(
        {ActionStatus.IN_PROGRESS, ActionStatus.DONE, ActionStatus.WONT_DO}
    ),
    ActionStatus.IN_PROGRESS: frozenset(
        {ActionStatus.OPEN, ActionStatus.DONE, ActionStatus.WONT_DO}
    ),
    # A finished item is reopened by moving it back to open.
    ActionStatus.DONE: frozenset({ActionStatus.OPEN}),
    ActionStatus.WONT_DO: frozenset({ActionStatus.OPEN}),
}


def _item(state: Incident, item_id: UUID) -> ActionItem:
    item = state.action_items.get(item_id)
    if item is None:
        raise EntryNotFound(f"incident {state.id} has no action item {item_id}")
    return item


def _check_due(state: Incident, due: Any) -> None:
    assert state.started_at is not None
    if due < state.started_at.date():
        raise RuleViolation(
            f"due date {due.isoformat()} is before the incident started"
            f" ({state.started_at.date().isoformat()})"
        )


def _add(state: Incident, cmd: c.AddActionItem) -> list[e.DomainEvent]:
    require_incident(state, cmd)
    if cmd.item_id in state.action_items:
        raise RuleViolation(f"action item {cmd.item_id} already exists")
    _check_due(state, cmd.due_date)
    return [
        e.ActionItemAdded(
            occurred_at=cmd.at,
            item_id=cmd.item_id,
            title=cmd.title,
            kind=cmd.kind,
            owner=cmd.owner,
            due_date=cmd.due_date,
            priority=cmd.priority,
            ticket_url=cmd.ticket_url,
        )
    ]


def _changed_item(
    state: Incident, cmd: c.ActionItemCommand, field: str, already: str
) -> ActionItem:
    """The item the command changes; RuleViolation when ``field`` already has the command's value."""
    require_incident(state, cmd)
    item = _item(state, cmd.item_id)
    if getattr(item, field) == getattr(cmd, field):
        raise RuleViolation(f"action item {cmd.item_id} {already}")
    return item


def _reassign(state: Incident, cmd: c.ReassignActionItem) -> list[e.DomainEvent]:
    item = _changed_item(state, cmd, "owner", f"is already owned by {cmd.owner}")
    return [
        e.ActionItemReassigned(
            occurred_at=cmd.at, item_id=cmd.item_id, owner=cmd.owner, previous_owner=item.owner
        )
    ]


def _reschedule(state: Incident, cmd: c.RescheduleActionItem) -> list[e.DomainEvent]:
    item = _changed_item(state, cmd, "due_date", f"is already due on {cmd.due_date}")
    _check_due(state, cmd.due_date)
    return [
        e.ActionItemRescheduled(
            occurred_at=cmd.at,
            item_id=cmd.item_id,
            due_date=cmd.due_date,
            previous_due_date=item.due_date,
        )
    ]


def _retitle(state: Incident, cmd: c.RetitleActionItem) -> list[e.DomainEvent]:
    item = _changed_item(state, cmd, "title", f"is already titled '{cmd.title}'")
    return [
        e.ActionItemRetitled(
            occurred_at=cmd.at, item_id=cmd.item_id, title=cmd.title, previous=item.title
        )
    ]


def _reprioritize(state: Incident, cmd: c.ReprioritizeActionItem) -> list[e.DomainEvent]:
    already = f"already has priority {cmd.priority.value}"
    item = _changed_item(state, cmd, "priority", already)
    return [
        e.ActionItemReprioritized(
            occurred_at=cmd.at, item_id=cmd.item_id, priority=cmd.priority, previous=item.priority
        )
    ]


def _change_status(state: Incident, cmd: c.ChangeActionItemStatus) -> list[e.DomainEvent]:
    require_incident(state, cmd)
    item = _item(state, cmd.item_id)
    if cmd.status is item.status:
        raise InvalidTransition(f"action item {cmd.item_id} is already {item.status.value}")
    if cmd.status not in NEXT_ACTION_STATUSES[item.status]:
        raise InvalidTransition(
            f"cannot change action item status from {item.status.value} to {cmd.status.value}"
        )
    if cmd.status is ActionStatus.WONT_DO and cmd.reason is None:
        raise RuleViolation("an action item is only abandoned (wont_do) with a reason")
    return [
        e.ActionItemStatusChanged(
            occurred_at=cmd.at,
            item_id=cmd.item_id,
            from_status=item.status,
            to_status=cmd.status,
            reason=cmd.reason,
        )
    ]


def _link(state: Incident, cmd: c.LinkTicket) -> list[e.DomainEvent]:
    _changed_item(state, cmd, "ticket_url", f"is already linked to {cmd.ticket_url}")
    return [
        e.ActionItemTicketLinked(occurred_at=cmd.at, item_id=cmd.item_id, ticket_url=cmd.ticket_url)
    ]


def _unlink(state: Incident, cmd: c.UnlinkTicket) -> list[e.DomainEvent]:
    require_incident(state, cmd)
    item = _item(state, cmd.item_id)
    if item.ticket_url is None:
        raise RuleViolation(f"action item {cmd.item_id} has no ticket linked")
    return [e.ActionItemTicketLinked(occurred_at=cmd.at, item_id=cmd.item_id, ticket_url=None)]


DECIDERS: dict[type[c.Command], Callable[[Incident, Any], list[e.DomainEvent]]] = {
    c.AddActionItem: _add,
    c.ReassignActionItem: _reassign,
    c.RescheduleActionItem: _reschedule,
    c.RetitleActionItem: _retitle,
    c.ReprioritizeActionItem: _reprioritize,
    c.ChangeActionItemStatus: _change_status,
    c.LinkTicket: _link,
    c.UnlinkTicket: _unlink,
}


def _with_item(state: Incident, item_id: UUID, **changes: Any) -> Incident:
    items = dict(state.action_items)
    items[item_id] = replace(items[item_id], **changes)
    return replace(state, action_items=frozen_map(items))


def _added(state: Incident, ev: e.ActionItemAdded) -> Incident:
    item = ActionItem(
        ev.owner,
        ev.due_date,
        ActionStatus.OPEN,
        ev.ticket_url,
        title=ev.title,
        priority=ev.priority,
    )
    return replace(state, action_items=frozen_map({**state.action_items, ev.item_id: item}))


EVOLVERS: dict[type[e.DomainEvent], Callable[[Incident, Any], Incident]] = {
    e.ActionItemAdded: _added,
    e.ActionItemReassigned: lambda s, ev: _with_item(s, ev.item_id, owner=ev.owner),
    e.ActionItemRescheduled: lambda s, ev: _with_item(s, ev.item_id, due_date=ev.due_date),
    e.ActionItemRetitled: lambda s, ev: _with_item(s, ev.item_id, title=ev.title),
    e.ActionItemReprioritized: lambda s, ev: _with_item(s, ev.item_id, priority=ev.priority),
    e.ActionItemStatusChanged: lambda s, ev: _with_item(s, ev.item_id, status=ev.to_status),
    e.ActionItemTicketLinked: lambda s, ev: _with_item(s, ev.item_id, ticket_url=ev.ticket_url),
}
