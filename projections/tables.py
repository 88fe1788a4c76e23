"""Tables of the read models, on the service's one MetaData (migrations create them)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text, Uuid

from eventstore.schema import metadata
from eventstore.types import UtcDateTime, json_document

checkpoints = Table(
    "projection_checkpoints",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

incident_summaries = Table(
    "incident_summaries",
    metadata,
    Column("incident_id", Uuid(), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("last_position", BigInteger, nullable=False),
    Column("title", String(200), nullable=False),
    Column("status", String(20), nullable=False),
    Column("severity", String(4), nullable=False),
    # ",api,db," so one LIKE finds a service on every backend; names hold no commas.
    Column("services", Text, nullable=False),
    Column("summary", Text),
    Column("declared_by", String(200)),
    Column("declared_at", UtcDateTime(), nullable=False),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("detected_at", UtcDateTime(), nullable=False),
    Column("acknowledged_at", UtcDateTime()),
    Column("resolved_at", UtcDateTime()),
    Column("closed_at", UtcDateTime()),
    Column("updated_at", UtcDateTime(), nullable=False),
    Index("ix_incident_summaries_declared_at", "declared_at", "incident_id"),
)

timeline_entries = Table(
    "timeline_entries",
    metadata,
    Column("entry_id", Uuid(), primary_key=True),
    Column("incident_id", Uuid(), nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("text", Text, nullable=False),
    Column("actor", String(200)),
    Column("details", json_document(), nullable=False),
    Column("occurred_at", UtcDateTime(), nullable=False),
    Column("recorded_at", UtcDateTime(), nullable=False),
    Column("amended_at", UtcDateTime()),
    Index("ix_timeline_entries_incident", "incident_id", "occurred_at", "position"),
)
