"""The summary document as the API serves it: the read model's row, its relations, and its
postmortem's due date by the service's rule."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import Connection

from application.postmortem_due import due_date, is_overdue
from projections.documents.incident import IncidentSummary, Relation
from projections.relations import relations_of


def summary_document(
    row: dict[str, Any],
    *,
    today: date,
    business_days: int,
    conn: Connection | None = None,
) -> IncidentSummary:
    """The document of a summary row; ``conn`` adds the incident's relations (live reads)."""
    document = IncidentSummary.from_row(row)
    due = due_date(row.get("postmortem_due_date"), row.get("resolved_at"), business_days)
    # A revision after the first exists only once one was published.
    published = (
        row.get("postmortem_status") == "published" or (row.get("postmortem_revision") or 1) > 1
    )
    update: dict[str, Any] = {
        "postmortem_due_date": due,
        "postmortem_overdue": is_overdue(due, published, today),
    }
    if conn is not None:
        update["relations"] = relation_documents(conn, row["incident_id"])
    return document.model_copy(update=update)


def relation_documents(conn: Connection, incident_id: UUID) -> list[Relation]:
    """The incident's relations, recorded by it or by the other incident, oldest first."""
    return [
        Relation(
            incident_id=r["other_incident_id"],
            relation=r["relation"],
            recorded_by_this=r["direction"] == "outgoing",
            actor=r["actor"],
            recorded_at=r["recorded_at"],
        )
        for r in relations_of(conn, incident_id)
    ]
