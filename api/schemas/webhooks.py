"""Bodies and answers of the outbound webhook routes: subscriptions and their deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from api.schemas.common import Body, JsonBool, examples
from application.text_fields import SingleLine
from domain.values import ServiceName, Severity
from outbound.subscriptions import MAX_SERVICES, MAX_TYPES, Delivery, Subscription

SUBSCRIPTION_ID = "5b0c1a8e-3f57-4b2c-9a53-3d7d2f0f4a10"
EVENT_ID = "358e966f-6ffd-4e14-acff-db7e62458ca0"
SECRET_EXAMPLE = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # noqa: S105 - an example, signs nothing

EventType = Annotated[str, StringConstraints(min_length=1, max_length=100)]
"""An event type (``incident.declared``) or a prefix of some ending in ``.`` (``incident.``)."""
Url = Annotated[str, StringConstraints(min_length=1, max_length=2000)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
Format = Literal["standard", "slack"]

FILTER_EXAMPLE: dict[str, Any] = {"severity": ["SEV1", "SEV2"], "services": ["checkout"]}
SUBSCRIPTION_EXAMPLE: dict[str, Any] = {
    "id": SUBSCRIPTION_ID,
    "url": "https://hooks.example.com/incidents",
    "types": ["incident.", "postmortem.published"],
    "format": "standard",
    "description": "Paging bridge, production",
    "filter": FILTER_EXAMPLE,
    "enabled": True,
    "disabled_reason": None,
    "created_by": "admin",
    "created_at": "2026-03-02T09:00:00Z",
    "updated_at": "2026-03-02T09:00:00Z",
    "position": 1201,
    "attempts": 0,
    "next_attempt_at": None,
    "failing_since": None,
    "previous_secret_until": None,
    "links": {
        "self": f"/webhooks/{SUBSCRIPTION_ID}",
        "deliveries": f"/webhooks/{SUBSCRIPTION_ID}/deliveries",
    },
}
DELIVERY_EXAMPLE: dict[str, Any] = {
    "delivery_id": 812,
    "message_id": EVENT_ID,
    "event_type": "incident.declared",
    "position": 1202,
    "attempt": 1,
    "trigger": "log",
    "attempted_at": "2026-03-02T10:03:13Z",
    "status_code": 200,
    "duration_ms": 48.2,
    "error": None,
    "succeeded": True,
}


class WebhookFilter(Body):
    """Which incidents' events are sent: any of the severities and any of the services;
    an empty list does not filter."""

    model_config = examples(FILTER_EXAMPLE)

    severity: list[Severity] = Field(
        default_factory=list, max_length=len(Severity), description="SEV1 to SEV5; empty: all."
    )
    services: list[SingleLine[ServiceName]] = Field(
        default_factory=list,
        max_length=MAX_SERVICES,
        description="Service names as incidents have them; empty: all.",
    )


class WebhookFilterChange(Body):
    """A change to the filter: a given list replaces that list, an absent one is kept."""

    model_config = examples({"severity": ["SEV1"]}, {"services": []})

    severity: list[Severity] | None = Field(
        default=None, max_length=len(Severity), description="The new severities; empty: all."
    )
    services: list[SingleLine[ServiceName]] | None = Field(
        default=None, max_length=MAX_SERVICES, description="The new services; empty: all."
    )

    @model_validator(mode="after")
    def _no_nulls(self) -> WebhookFilterChange:
        _refuse_nulls(self)
        return self


class WebhookRequest(Body):
    """A new subscription: where to send which events, in which format."""

    model_config = examples(
        {
            "url": "https://hooks.example.com/incidents",
            "types": ["incident.", "postmortem.published"],
            "description": "Paging bridge, production",
            "filter": FILTER_EXAMPLE,
        },
        {
            "url": "https://hooks.slack.com/services/T000/B000/XXXX",
            "types": ["incident.declared", "incident.status_changed"],
            "format": "slack",
        },
    )

    url: SingleLine[Url] = Field(
        description="Where messages are posted: https:// and a public address (see the settings)."
    )
    types: list[SingleLine[EventType]] = Field(
        min_length=1,
        max_length=MAX_TYPES,
        description="Event types (incident.declared), or prefixes ending in '.' (incident.).",
    )
    format: Format = Field(
        default="standard",
        description="standard: Standard Webhooks, signed JSON; slack: a Slack incoming webhook.",
    )
    description: SingleLine[Description] = Field(
        default="", description="What the subscription is for, for the people who keep it."
    )
    filter: WebhookFilter = Field(
        default_factory=WebhookFilter, description="Which incidents' events; absent: all."
    )


class WebhookPatch(Body):
    """Any of url, types, description, filter and enabled; at least one."""

    model_config = examples(
        {"enabled": False},
        {"enabled": True},
        {"url": "https://hooks.example.com/v2/incidents", "description": "Paging bridge v2"},
        {"types": ["incident."], "filter": {"severity": ["SEV1"]}},
    )

    url: SingleLine[Url] | None = Field(default=None, description="The new address.")
    types: list[SingleLine[EventType]] | None = Field(
        default=None, min_length=1, max_length=MAX_TYPES, description="The new event types."
    )
    description: SingleLine[Description] | None = Field(
        default=None, description="The new description."
    )
    filter: WebhookFilterChange | None = Field(
        default=None, description="The lists of the filter to replace; absent ones are kept."
    )
    enabled: JsonBool | None = Field(
        default=None,
        description="false stops deliveries; true resumes them, retrying the held-back event.",
    )

    @model_validator(mode="after")
    def _something_to_change(self) -> WebhookPatch:
        _refuse_nulls(self)
        if not self.model_fields_set:
            raise ValueError("give at least one of url, types, description, filter, enabled")
        return self


def _refuse_nulls(body: BaseModel) -> None:
    """An explicit null changes nothing and means nothing: it is refused, not ignored."""
    for name in sorted(body.model_fields_set):
        if getattr(body, name) is None:
            raise ValueError(f"{name} may not be null; leave it out to keep it")


class WebhookLinks(BaseModel):
    """Where the subscription and its deliveries are read."""

    model_config = ConfigDict(populate_by_name=True)

    self_: str = Field(alias="self", description="The subscription itself.")
    deliveries: str = Field(description="Its delivery log, newest first.")


class Webhook(BaseModel):
    """A subscription, without its signing secret."""

    model_config = ConfigDict(json_schema_extra={"examples": [SUBSCRIPTION_EXAMPLE]})

    id: UUID = Field(description="The subscription's id.")
    url: str = Field(description="Where its messages are posted.")
    types: list[str] = Field(description="The event types and prefixes it hears.")
    format: str = Field(description="standard (Standard Webhooks) or slack.")
    description: str = Field(description="What it is for.")
    filter: WebhookFilter = Field(description="Which incidents' events it hears.")
    enabled: bool = Field(description="Whether events are delivered to it.")
    disabled_reason: str | None = Field(
        description="Why it was disabled (by an admin, or after failing too long); null if enabled."
    )
    created_by: str = Field(description="The name of the token that created it.")
    created_at: datetime = Field(description="When it was created.")
    updated_at: datetime = Field(description="When it last changed.")
    position: int = Field(
        description="Its checkpoint: every event up to this log position was delivered or skipped."
    )
    attempts: int = Field(description="Attempts made so far on the event after its checkpoint.")
    next_attempt_at: datetime | None = Field(
        description="When that event is tried again; null when nothing waits."
    )
    failing_since: datetime | None = Field(
        description="Since when deliveries fail without a success; null when they succeed."
    )
    previous_secret_until: datetime | None = Field(
        description="Until when the secret a rotation replaced also signs; null without one."
    )
    links: WebhookLinks = Field(description="Where to read it and its deliveries.")

    @classmethod
    def fields_of(cls, subscription: Subscription) -> dict[str, Any]:
        """The answer's fields for ``subscription``, for this model and those that extend it."""
        path = f"/webhooks/{subscription.subscription_id}"
        return {
            "id": subscription.subscription_id,
            "url": subscription.url,
            "types": list(subscription.types),
            "format": subscription.format,
            "description": subscription.description,
            "filter": WebhookFilter.model_construct(
                severity=[Severity(name) for name in subscription.severity],
                services=list(subscription.services),
            ),
            "enabled": subscription.enabled,
            "disabled_reason": subscription.disabled_reason,
            "created_by": subscription.created_by,
            "created_at": subscription.created_at,
            "updated_at": subscription.updated_at,
            "position": subscription.position,
            "attempts": subscription.attempts,
            "next_attempt_at": subscription.next_attempt_at,
            "failing_since": subscription.failing_since,
            "previous_secret_until": subscription.previous_secret_until,
            "links": WebhookLinks(self_=path, deliveries=f"{path}/deliveries"),
        }

    @classmethod
    def of(cls, subscription: Subscription) -> Webhook:
        return cls(**cls.fields_of(subscription))


class WebhookWithSecret(Webhook):
    """A subscription with its new signing secret, shown in this answer only."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{**SUBSCRIPTION_EXAMPLE, "secret": SECRET_EXAMPLE}]}
    )

    secret: str = Field(
        description="The signing secret (whsec_...) receivers verify messages with; shown only now."
    )

    @classmethod
    def with_secret(cls, subscription: Subscription, secret: str) -> WebhookWithSecret:
        return cls(**cls.fields_of(subscription), secret=secret)


class WebhookList(BaseModel):
    """Every subscription, oldest first, without secrets."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [SUBSCRIPTION_EXAMPLE]}]})

    items: list[Webhook] = Field(description="The subscriptions.")


class DeliveryRecord(BaseModel):
    """One attempt to deliver one message to a subscription."""

    model_config = ConfigDict(json_schema_extra={"examples": [DELIVERY_EXAMPLE]})

    delivery_id: int = Field(description="The attempt's id; `before` in the next page's query.")
    message_id: str = Field(
        description="The message's webhook-id: the event's id, or msg_test_... for a test."
    )
    event_type: str = Field(description="The event's type, or webhook.test.")
    position: int | None = Field(description="The event's log position; null for a test.")
    attempt: int = Field(description="Which attempt at this message it was (1 the first).")
    trigger: str = Field(
        description="log (following the log), redeliver (asked by an admin) or test."
    )
    attempted_at: datetime = Field(description="When it was sent.")
    status_code: int | None = Field(
        description="The receiver's HTTP status; null when no answer came."
    )
    duration_ms: float = Field(description="How long the attempt took, in milliseconds.")
    error: str | None = Field(description="Why it failed, when it did.")
    succeeded: bool = Field(description="Whether the receiver answered 2xx.")

    @classmethod
    def of(cls, delivery: Delivery) -> DeliveryRecord:
        return cls(
            delivery_id=delivery.delivery_id,
            message_id=delivery.message_id,
            event_type=delivery.event_type,
            position=delivery.position,
            attempt=delivery.attempt,
            trigger=delivery.trigger,
            attempted_at=delivery.attempted_at,
            status_code=delivery.status_code,
            duration_ms=delivery.duration_ms,
            error=delivery.error,
            succeeded=delivery.succeeded,
        )


class DeliveryPage(BaseModel):
    """A page of a subscription's delivery log, newest first."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [DELIVERY_EXAMPLE], "next_before": 812}]}
    )

    items: list[DeliveryRecord] = Field(description="The attempts on this page.")
    next_before: int | None = Field(
        description="`before` for the next (older) page; null on the last page."
    )
