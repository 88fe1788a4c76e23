"""What one subscription is sent for one event of the log: its body, in the subscription's
format, and what the incident looked like to the read models when it was sent."""

from __future__ import annotations

from dataclasses import dataclass, replace
from uuid import UUID

from sqlalchemy import Connection, select

from domain.events import decode, encode
from domain.values import incident_id_of
from eventstore.records import RecordedEvent
from outbound.payloads import IncidentFacts, standard_body
from outbound.slack_messages import slack_body
from outbound.subscriptions import Subscription
from projections.tables import checkpoints, incident_summaries

SUMMARY = "incident_summary"
"""The read model the messages take an incident's title, status, severity and services from."""


@dataclass(frozen=True, slots=True)
class Message:
    message_id: str
    event_type: str
    position: int | None
    body: bytes


def facts_of(conn: Connection, incident_id: UUID) -> IncidentFacts | None:
    """The incident as its summary has it now, or None before the summary knows it."""
    t = incident_summaries
    row = conn.execute(
        select(t.c.title, t.c.status, t.c.severity, t.c.services).where(
            t.c.incident_id == incident_id
        )
    ).first()
    if row is None:
        return None
    services = tuple(name for name in (row.services or "").split(",") if name)
    return IncidentFacts(incident_id, row.title, row.status, row.severity, services)


def summarised_position(conn: Connection) -> int:
    """How far the summary read model has read the log: a message is sent only once the
    incident facts it carries are at least as new as its event."""
    found = conn.execute(
        select(checkpoints.c.position).where(checkpoints.c.name == SUMMARY)
    ).scalar()
    return int(found or 0)


def current_form(event: RecordedEvent) -> RecordedEvent:
    """The event with its data in the schema version this release writes (older stored
    versions upcast), so receivers see one shape per type."""
    decoded = decode(event.type, event.schema_version, event.data, event.occurred_at)
    return replace(event, data=encode(decoded))


def message_for(
    subscription: Subscription,
    event: RecordedEvent,
    incident: IncidentFacts | None,
    base_url: str,
) -> Message | None:
    """The message ``subscription`` is sent for ``event``, or None when it wants none:
    another type, outside its filter, or (Slack) nothing a channel needs to hear."""
    if not subscription.wants_type(event.type):
        return None
    filtered = subscription.severity or subscription.services
    if filtered and (
        incident is None or not subscription.wants_incident(incident.severity, incident.services)
    ):
        return None
    event = current_form(event)
    if subscription.format == "slack":
        body = slack_body(event, incident, base_url)
        if body is None:
            return None
    else:
        body = standard_body(event, incident, base_url)
    return Message(str(event.event_id), event.type, event.position, body)


def incident_of(event: RecordedEvent) -> UUID:
    return incident_id_of(event.stream_id)
