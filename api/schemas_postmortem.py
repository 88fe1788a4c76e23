"""Bodies of the lifecycle, action-item and postmortem endpoints."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.schemas import Body, CommandResult, IncidentSummary, TimelineEntry
from api.schemas_examples import ACTION_ITEM, INCIDENT_SUMMARY
from domain.values import (
    ActionKind,
    ActionStatus,
    LongText,
    Person,
    PostmortemStatus,
    Priority,
    Reason,
    Role,
    Section,
    SectionText,
    ServiceName,
    TicketUrl,
    Title,
    UtcDatetime,
)


def _examples(*examples: dict[str, Any]) -> ConfigDict:
    return ConfigDict(extra="forbid", frozen=True, json_schema_extra={"examples": list(examples)})


# --- lifecycle -----------------------------------------------------------------------------


class ImpactRequest(Body):
    model_config = _examples({"impact": "30% of checkouts failed with HTTP 502 for 42 minutes"})

    impact: LongText


class RootCauseRequest(Body):
    model_config = _examples({"root_cause": "Deploy 4812 halved the payments connection pool"})

    root_cause: LongText


class ResolutionRequest(Body):
    model_config = _examples({"resolution": "Rolled back deploy 4812"})

    resolution: LongText


class MitigateRequest(Body):
    model_config = _examples({"occurred_at": "2026-03-02T10:42:00Z"}, {})

    occurred_at: UtcDatetime | None = Field(
        default=None, description="When the impact stopped (defaults to now)."
    )


class RoleRequest(Body):
    model_config = _examples({"role": "incident_commander", "person": "alice"})

    role: Role
    person: Person


class ParticipantRequest(Body):
    model_config = _examples({"person": "bob"})

    person: Person


class ServicesRequest(Body):
    model_config = _examples({"services": ["checkout", "payments"]})

    services: list[ServiceName] = Field(
        max_length=50, description="Replaces the affected services."
    )


# --- action items --------------------------------------------------------------------------


class AddActionItemRequest(Body):
    model_config = _examples(
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
    title: Title
    kind: ActionKind
    owner: Person
    due_date: date
    priority: Priority = Priority.P3
    ticket_url: TicketUrl | None = None


class ActionItemPatch(Body):
    """Any of owner, due date, status (with a reason) and ticket; applied in that order."""

    model_config = _examples(
        {"owner": "bob", "due_date": "2026-03-23"},
        {"status": "done"},
        {"status": "wont_do", "reason": "Superseded by the pool autoscaler"},
        {"ticket_url": "https://tracker.example.com/OPS-813"},
    )

    owner: Person | None = None
    due_date: date | None = None
    status: ActionStatus | None = None
    reason: Reason | None = Field(default=None, description="Why the status changes.")
    ticket_url: TicketUrl | None = None

    @model_validator(mode="after")
    def _something_to_change(self) -> ActionItemPatch:
        if all(v is None for v in (self.owner, self.due_date, self.status, self.ticket_url)):
            raise ValueError("give at least one of owner, due_date, status, ticket_url")
        if self.reason is not None and self.status is None:
            raise ValueError("reason is only used together with status")
        return self


class ActionItemCreated(CommandResult):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "0b7c6f2e-3f57-4b2c-9a53-3d7d2f0f4a10",
                    "item_id": "5f0e8a7c-1d2b-4c3e-8f9a-0b1c2d3e4f50",
                    "version": 9,
                    "position": 1234,
                }
            ]
        }
    )

    item_id: UUID


class ActionItem(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [ACTION_ITEM]})

    id: UUID
    incident_id: UUID
    title: str
    kind: ActionKind
    owner: str
    due_date: date
    priority: Priority
    status: ActionStatus
    reason: str | None = Field(description="Why the status last changed, when given.")
    ticket_url: str | None
    overdue: bool = Field(description="Past its due date and neither done nor wont_do.")
    created_at: datetime
    updated_at: datetime
    position: int = Field(description="Log position of the event that added the item.")

    @classmethod
    def from_row(cls, row: dict[str, Any], today: date) -> ActionItem:
        overdue = row["due_date"] < today and row["status"] not in ("done", "wont_do")
        fields = {k: v for k, v in row.items() if k != "item_id"}
        return cls(id=row["item_id"], overdue=overdue, **fields)


class ActionItemList(BaseModel):
    incident_id: UUID
    items: list[ActionItem]


class ActionItemPage(BaseModel):
    items: list[ActionItem]
    next: str | None = Field(description="Cursor for the next page; null on the last page.")
    next_url: str | None = Field(default=None, description="The next page's URL; null on the last.")


# --- postmortem ----------------------------------------------------------------------------


class SectionRequest(Body):
    model_config = _examples(
        {"text": "Deploy 4812 halved the payments connection pool; checkouts queued and failed."},
        {"text": ""},
    )

    text: SectionText = Field(description="The section's full new text; empty clears it.")


class PostmortemDocument(BaseModel):
    """One revision of the postmortem with the incident facts it is written about."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "incident_id": "0b7c6f2e-3f57-4b2c-9a53-3d7d2f0f4a10",
                    "title": "Checkout returns 502",
                    "revision": 2,
                    "latest_revision": 2,
                    "status": "published",
                    "published_revisions": [1, 2],
                    "published_at": "2026-03-04T16:30:00Z",
                    "published_by": "alice",
                    "review_requested_at": "2026-03-04T10:00:00Z",
                    "sections": {
                        "summary": "Checkout failed for 42 minutes after deploy 4812.",
                        "root_cause": "Deploy 4812 halved the payments connection pool.",
                        "resolution": "Rolled back deploy 4812.",
                    },
                    "incident": INCIDENT_SUMMARY,
                    "timeline": [],
                    "action_items": [],
                }
            ]
        }
    )

    incident_id: UUID
    title: str
    revision: int
    latest_revision: int
    status: PostmortemStatus
    published_revisions: list[int]
    published_at: datetime | None
    published_by: str | None
    review_requested_at: datetime | None
    sections: dict[Section, str] = Field(description="Written sections, in reading order.")
    incident: IncidentSummary
    timeline: list[TimelineEntry] = Field(description="The incident's timeline, oldest first.")
    action_items: list[ActionItem]
