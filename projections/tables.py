"""Tables of the read models, on the service's one MetaData (migrations create them)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    Uuid,
)

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
    Column("impact", Text),
    Column("root_cause", Text),
    Column("resolution", Text),
    Column("mitigated_at", UtcDateTime()),
    Column("roles", json_document()),  # {"incident_commander": "alice", ...}
    Column("participants", json_document()),  # ["alice", "bob"], in the order they joined
    Column("action_items_open", Integer, nullable=False, server_default="0"),
    Column("action_items_in_progress", Integer, nullable=False, server_default="0"),
    Column("action_items_done", Integer, nullable=False, server_default="0"),
    Column("action_items_wont_do", Integer, nullable=False, server_default="0"),
    Column("postmortem_status", String(20), nullable=False, server_default="draft"),
    Column("postmortem_revision", Integer, nullable=False, server_default="1"),
    Column("alerts_firing", Integer, nullable=False, server_default="0"),
    Column("alerts_resolved", Integer, nullable=False, server_default="0"),
    Column("alert_source", String(20)),  # the monitoring system of its first alert
    Column("previous_incident_id", Uuid()),  # the incident this one follows
    Column("labels", json_document()),  # {"team": "payments", "env": "prod"}
    # ",env=prod,team=payments," (sorted): one LIKE finds a label, as for services.
    Column("labels_text", Text, nullable=False, server_default=""),
    Column("kind", String(20), nullable=False, server_default="incident"),
    Column("postmortem_due_date", Date),  # set explicitly; else the service's default rule
    Index("ix_incident_summaries_declared_at", "declared_at", "incident_id"),
)

incident_relations = Table(
    "incident_relations",
    metadata,
    # Both directions of each relation, so either incident finds it with one lookup.
    Column("incident_id", Uuid(), nullable=False),
    Column("other_incident_id", Uuid(), nullable=False),
    Column("relation", String(20), nullable=False),
    Column("direction", String(10), nullable=False),  # outgoing: recorded in incident_id's stream
    Column("actor", String(200)),
    Column("recorded_at", UtcDateTime(), nullable=False),
    Column("position", BigInteger, nullable=False),
    PrimaryKeyConstraint("incident_id", "other_incident_id", "direction"),
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

action_items = Table(
    "action_items",
    metadata,
    # Keyed by incident too: item ids are the client's choice and may repeat across incidents.
    Column("incident_id", Uuid(), primary_key=True),
    Column("item_id", Uuid(), primary_key=True),
    Column("title", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("owner", String(200), nullable=False),
    Column("due_date", Date, nullable=False),
    Column("priority", String(2), nullable=False),
    Column("status", String(20), nullable=False),
    Column("reason", Text),
    Column("ticket_url", String(2000)),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    # The log position that added the item: a stable tie-breaker for the board's order.
    Column("position", BigInteger, nullable=False),
    Index("ix_action_items_owner", "owner"),
    Index("ix_action_items_status", "status", "due_date"),
)


def _per_revision(name: str, *columns: Column[Any], key: tuple[str, ...] = ()) -> Table:
    """A table of rows per postmortem revision, keyed by incident, revision and ``key``."""
    return Table(
        name,
        metadata,
        Column("incident_id", Uuid(), nullable=False),
        Column("revision", Integer, nullable=False),
        *columns,
        PrimaryKeyConstraint("incident_id", "revision", *key),
    )


postmortem_sections = _per_revision(
    "postmortem_sections",
    Column("section", String(40), nullable=False),
    Column("text", Text, nullable=False),
    key=("section",),
)

postmortem_revisions = _per_revision(
    "postmortem_revisions",
    Column("status", String(20), nullable=False),
    Column("published_at", UtcDateTime()),
    Column("published_by", String(200)),
    Column("review_requested_at", UtcDateTime()),
    Column("reviewers", json_document()),  # ["bob", "carol"], as the review named them
    # {"bob": {"verdict": "approved", "comment": ..., "at": ...}} for the text as it stands
    Column("verdicts", json_document()),
)
