"""The insights read model: per incident and per action item, what cross-incident figures need.

Every row belongs to the incident whose stream changed it (a duplicate records
``duplicate_of`` in its own stream), so the partitioned rebuild can fold streams apart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Select, Table, bindparam, select, update

from domain import events as e
from domain.values import Relation
from projections.base import Envelope
from projections.insight_tables import action_item_insights, incident_insights
from projections.sql import upsert
from projections.summary import labels_text

Row = dict[str, Any]
ItemKey = tuple[UUID, UUID]

_MICROSECOND = timedelta(microseconds=1)

INTERVALS = {
    "time_to_detect_us": ("detected_at", "started_at"),
    "time_to_acknowledge_us": ("acknowledged_at", "detected_at"),
    "time_to_mitigate_us": ("mitigated_at", "detected_at"),
    "time_to_resolve_us": ("resolved_at", "detected_at"),
    "duration_us": ("resolved_at", "started_at"),
}
"""Column -> (later, earlier): the summary's definitions (projections/documents/incident.py)."""


def microseconds(end: datetime | None, start: datetime | None) -> int | None:
    """``end - start`` in whole microseconds; None unless both exist."""
    return (end - start) // _MICROSECOND if end is not None and start is not None else None


# --- incidents --------------------------------------------------------------------------------


def _declared(row: Row, env: Envelope, ev: e.IncidentDeclared) -> None:
    row.update(
        incident_id=ev.incident_id,
        kind="incident",
        severity=ev.severity.value,
        services=_services(ev.services),
        labels={},
        status="investigating",
        started_at=ev.started_at,
        detected_at=ev.detected_at,
        acknowledged_at=None,
        mitigated_at=None,
        resolved_at=None,
        duplicate_targets=[],
    )


def _services(services: Sequence[str]) -> str:
    return "," + ",".join(services) + "," if services else ""


def _status(row: Row, env: Envelope, ev: e.IncidentStatusChanged) -> None:
    # As the summary: resolving sets resolved_at, reopening clears it, closing keeps it.
    row["status"] = ev.to_status.value
    if ev.to_status.value == "resolved":
        row["resolved_at"] = ev.occurred_at
    elif ev.to_status.value == "investigating":
        row["resolved_at"] = None


def _labels(row: Row, env: Envelope, ev: e.IncidentLabelsChanged) -> None:
    labels = {**row["labels"], **ev.labels}
    for key in ev.removed:
        labels.pop(key, None)
    row["labels"] = labels


def _related(row: Row, env: Envelope, ev: e.IncidentRelated) -> None:
    if ev.relation is Relation.DUPLICATE_OF:
        row["duplicate_targets"] = [*row["duplicate_targets"], str(ev.other_incident_id)]


def _unrelated(row: Row, env: Envelope, ev: e.IncidentUnrelated) -> None:
    if ev.relation is Relation.DUPLICATE_OF:
        gone = str(ev.other_incident_id)
        row["duplicate_targets"] = [t for t in row["duplicate_targets"] if t != gone]


INCIDENT_APPLIERS: dict[type[e.DomainEvent], Callable[[Row, Envelope, Any], None]] = {
    e.IncidentDeclared: _declared,
    e.IncidentAcknowledged: lambda row, env, ev: row.update(acknowledged_at=ev.occurred_at),
    e.IncidentStatusChanged: _status,
    e.IncidentSeverityChanged: lambda row, env, ev: row.update(severity=ev.to_severity.value),
    e.IncidentMitigated: lambda row, env, ev: row.update(mitigated_at=ev.occurred_at),
    e.ServicesChanged: lambda row, env, ev: row.update(services=_services(ev.services)),
    e.IncidentLabelsChanged: _labels,
    e.IncidentKindChanged: lambda row, env, ev: row.update(kind=ev.to_kind.value),
    e.IncidentRelated: _related,
    e.IncidentUnrelated: _unrelated,
}
"""The events that change an incident's row; every other event leaves it as it is."""


def _finish(row: Row) -> Row:
    """Set the columns derived from the others."""
    row["labels_text"] = labels_text(row["labels"])
    targets = row["duplicate_targets"]
    row["duplicate_of"] = UUID(targets[0]) if targets else None
    for column, (end, start) in INTERVALS.items():
        row[column] = microseconds(row[end], row[start])
    return row


# --- action items -----------------------------------------------------------------------------


def _item_added(
    rows: dict[ItemKey, Row], env: Envelope, ev: e.ActionItemAdded, severity: str
) -> None:
    rows[(env.incident_id, ev.item_id)] = {
        "incident_id": env.incident_id,
        "item_id": ev.item_id,
        "kind": ev.kind.value,
        "owner": ev.owner,
        "status": "open",
        "due_date": ev.due_date,
        # Recorded times, as the action-item board's created_at.
        "created_at": env.recorded.recorded_at,
        "done_at": None,
        "closed_at": None,
        "time_to_done_us": None,
        "severity": severity,
    }


def _item_status(row: Row, env: Envelope, ev: e.ActionItemStatusChanged) -> None:
    status = ev.to_status.value
    at = env.recorded.recorded_at
    row["status"] = status
    row["done_at"] = at if status == "done" else None
    row["closed_at"] = at if status in ("done", "wont_do") else None
    row["time_to_done_us"] = microseconds(row["done_at"], row["created_at"])


ITEM_APPLIERS: dict[type[e.DomainEvent], Callable[[Row, Envelope, Any], None]] = {
    e.ActionItemReassigned: lambda row, env, ev: row.update(owner=ev.owner),
    e.ActionItemRescheduled: lambda row, env, ev: row.update(due_date=ev.due_date),
    e.ActionItemStatusChanged: _item_status,
}
"""The events that change an item added before; retitling, priorities and tickets do not count."""


# --- the projection ---------------------------------------------------------------------------


class InsightsProjection:
    name = "insights"
    version = 1

    def __init__(
        self, incidents: Table = incident_insights, items: Table = action_item_insights
    ) -> None:
        self.incidents = incidents
        self.items = items

    @property
    def tables(self) -> tuple[Table, ...]:
        return (self.incidents, self.items)

    def using(self, tables: Mapping[str, Table]) -> InsightsProjection:
        return InsightsProjection(tables[incident_insights.name], tables[action_item_insights.name])

    def apply(self, conn: Connection, batch: Sequence[Envelope]) -> None:
        relevant = [env for env in batch if type(env.event) in _RELEVANT]
        if not relevant:
            return
        incidents = self._incidents(conn, _stored_incidents_needed(relevant))
        changing = {env.incident_id for env in relevant if type(env.event) in ITEM_APPLIERS}
        items = self._items(conn, changing)
        changed: set[UUID] = set()
        changed_items: set[ItemKey] = set()
        severities: dict[UUID, str] = {}
        for env in relevant:
            ev = env.event
            if isinstance(ev, e.ActionItemAdded):
                row = incidents[env.incident_id]
                _item_added(items, env, ev, row["severity"])
                changed_items.add((env.incident_id, ev.item_id))
            elif isinstance(ev, _ITEM_CHANGES):
                key = (env.incident_id, ev.item_id)
                ITEM_APPLIERS[type(ev)](items[key], env, ev)
                changed_items.add(key)
            else:
                row = incidents.setdefault(env.incident_id, {})
                INCIDENT_APPLIERS[type(ev)](row, env, ev)
                row["position"] = env.recorded.position
                changed.add(env.incident_id)
                if isinstance(ev, e.IncidentSeverityChanged):
                    severities[env.incident_id] = row["severity"]
        upsert(conn, self.incidents, [_finish(incidents[i]) for i in sorted(changed)])
        upsert(conn, self.items, [items[key] for key in sorted(changed_items)])
        if severities:
            # Items added in earlier batches carry the severity their incident had then.
            t = self.items
            conn.execute(
                update(t).where(t.c.incident_id == bindparam("i")).values(severity=bindparam("s")),
                [{"i": i, "s": s} for i, s in severities.items()],
            )

    def _incidents(self, conn: Connection, ids: set[UUID]) -> dict[UUID, Row]:
        found = _rows_of(conn, self.incidents, ids)
        return {row.incident_id: dict(row._mapping) for row in found}

    def _items(self, conn: Connection, incident_ids: set[UUID]) -> dict[ItemKey, Row]:
        found = _rows_of(conn, self.items, incident_ids)
        return {(row.incident_id, row.item_id): dict(row._mapping) for row in found}


def _rows_of(conn: Connection, table: Table, incident_ids: set[UUID]) -> Iterable[Any]:
    """The rows of these incidents; for one (an inline append), through one cached statement."""
    if not incident_ids:
        return ()
    if len(incident_ids) == 1:
        (only,) = incident_ids
        return conn.execute(_of_one(table), {"incident_id": only})
    return conn.execute(select(table).where(table.c.incident_id.in_(sorted(incident_ids))))


@lru_cache(maxsize=8)
def _of_one(table: Table) -> Select[Any]:
    return select(table).where(table.c.incident_id == bindparam("incident_id"))


_ITEM_CHANGES = (e.ActionItemReassigned, e.ActionItemRescheduled, e.ActionItemStatusChanged)
_RELEVANT = {*INCIDENT_APPLIERS, *ITEM_APPLIERS, e.ActionItemAdded}


def _stored_incidents_needed(batch: Sequence[Envelope]) -> set[UUID]:
    """The incidents whose stored row the batch reads or changes: not those it declares,
    which have none yet (a stream starts with its declaration)."""
    needed: set[UUID] = set()
    declared: set[UUID] = set()
    for env in batch:
        if isinstance(env.event, e.IncidentDeclared):
            declared.add(env.incident_id)
        elif env.incident_id not in declared and (
            type(env.event) in INCIDENT_APPLIERS or isinstance(env.event, e.ActionItemAdded)
        ):
            needed.add(env.incident_id)
    return needed
