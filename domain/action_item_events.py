"""Events of corrective and preventative measures: added, changed one field at a time."""

from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

from domain.event_base import DomainEvent
from domain.values import ActionKind, ActionStatus, Person, Priority, Reason, TicketUrl, Title


class ActionItemEvent(DomainEvent):
    """Base of the action items' events: each names its item."""

    item_id: UUID


class ActionItemAdded(ActionItemEvent):
    type: Literal["action_item.added"] = "action_item.added"
    schema_version: Literal[1] = 1
    title: Title
    kind: ActionKind
    owner: Person
    due_date: date
    priority: Priority
    ticket_url: TicketUrl | None = None


class ActionItemReassigned(ActionItemEvent):
    type: Literal["action_item.reassigned"] = "action_item.reassigned"
    schema_version: Literal[1] = 1
    owner: Person
    previous_owner: Person


class ActionItemRescheduled(ActionItemEvent):
    type: Literal["action_item.rescheduled"] = "action_item.rescheduled"
    schema_version: Literal[1] = 1
    due_date: date
    previous_due_date: date


class ActionItemRetitled(ActionItemEvent):
    type: Literal["action_item.retitled"] = "action_item.retitled"
    schema_version: Literal[1] = 1
    title: Title
    previous: Title


class ActionItemReprioritized(ActionItemEvent):
    type: Literal["action_item.reprioritized"] = "action_item.reprioritized"
    schema_version: Literal[1] = 1
    priority: Priority
    previous: Priority


class ActionItemStatusChanged(ActionItemEvent):
    type: Literal["action_item.status_changed"] = "action_item.status_changed"
    schema_version: Literal[1] = 1
    from_status: ActionStatus
    to_status: ActionStatus
    reason: Reason | None = None


class ActionItemTicketLinked(ActionItemEvent):
    """The item's ticket link is now ``ticket_url``; ``None`` means the link was removed.

    Version 2 allowed ``None``; version 1 always named a ticket, so it reads unchanged
    (``upcast_ticket_linked_v1_v2``).
    """

    type: Literal["action_item.ticket_linked"] = "action_item.ticket_linked"
    schema_version: Literal[2] = 2
    ticket_url: TicketUrl | None
