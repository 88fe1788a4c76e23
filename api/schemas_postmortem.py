"""Bodies of the lifecycle, action-item and postmortem endpoints."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from api.schemas import Body, CommandResult, IncidentSummary, TimelineEntry
from api.schemas_examples import ACTION_ITEM, INCIDENT_SUMMARY
from application.input_times import RequestDate, RequestTime
from application.text_fields import MultiLine, SingleLine
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
)


def _examples(*examples: dict[str, Any]) -> ConfigDict:
    return ConfigDict(extra="forbid", frozen=True, json_schema_extra={"examples": list(examples)})


# --- lifecycle -----------------------------------------------------------------------------


class ImpactRequest(Body):
    """Record the incident's impact."""

    model_config = _examples({"impact": "30% of checkouts failed with HTTP 502 for 42 minutes"})

    impact: MultiLine[LongText] = Field(
        description="Who and what was affected, how much and for how long."
    )


class RootCauseRequest(Body):
    """Record the incident's root cause."""

    model_config = _examples({"root_cause": "Deploy 4812 halved the payments connection pool"})

    root_cause: MultiLine[LongText] = Field(description="Why it happened.")


class ResolutionRequest(Body):
    """Record how the incident was resolved."""

    model_config = _examples({"resolution": "Rolled back deploy 4812"})

    resolution: MultiLine[LongText] = Field(description="What was done to end it.")


class MitigateRequest(Body):
    """Record that the impact stopped, before the incident is resolved."""

    model_config = _examples({"occurred_at": "2026-03-02T10:42:00Z"}, {})

    occurred_at: RequestTime | None = Field(
        default=None, description="When the impact stopped (defaults to now)."
    )


class RoleRequest(Body):
    """Give a person a role in the response."""

    model_config = _examples({"role": "incident_commander", "person": "alice"})

    role: Role = Field(description="The role: incident_commander, communications_lead or scribe.")
    person: SingleLine[Person] = Field(description="Who takes the role.")


class ParticipantRequest(Body):
    """Add a person to the response."""

    model_config = _examples({"person": "bob"})

    person: SingleLine[Person] = Field(description="Who joins.")


class ServicesRequest(Body):
    """Replace the list of affected services."""

    model_config = _examples({"services": ["checkout", "payments"]})

    services: list[SingleLine[ServiceName]] = Field(
        max_length=50, description="Replaces the affected services."
    )


# --- action items --------------------------------------------------------------------------


class AddActionItemRequest(Body):
    """An action item that follows from the incident."""

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

    model_config = _examples(
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
        values = (
            self.title,
            self.priority,
            self.owner,
            self.due_date,
            self.status,
            self.ticket_url,
        )
        if all(v is None for v in values) and not self.unlinks_ticket:
            raise ValueError(
                "give at least one of title, priority, owner, due_date, status, ticket_url"
            )
        return self


class ActionItemCreated(CommandResult):
    """Where the new action item landed, and its id."""

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

    item_id: UUID = Field(description="The new action item's id.")


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
        overdue = row["due_date"] < today and row["status"] not in ("done", "wont_do")
        fields = {k: v for k, v in row.items() if k != "item_id"}
        return cls(id=row["item_id"], overdue=overdue, **fields)


class ActionItemList(BaseModel):
    """An incident's action items, soonest due first."""

    incident_id: UUID = Field(description="The incident's id.")
    items: list[ActionItem] = Field(description="Its action items.")


class ActionItemPage(BaseModel):
    """A page of the action-item board, soonest due first."""

    items: list[ActionItem] = Field(description="The action items on this page.")
    next: str | None = Field(description="Cursor for the next page; null on the last page.")
    next_url: str | None = Field(default=None, description="The next page's URL; null on the last.")


# --- postmortem ----------------------------------------------------------------------------


class SectionRequest(Body):
    """The new text of one postmortem section."""

    model_config = _examples(
        {"text": "Deploy 4812 halved the payments connection pool; checkouts queued and failed."},
        {"text": ""},
    )

    text: MultiLine[SectionText] = Field(
        description="The section's full new text; empty clears it."
    )


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

    incident_id: UUID = Field(description="The incident's id.")
    title: str = Field(description="The incident's title.")
    revision: int = Field(description="The revision shown.")
    latest_revision: int = Field(description="The newest revision, published or not.")
    status: PostmortemStatus = Field(
        description="The shown revision's status: draft, in_review or published."
    )
    published_revisions: list[int] = Field(description="Every published revision, oldest first.")
    published_at: datetime | None = Field(
        description="When the shown revision was published; null when it is not."
    )
    published_by: str | None = Field(
        description="Who published the shown revision; null when it is not published."
    )
    review_requested_at: datetime | None = Field(
        description="When the shown revision was sent to review; null when it was not."
    )
    sections: dict[Section, str] = Field(description="Written sections, in reading order.")
    incident: IncidentSummary = Field(description="The incident's summary.")
    timeline: list[TimelineEntry] = Field(description="The incident's timeline, oldest first.")
    action_items: list[ActionItem] = Field(description="The incident's action items.")
