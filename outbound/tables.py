"""Tables of outbound webhooks, on the service's one MetaData (migration 0010 creates them).

A subscription row is also its deliverer's checkpoint: ``position`` is the log position
up to which every event has been delivered or passed over, and ``attempts`` and
``next_attempt_at`` say how the event after it is being retried. Both change in the
transaction that records an attempt, so a crash between sending and recording resends
(at least once) and never skips.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Identity,
    Index,
    Integer,
    String,
    Table,
    Text,
    Uuid,
)

from eventstore.schema import metadata
from eventstore.types import UtcDateTime, json_document

webhook_subscriptions = Table(
    "webhook_subscriptions",
    metadata,
    Column("subscription_id", Uuid(), primary_key=True),
    Column("url", Text, nullable=False),
    Column("types", json_document(), nullable=False),  # exact types, or prefixes ending in "."
    Column("format", String(10), nullable=False),  # standard | slack
    Column("description", Text, nullable=False),
    Column("filter", json_document(), nullable=False),  # {"severity": [...], "services": [...]}
    Column("enabled", Boolean, nullable=False),
    Column("disabled_reason", Text),
    # Fernet tokens: the secrets in clear never reach the database.
    Column("sealed_secret", Text, nullable=False),
    Column("sealed_previous_secret", Text),
    Column("previous_secret_until", UtcDateTime()),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("attempts", Integer, nullable=False),  # made on the event after position
    Column("next_attempt_at", UtcDateTime()),
    Column("failing_since", UtcDateTime()),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column(
        "delivery_id",
        BigInteger().with_variant(Integer(), "sqlite"),
        Identity(always=False),
        primary_key=True,
    ),
    Column("subscription_id", Uuid(), nullable=False),
    Column("message_id", String(64), nullable=False),  # the event id; msg_test_… for a test
    Column("event_type", String(100), nullable=False),
    Column("position", BigInteger),  # null for a test message
    Column("attempt", Integer, nullable=False),
    Column("trigger", String(10), nullable=False),  # log | redeliver | test
    Column("attempted_at", UtcDateTime(), nullable=False),
    Column("status_code", Integer),
    Column("duration_ms", Float, nullable=False),
    Column("error", Text),
    Index("ix_webhook_deliveries_subscription", "subscription_id", "delivery_id"),
    sqlite_autoincrement=True,
)
