"""The action item document: a corrective or preventative measure as it stands."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from domain.values import ActionKind, ActionStatus, Priority
from projections.action_items import is_overdue
from projections.documents.examples import ACTION_ITEM


class ActionItem(BaseModel):
    """An action item as it stands."""

    model_config = ConfigDict(json_schema_extra={"examples": [ACTION_ITEM]})

    id: UUID = Field(description="The action item's id.")
    incident_id: UUID = Field(description="The incident it follows from.")
    title: str = Field(description="What is to be done.")
    kind: ActionKind = Field(description="corrective or preventative.")
    owner: str = Field(description="Who is responsible for it.")
    due_date: date = Field(description="When it is due.")
    priority: Priority = Field(description="P1 (most urgent) to P4.")
    status: ActionStatus = Field(description="open, in_progress, done or wont_do.")
    reason: str | None = Field(description="Why the status last changed, when given.")
    ticket_url: str | None = Field(
        description="A link to the item in an issue tracker; null when none."
    )
    overdue: bool = Field(description="Past its due date and neither done nor wont_do.")
    created_at: datetime = Field(description="When it was added.")
    updated_at: datetime = Field(description="When it last changed.")
    position: int = Field(description="Log position of the event that added the item.")

    @classmethod
    def from_row(cls, row: dict[str, Any], today: date) -> ActionItem:
        """The document of a row of the action-item read model; ``today`` judges overdue."""
        overdue = is_overdue(row["due_date"], row["status"], today)
        fields = {k: v for k, v in row.items() if k != "item_id"}
        return cls(id=row["item_id"], overdue=overdue, **fields)
