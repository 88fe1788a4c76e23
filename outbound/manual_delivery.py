"""Deliveries an admin asks for: a test message, or one event of the log sent again.

Both are sent at once from the request, outside the subscription's ordered queue: they
are recorded in its delivery log (trigger ``test`` or ``redeliver``) and leave its
checkpoint alone, so the events the deliverer follows are neither skipped nor resent.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import insert, select

from eventstore.bulk_read import read_events_after
from eventstore.schema import events
from outbound.deliverer import json_headers
from outbound.http_sender import Sender
from outbound.messages import Message, current_form, facts_of, incident_of
from outbound.payloads import standard_body, test_body
from outbound.slack_messages import slack_body
from outbound.subscriptions import Delivery, Subscription, SubscriptionStore, delivery_of
from outbound.tables import webhook_deliveries

SLACK_TEST = b'{"text":"Incident Ledger: a test message. This channel will hear about incidents."}'


def send_test(
    store: SubscriptionStore,
    sender: Sender,
    subscription: Subscription,
    base_url: str,
    now: datetime,
) -> Delivery:
    """A ``webhook.test`` message, signed like every other."""
    message_id, body = test_body(subscription.subscription_id, base_url, now)
    if subscription.format == "slack":
        body = SLACK_TEST
    return _send(
        store, sender, subscription, Message(message_id, "webhook.test", None, body), "test", now
    )


def redeliver(
    store: SubscriptionStore,
    sender: Sender,
    subscription: Subscription,
    event_id: UUID,
    base_url: str,
    now: datetime,
) -> Delivery | None:
    """The event ``event_id`` of the log sent again with its own ``webhook-id``; None when
    the log has no such event."""
    with store.engine.connect() as conn:
        position = conn.execute(
            select(events.c.position).where(events.c.event_id == event_id)
        ).scalar()
        if position is None:
            return None
        (event,) = read_events_after(conn, int(position) - 1, 1)
        facts = facts_of(conn, incident_of(event))
    event = current_form(event)
    if subscription.format == "slack":
        body = slack_body(event, facts, base_url) or SLACK_TEST
    else:
        body = standard_body(event, facts, base_url)
    message = Message(str(event.event_id), event.type, event.position, body)
    return _send(store, sender, subscription, message, "redeliver", now)


def _send(
    store: SubscriptionStore,
    sender: Sender,
    subscription: Subscription,
    message: Message,
    trigger: str,
    now: datetime,
) -> Delivery:
    with store.engine.connect() as conn:
        secrets = store.signing_secrets(conn, subscription.subscription_id, now)
    headers = (
        json_headers(message, secrets)
        if subscription.format == "standard"
        else {"content-type": "application/json"}
    )
    attempt = sender.post(subscription.url, headers, message.body)
    with store.engine.begin() as conn:
        row = (
            conn.execute(
                insert(webhook_deliveries)
                .values(
                    subscription_id=subscription.subscription_id,
                    message_id=message.message_id,
                    event_type=message.event_type,
                    position=message.position,
                    attempt=1,
                    trigger=trigger,
                    attempted_at=now,
                    status_code=attempt.status,
                    duration_ms=attempt.duration_ms,
                    error=attempt.error,
                )
                .returning(*webhook_deliveries.c)
            )
            .mappings()
            .one()
        )
    return delivery_of(row)
