"""Bodies of the action-item routes: add, patch, and lists of items."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from pydantic import (
    BaseModel,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from api.schemas.common import Body, CommandBody, CommandResult, created_examples, examples
from application.input_times import RequestDate
from application.text_fields import MultiLine, SingleLine
from domain import commands as c
from domain.values import ActionKind, ActionStatus, Person, Priority, Reason, TicketUrl, Title
from projections.documents.action_items import ActionItem
from projections.documents.examples import ITEM_ID

PATCHED_FIELDS: tuple[tuple[str, type[c.Command]], ...] = (
    ("title", c.RetitleActionItem),
    ("priority", c.ReprioritizeActionItem),
    ("owner", c.ReassignActionItem),
    ("due_date", c.RescheduleActionItem),
    ("status", c.ChangeActionItemStatus),
    ("ticket_url", c.LinkTicket),
)
"""What a patch can change, in the order its commands are applied."""


class AddActionItemRequest(CommandBody):
    """An action item that follows from the incident."""

    command_type = c.AddActionItem

    model_config = examples(
        {
            "title": "Alert on connection-pool saturation",
            "kind": "preventative",
            "owner": "alice",
            "due_date": "2026-03-16",
            "priority": "P2",
            "ticket_url": "https://tracker.example.com/OPS-812",
        }
    )

    id: UUID | None = Field(default=None, description="Client-chosen id; generated when absent.")
    title: SingleLine[Title] = Field(description="What is to be done, in one line.")
    kind: ActionKind = Field(
        description="corrective: fixes this failure; preventative: stops the class of failure."
    )
    owner: SingleLine[Person] = Field(description="Who is responsible for it.")
    due_date: RequestDate = Field(description="When it is due (a date, YYYY-MM-DD).")
    priority: Priority = Field(default=Priority.P3, description="P1 (most urgent) to P4.")
    ticket_url: SingleLine[TicketUrl] | None = Field(
        default=None, description="A link to the item in an issue tracker."
    )


class ActionItemPatch(Body):
    """Any of title, priority, owner, due date, status (with a reason) and ticket; applied in
    that order."""

    model_config = examples(
        {"owner": "bob", "due_date": "2026-03-23"},
        {"title": "Alert on connection-pool saturation per service", "priority": "P1"},
        {"status": "done"},
        {"status": "wont_do", "reason": "Superseded by the pool autoscaler"},
        {"ticket_url": "https://tracker.example.com/OPS-813"},
        {"ticket_url": None},
    )

    title: SingleLine[Title] | None = Field(
        default=None, description="The new title: what is to be done, in one line."
    )
    priority: Priority | None = Field(
        default=None, description="The new priority: P1 (most urgent) to P4."
    )
    owner: SingleLine[Person] | None = Field(default=None, description="The new owner.")
    due_date: RequestDate | None = Field(default=None, description="The new due date (YYYY-MM-DD).")
    status: ActionStatus | None = Field(
        default=None, description="The new status: open, in_progress, done or wont_do."
    )
    reason: MultiLine[Reason] | None = Field(
        default=None,
        description="Why the item is abandoned; only together with status wont_do, which needs it.",
    )
    ticket_url: SingleLine[TicketUrl] | None = Field(
        default=None,
        description="The new link to an issue tracker; null removes the link, absent keeps it.",
    )

    @field_validator("reason")
    @classmethod
    def _reason_only_when_abandoned(cls, reason: str | None, info: ValidationInfo) -> str | None:
        # status is validated first; when it is invalid it is missing here and errs itself.
        status = info.data.get("status", ActionStatus.WONT_DO)
        if reason is not None and status is not ActionStatus.WONT_DO:
            raise ValueError("reason is only given together with status wont_do")
        return reason

    @property
    def unlinks_ticket(self) -> bool:
        """An explicit ``"ticket_url": null``: remove the link (an absent field keeps it)."""
        return "ticket_url" in self.model_fields_set and self.ticket_url is None

    @model_validator(mode="after")
    def _something_to_change(self) -> ActionItemPatch:
        given = [field for field, _ in PATCHED_FIELDS if getattr(self, field) is not None]
        if not given and not self.unlinks_ticket:
            raise ValueError(
                "give at least one of title, priority, owner, due_date, status, ticket_url"
            )
        return self

    def commands(
        self, incident_id: UUID, item_id: UUID, clock: Callable[[], datetime]
    ) -> list[c.Command]:
        """One command per given field, in the documented order, each asked at ``clock()``."""
        ids = {"incident_id": incident_id, "item_id": item_id}
        commands: list[c.Command] = []
        for field, command_type in PATCHED_FIELDS:
            value = getattr(self, field)
            if value is not None:
                # The reason goes with the status change (it is given with wont_do only).
                extra = {"reason": self.reason} if field == "status" else {}
                commands.append(command_type(**ids, at=clock(), **{field: value}, **extra))
        if self.unlinks_ticket:
            commands.append(c.UnlinkTicket(**ids, at=clock()))
        return commands


class ActionItemCreated(CommandResult):
    """Where the new action item landed, and its id."""

    model_config = created_examples(item_id=ITEM_ID, version=9, position=1234)

    item_id: UUID = Field(description="The new action item's id.")


class ActionItemList(BaseModel):
    """An incident's action items, soonest due first."""

    incident_id: UUID = Field(description="The incident's id.")
    items: list[ActionItem] = Field(description="Its action items.")


class ActionItemPage(BaseModel):
    """A page of the action-item board, soonest due first."""

    items: list[ActionItem] = Field(description="The action items on this page.")
    next: str | None = Field(description="Cursor for the next page; null on the last page.")
    next_url: str | None = Field(default=None, description="The next page's URL; null on the last.")
