"""Tables of the insights read model, on the service's one MetaData (migration 0008 creates them).

Times between two moments are kept per row as whole microseconds, computed when the
row changes: a query then adds and orders integers instead of subtracting times, and
the figures it reports are exactly the summary's (``timedelta.total_seconds()``).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Index,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    Uuid,
)

from eventstore.schema import metadata
from eventstore.types import UtcDateTime, json_document

COVERED = (
    "started_at",
    "kind",
    "duplicate_of",
    "resolved_at",
    "time_to_detect_us",
    "time_to_acknowledge_us",
    "time_to_mitigate_us",
    "time_to_resolve_us",
    "duration_us",
)
"""The columns a figures query reads, in the order of the index that holds them all."""

incident_insights = Table(
    "incident_insights",
    metadata,
    Column("incident_id", Uuid(), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("severity", String(4), nullable=False),
    # ",api,db," as in the summary: one LIKE finds a service.
    Column("services", Text, nullable=False),
    Column("labels", json_document(), nullable=False),
    # ",env=prod,team=payments," as in the summary: one LIKE finds a label.
    Column("labels_text", Text, nullable=False),
    Column("status", String(20), nullable=False),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("detected_at", UtcDateTime(), nullable=False),
    Column("acknowledged_at", UtcDateTime()),
    Column("mitigated_at", UtcDateTime()),
    Column("resolved_at", UtcDateTime()),
    # The first incident this one still records itself a duplicate of: it counts in its place.
    Column("duplicate_of", Uuid()),
    # Every incident it records duplicate_of, oldest first, so withdrawing one leaves the next.
    Column("duplicate_targets", json_document(), nullable=False),
    Column("time_to_detect_us", BigInteger, nullable=False),
    Column("time_to_acknowledge_us", BigInteger),
    Column("time_to_mitigate_us", BigInteger),
    Column("time_to_resolve_us", BigInteger),
    Column("duration_us", BigInteger),
    # The log position of the newest event that changed the row.
    Column("position", BigInteger, nullable=False),
    # Covering: a period's figures are read from the index alone, never from the wider rows
    # (labels, services); on SQLite that halves a year's answer over 100,000 incidents.
    Index("ix_incident_insights_started_at", *COVERED),
)

action_item_insights = Table(
    "action_item_insights",
    metadata,
    # Item ids are chosen by clients: only the pair is unique.
    Column("incident_id", Uuid(), nullable=False),
    Column("item_id", Uuid(), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("owner", String(200), nullable=False),
    Column("status", String(20), nullable=False),
    Column("due_date", Date, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("done_at", UtcDateTime()),  # when it last went to done; reopening clears it
    Column("closed_at", UtcDateTime()),  # when it last went to done or wont_do
    Column("time_to_done_us", BigInteger),  # done_at - created_at
    Column("severity", String(4), nullable=False),  # its incident's, kept current
    PrimaryKeyConstraint("incident_id", "item_id"),
    Index("ix_action_item_insights_created_at", "created_at"),
)
