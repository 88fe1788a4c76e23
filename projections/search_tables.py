"""Tables of the search read model, on the service's one MetaData (migration 0007 creates them).

Only the plain columns are declared here. The full-text index beside them differs by
backend and lives outside the MetaData (projections/search_index.py).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text, Uuid

from eventstore.schema import metadata
from eventstore.types import UtcDateTime, json_document

search_documents = Table(
    "search_documents",
    metadata,
    # A hash of (incident, kind, ref), never a counter: a rebuild's worker processes give
    # every document the same key independently. On SQLite the column is the rowid, which
    # the FTS5 index refers to and VACUUM leaves alone (it may renumber implicit rowids).
    Column(
        "doc_key",
        BigInteger().with_variant(Integer(), "sqlite"),
        primary_key=True,
        autoincrement=False,
    ),
    # Which document is newer: the log position of the event that wrote it whole (made it,
    # or rewrote a draft section) times ORDINALS_PER_POSITION, plus which of that event's documents it is.
    # Computed like the key, without a lookup. Search ranks at most the newest matches by
    # it, and on SQLite it is the FTS5 index's rowid, which FTS5 walks newest first cheaply.
    Column("ordinal", BigInteger, nullable=False),
    Column("incident_id", Uuid(), nullable=False),
    Column("kind", String(20), nullable=False),  # incident | note | postmortem | action_item
    # A note's or action item's id, "root_cause@draft" or "root_cause@2"; "" for the incident.
    Column("ref", String(60), nullable=False),
    Column("title", Text, nullable=False),  # weighted above the body; "" when it has none
    Column("body", Text, nullable=False),
    Column("occurred_at", UtcDateTime(), nullable=False),
    Column("position", BigInteger, nullable=False),  # the log position that last changed it
    # The incident document's parts (summary, impact, root cause, resolution, alert names),
    # from which its body is put together again when one of them changes; null otherwise.
    Column("parts", json_document()),
    Index("ix_search_documents_ordinal", "ordinal", unique=True),
)

ORDINALS_PER_POSITION = 8
"""Ordinals per log position: a publication writes one document per section (six)."""

search_alert_names = Table(
    "search_alert_names",
    metadata,
    Column("incident_id", Uuid(), primary_key=True),
    Column("name", String(200), primary_key=True),
    # Incidents sharing an alert name, for /incidents/{id}/similar.
    Index("ix_search_alert_names_name", "name"),
)
