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
    # The event records the item exactly as the command asks for it.
    asked = cmd.model_dump(exclude={"incident_id", "at"})
    return [e.ActionItemAdded(occurred_at=cmd.at, **asked)]


def _set_field(
    field: str,
    event: Callable[..., e.DomainEvent],
    previous: str | None,
    already: str,
    check: Callable[[Incident, Any], None] | None = None,
) -> Callable[[Incident, Any], list[e.DomainEvent]]:
    """The decider of a command that sets one field of an item, refused when the field already
    has the value (``already`` says so); ``previous`` names the event's field for the old value."""

    def decide(state: Incident, cmd: Any) -> list[e.DomainEvent]:
        require_incident(state, cmd)
        item = _item(state, cmd.item_id)
        value = getattr(cmd, field)
        if getattr(item, field) == value:
            raise RuleViolation(f"action item {cmd.item_id} {already.format(value)}")
        if check is not None:
            check(state, value)
        replaced = {previous: getattr(item, field)} if previous is not None else {}
        return [event(occurred_at=cmd.at, item_id=cmd.item_id, **{field: value}, **replaced)]

    return decide


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


def _unlink(state: Incident, cmd: c.UnlinkTicket) -> list[e.DomainEvent]:
    require_incident(state, cmd)
    item = _item(state, cmd.item_id)
    if item.ticket_url is None:
        raise RuleViolation(f"action item {cmd.item_id} has no ticket linked")
    return [e.ActionItemTicketLinked(occurred_at=cmd.at, item_id=cmd.item_id, ticket_url=None)]


DECIDERS: dict[type[c.Command], Callable[[Incident, Any], list[e.DomainEvent]]] = {
    c.AddActionItem: _add,
    c.ReassignActionItem: _set_field(
        "owner", e.ActionItemReassigned, "previous_owner", "is already owned by {}"
    ),
    c.RescheduleActionItem: _set_field(
        "due_date",
        e.ActionItemRescheduled,
        "previous_due_date",
        "is already due on {}",
        check=_check_due,
    ),
    c.RetitleActionItem: _set_field(
        "title", e.ActionItemRetitled, "previous", "is already titled '{}'"
    ),
    c.ReprioritizeActionItem: _set_field(
        "priority", e.ActionItemReprioritized, "previous", "already has priority {}"
    ),
    c.ChangeActionItemStatus: _change_status,
    c.LinkTicket: _set_field(
        "ticket_url", e.ActionItemTicketLinked, None, "is already linked to {}"
    ),
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
