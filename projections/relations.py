"""Relations between incidents: recorded in one incident's stream, shown on both.

Each relation is stored twice, once per direction, so either incident lists its
relations with one indexed lookup; ``direction`` says which incident recorded it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Table, bindparam, delete, select

from domain import events as e
from projections.base import Envelope
from projections.sql import upsert
from projections.tables import incident_relations

Row = dict[str, Any]
Key = tuple[UUID, UUID, str]

INVERSE = {"duplicate_of": "duplicated_by", "caused_by": "caused", "related_to": "related_to"}
"""How the other incident reads a relation: B duplicate_of A shows on A as duplicated_by B."""


def apply_to_rows(rows: dict[Key, Row | None], env: Envelope) -> None:
    """Fold one event into the relation rows; ``None`` marks a row removed."""
    ev = env.event
    if isinstance(ev, e.IncidentRelated):
        one, other = env.incident_id, ev.other_incident_id
        common = {
            "relation": ev.relation.value,
            "actor": env.actor,
            "recorded_at": env.recorded.recorded_at,
            "position": env.recorded.position,
        }
        rows[(one, other, "outgoing")] = {
            "incident_id": one,
            "other_incident_id": other,
            "direction": "outgoing",
            **common,
        }
        rows[(other, one, "incoming")] = {
            "incident_id": other,
            "other_incident_id": one,
            "direction": "incoming",
            **common,
        }
    elif isinstance(ev, e.IncidentUnrelated):
        rows[(env.incident_id, ev.other_incident_id, "outgoing")] = None
        rows[(ev.other_incident_id, env.incident_id, "incoming")] = None


class RelationsProjection:
    name = "incident_relations"
    version = 1

    def __init__(self, table: Table = incident_relations) -> None:
        self.table = table

    @property
    def tables(self) -> tuple[Table, ...]:
        return (self.table,)

    def using(self, tables: Mapping[str, Table]) -> RelationsProjection:
        return RelationsProjection(tables[incident_relations.name])

    def apply(self, conn: Connection, batch: Sequence[Envelope]) -> None:
        relevant = [
            env for env in batch if isinstance(env.event, e.IncidentRelated | e.IncidentUnrelated)
        ]
        if not relevant:
            return
        rows: dict[Key, Row | None] = {}
        for env in relevant:
            apply_to_rows(rows, env)
        t = self.table
        removed = [key for key, row in rows.items() if row is None]
        if removed:
            conn.execute(
                delete(t).where(
                    t.c.incident_id == bindparam("i"),
                    t.c.other_incident_id == bindparam("o"),
                    t.c.direction == bindparam("d"),
                ),
                [{"i": i, "o": o, "d": d} for i, o, d in removed],
            )
        upsert(conn, t, [row for key, row in sorted(rows.items()) if row is not None])


def relations_of(conn: Connection, incident_id: UUID) -> list[Row]:
    """The incident's relations, both those it recorded and those recorded against it,
    each as this incident reads it (``relation`` inverted for incoming ones), oldest first."""
    t = incident_relations
    query = select(t).where(t.c.incident_id == incident_id).order_by(t.c.position)
    found = []
    for row in conn.execute(query):
        item = dict(row._mapping)
        if item["direction"] == "incoming":
            item["relation"] = INVERSE[item["relation"]]
        found.append(item)
    return found
