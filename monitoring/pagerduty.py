"""The PagerDuty Events API v2, as PagerDuty's clients and Alertmanager's notifier speak it.

Answers are PagerDuty's exactly: 202 ``{"status": "success", "message": "Event
processed", "dedup_key": ...}``, 400 ``{"status": "invalid event", "message": "Event
object is invalid", "errors": [...]}``. Each dedup key is an alert group of its
integration: a trigger opens the alert (a duplicate trigger of an open alert does
nothing), acknowledge and resolve apply while it is open, and a trigger after the
resolve opens it anew.

Text is refused only when it cannot be stored (a NUL), as for Alertmanager: a sender
that gets a 400 drops the event (see ``application.text_fields``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import uuid4

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from application.alert_ingestion import AlertBatch, AlertIngestor, Recorded
from application.input_times import SenderTime
from application.integrations import Integration
from application.service import CommandContext
from application.text_fields import Storable, StorableJson
from domain.commands import AlertReport
from domain.errors import RuleViolation
from domain.state import CLOCK_SKEW
from domain.values import AlertSource, AlertStatus
from monitoring.mapping import SeverityMap, line, service_names
from monitoring.payloads import with_examples

MAX_EVENT_BYTES = 512 * 1024
INVALID = "Event object is invalid"

Text = Storable[
    Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1024)]
]
Short = Storable[str]


class Link(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    href: Short = Field(max_length=2_000)
    text: Short | None = Field(default=None, max_length=1_024)


class Image(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    src: Short = Field(max_length=2_000)
    href: Short | None = Field(default=None, max_length=2_000)
    alt: Short | None = Field(default=None, max_length=1_024)


class EventPayload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)
    summary: Text
    source: Storable[
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
    ]
    severity: Literal["critical", "error", "warning", "info"]
    timestamp: SenderTime | None = None
    component: Short | None = Field(default=None, max_length=255)
    group: Short | None = Field(default=None, max_length=255)
    class_: Short | None = Field(default=None, alias="class", max_length=255)
    custom_details: StorableJson[Any] = None


class Event(BaseModel):
    """One Events API v2 event (``POST /v2/enqueue``)."""

    model_config = with_examples(
        {
            "routing_key": "0123456789abcdef0123456789abcdef",
            "event_action": "trigger",
            "dedup_key": "disk-db-01",
            "payload": {
                "summary": "Disk almost full on db-01",
                "source": "db-01.example.internal",
                "severity": "critical",
                "custom_details": {"used_pct": 97},
            },
        },
        {
            "routing_key": "0123456789abcdef0123456789abcdef",
            "event_action": "resolve",
            "dedup_key": "disk-db-01",
        },
    )
    routing_key: str = Field(min_length=32, max_length=32)
    event_action: Literal["trigger", "acknowledge", "resolve"]
    dedup_key: Short | None = Field(default=None, min_length=1, max_length=255)
    payload: EventPayload | None = None
    client: Short | None = Field(default=None, max_length=1_024)
    client_url: Short | None = Field(default=None, max_length=2_000)
    links: list[Link] = Field(default_factory=list, max_length=100)
    images: list[Image] = Field(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def _required_by_action(self) -> Event:
        if self.event_action == "trigger" and self.payload is None:
            raise ValueError("'payload' is missing for a trigger event")
        if self.event_action != "trigger" and self.dedup_key is None:
            article = "an" if self.event_action[0] in "aeiou" else "a"
            raise ValueError(f"'dedup_key' is missing for {article} {self.event_action} event")
        return self


class Accepted(BaseModel):
    """PagerDuty's answer to an accepted event."""

    status: Literal["success"] = Field(default="success", description="Always success.")
    message: Literal["Event processed"] = Field(
        default="Event processed", description="Always Event processed."
    )
    dedup_key: str = Field(
        description="The key that groups the event with the others of its incident."
    )


class Invalid(BaseModel):
    """PagerDuty's answer to a refused event; nothing was stored."""

    status: Literal["invalid event"] = Field(
        default="invalid event", description="Always invalid event."
    )
    message: str = Field(default=INVALID, description="A fixed sentence, as PagerDuty sends it.")
    errors: list[str] = Field(description="What was wrong, one entry per problem.")


def validation_errors(exc: ValidationError) -> list[str]:
    """PagerDuty-style messages: the field's path in quotes, then what is wrong with it."""
    messages = []
    for error in exc.errors():
        path = ".".join(str(part) for part in error["loc"] if part != "class_")
        message = error["msg"].removeprefix("Value error, ")
        messages.append(f"'{path}' {_lower_first(message)}" if path else message)
    return messages


def _lower_first(message: str) -> str:
    """The message with a lower-case first letter, unless it starts with an acronym (NUL)."""
    if message[:2].isupper():
        return message
    return message[:1].lower() + message[1:]


def _details(event: Event, payload: EventPayload) -> dict[str, Any]:
    details: dict[str, Any] = {
        "source": payload.source,
        "component": payload.component,
        "group": payload.group,
        "class": payload.class_,
        "custom_details": payload.custom_details,
        "client": event.client,
        "client_url": event.client_url,
        "links": [link.model_dump(exclude_none=True) for link in event.links] or None,
        "images": [image.model_dump(exclude_none=True) for image in event.images] or None,
    }
    return {k: v for k, v in details.items() if v is not None}


def _trigger(
    event: Event, integration: Integration, dedup_key: str, severities: SeverityMap
) -> AlertBatch:
    payload = event.payload
    assert payload is not None  # checked by Event
    custom = payload.custom_details
    named = custom.get("service") if isinstance(custom, dict) else None
    services = service_names([named if isinstance(named, str) else integration.service])
    report = AlertReport(
        key=dedup_key,
        status=AlertStatus.FIRING,
        name=line(payload.summary, 200) or "alert",
        starts_at=payload.timestamp,
        summary=payload.summary,
        severity=payload.severity,
        details=_details(event, payload),
    )
    return AlertBatch(
        source=AlertSource.PAGERDUTY,
        group=group_of(integration, dedup_key),
        alerts=(report,),
        title=line(payload.summary, 200) or "alert",
        severity=severities(payload.severity),
        services=services,
    )


def _not_in_future(event: Event, now: datetime) -> None:
    """Refused under the sender's name for it, which the domain's rule does not know."""
    stamp = event.payload.timestamp if event.payload is not None else None
    if stamp is not None and stamp > now + CLOCK_SKEW:
        raise RuleViolation(f"'payload.timestamp' {stamp.isoformat()} lies in the future")


def group_of(integration: Integration, dedup_key: str) -> str:
    return f"pagerduty:{integration.integration_id}:{dedup_key}"


def handle(
    ingestor: AlertIngestor,
    event: Event,
    integration: Integration,
    severities: SeverityMap,
    context: CommandContext,
) -> tuple[str, list[Recorded]]:
    """Apply one event; its dedup key (generated for a trigger without one) and the result."""
    dedup_key = event.dedup_key or uuid4().hex
    if event.event_action == "trigger":
        _not_in_future(event, ingestor.service.now())
        batch = _trigger(event, integration, dedup_key, severities)
        return dedup_key, ingestor.record(batch, context)
    group = group_of(integration, dedup_key)
    if event.event_action == "acknowledge":
        return dedup_key, ingestor.acknowledge(group, dedup_key, context)
    report = AlertReport(
        key=dedup_key, status=AlertStatus.RESOLVED, name=line(dedup_key, 200) or "alert"
    )
    batch = AlertBatch(
        source=AlertSource.PAGERDUTY,
        group=group,
        alerts=(report,),
        title=report.name,
        severity=severities(None),
    )
    return dedup_key, ingestor.record(batch, context)
