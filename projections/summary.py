"""The incident summary: one row per incident with its current state and key times."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Select, Table, bindparam, select

from domain import events as e
from projections.base import Envelope
from projections.sql import upsert
from projections.tables import incident_summaries

Row = dict[str, Any]

ACTION_ITEM_COUNTS = {
    "open": "action_items_open",
    "in_progress": "action_items_in_progress",
    "done": "action_items_done",
    "wont_do": "action_items_wont_do",
}
"""Action item status -> the summary column counting the incident's items in it."""


def _services(services: Sequence[str]) -> str:
    return "," + ",".join(services) + "," if services else ""


def labels_text(labels: Mapping[str, str]) -> str:
    """``,env=prod,team=payments,``: sorted pairs between commas, for one LIKE per label."""
    return "," + ",".join(f"{k}={labels[k]}" for k in sorted(labels)) + "," if labels else ""


def _labels(row: Row, env: Envelope, ev: e.IncidentLabelsChanged) -> None:
    labels = {**(row["labels"] or {}), **ev.labels}
    for key in ev.removed:
        labels.pop(key, None)
    row.update(labels=labels, labels_text=labels_text(labels))


def _declared(row: Row, env: Envelope, ev: e.IncidentDeclared) -> None:
    row.update(
        incident_id=ev.incident_id,
        title=ev.title,
        status="investigating",
        severity=ev.severity.value,
        services=_services(ev.services),
        summary=ev.summary,
        declared_by=env.actor,
        declared_at=env.recorded.recorded_at,
        started_at=ev.started_at,
        detected_at=ev.detected_at,
        acknowledged_at=None,
        resolved_at=None,
        closed_at=None,
        impact=None,
        root_cause=None,
        resolution=None,
        mitigated_at=None,
        roles={},
        participants=[],
        postmortem_status="draft",
        postmortem_revision=1,
        alerts_firing=0,
        alerts_resolved=0,
        alert_source=None,
        previous_incident_id=None,
        labels={},
        labels_text="",
        kind="incident",
        postmortem_due_date=None,
        **dict.fromkeys(ACTION_ITEM_COUNTS.values(), 0),
    )


def _status(row: Row, env: Envelope, ev: e.IncidentStatusChanged) -> None:
    row["status"] = ev.to_status.value
    if ev.to_status.value == "resolved":
        row["resolved_at"] = ev.occurred_at
    elif ev.to_status.value == "closed":
        row["closed_at"] = ev.occurred_at
    elif ev.to_status.value == "investigating":
        row["resolved_at"] = None


def _ignore(row: Row, env: Envelope, ev: Any) -> None:
    return None


def _role(row: Row, env: Envelope, ev: e.RoleAssigned) -> None:
    # New containers rather than in-place changes: rows loaded from the database stay as read.
    row["roles"] = {**(row["roles"] or {}), ev.role.value: ev.person}


def _participant(row: Row, env: Envelope, ev: e.ParticipantAdded) -> None:
    participants = list(row["participants"] or [])
    if ev.person not in participants:
        participants.append(ev.person)
    row["participants"] = participants


def _item_added(row: Row, env: Envelope, ev: e.ActionItemAdded) -> None:
    row[ACTION_ITEM_COUNTS["open"]] += 1


def _item_status(row: Row, env: Envelope, ev: e.ActionItemStatusChanged) -> None:
    row[ACTION_ITEM_COUNTS[ev.from_status.value]] -= 1
    row[ACTION_ITEM_COUNTS[ev.to_status.value]] += 1


def _section_edited(row: Row, env: Envelope, ev: e.PostmortemSectionEdited) -> None:
    if ev.revision != row["postmortem_revision"]:
        row.update(postmortem_revision=ev.revision, postmortem_status="draft")


def _alert_fired(row: Row, env: Envelope, ev: e.AlertFired) -> None:
    row["alerts_firing"] += 1
    if row["alert_source"] is None:
        row["alert_source"] = ev.source.value


def _alert_resolved(row: Row, env: Envelope, ev: e.AlertResolved) -> None:
    row["alerts_firing"] -= 1
    row["alerts_resolved"] += 1


APPLIERS: dict[type[e.DomainEvent], Callable[[Row, Envelope, Any], None]] = {
    e.IncidentDeclared: _declared,
    e.IncidentAcknowledged: lambda row, env, ev: row.update(acknowledged_at=ev.occurred_at),
    e.IncidentStatusChanged: _status,
    e.IncidentSeverityChanged: lambda row, env, ev: row.update(severity=ev.to_severity.value),
    e.NoteAdded: _ignore,
    e.NoteAmended: _ignore,
    e.NoteRedacted: _ignore,
    e.ImpactUpdated: lambda row, env, ev: row.update(impact=ev.impact),
    e.RootCauseUpdated: lambda row, env, ev: row.update(root_cause=ev.root_cause),
    e.ResolutionUpdated: lambda row, env, ev: row.update(resolution=ev.resolution),
    e.IncidentMitigated: lambda row, env, ev: row.update(mitigated_at=ev.occurred_at),
    e.RoleAssigned: _role,
    e.ParticipantAdded: _participant,
    e.ServicesChanged: lambda row, env, ev: row.update(services=_services(ev.services)),
    e.PostmortemSectionEdited: _section_edited,
    e.PostmortemReviewRequested: lambda row, env, ev: row.update(postmortem_status="in_review"),
    e.PostmortemPublished: lambda row, env, ev: row.update(postmortem_status="published"),
    e.ActionItemAdded: _item_added,
    e.ActionItemReassigned: _ignore,
    e.ActionItemRescheduled: _ignore,
    e.ActionItemRetitled: _ignore,
    e.ActionItemReprioritized: _ignore,
    e.ActionItemStatusChanged: _item_status,
    e.ActionItemTicketLinked: _ignore,
    e.AlertFired: _alert_fired,
    e.AlertResolved: _alert_resolved,
    e.AlertAcknowledged: _ignore,
    e.AlertTextRedacted: _ignore,
    e.AlertsCleared: _ignore,
    e.IncidentLinked: lambda row, env, ev: row.update(previous_incident_id=ev.previous_incident_id),
    e.IncidentLabelsChanged: _labels,
    e.IncidentKindChanged: lambda row, env, ev: row.update(kind=ev.to_kind.value),
    e.IncidentRelated: _ignore,  # the relations read model holds them
    e.IncidentUnrelated: _ignore,
    e.PostmortemApproved: _ignore,
    e.PostmortemChangesRequested: _ignore,
    e.PostmortemDueDateSet: lambda row, env, ev: row.update(postmortem_due_date=ev.due_date),
}


def apply_to_rows(rows: dict[UUID, Row], env: Envelope) -> None:
    """Fold one event into in-memory summary rows (shared by storage and as-of replays)."""
    incident_id = env.incident_id
    row = rows.setdefault(incident_id, {})
    APPLIERS[type(env.event)](row, env, env.event)
    row["version"] = env.recorded.version
    row["last_position"] = env.recorded.position
    row["updated_at"] = env.recorded.recorded_at


class SummaryProjection:
    name = "incident_summary"
    version = 4

    def __init__(self, table: Table = incident_summaries) -> None:
        self.table = table

    @property
    def tables(self) -> tuple[Table, ...]:
        return (self.table,)

    def using(self, tables: Mapping[str, Table]) -> SummaryProjection:
        return SummaryProjection(tables[incident_summaries.name])

    def apply(self, conn: Connection, batch: Sequence[Envelope]) -> None:
        table = self.table
        ids = {env.incident_id for env in batch}
        if len(ids) == 1:  # an inline append: one incident, one cached statement
            (only,) = ids
            found = conn.execute(_one_summary(table), {"incident_id": only})
        else:
            found = conn.execute(select(table).where(table.c.incident_id.in_(ids)))
        rows: dict[UUID, Row] = {row.incident_id: dict(row._mapping) for row in found}
        for env in batch:
            apply_to_rows(rows, env)
        upsert(conn, table, [rows[i] for i in sorted(ids)])


@lru_cache(maxsize=8)
def _one_summary(table: Table) -> Select[Any]:
    return select(table).where(table.c.incident_id == bindparam("incident_id"))


def get_summary(conn: Connection, incident_id: UUID) -> Row | None:
    """One incident's summary row, or None."""
    query = select(incident_summaries).where(incident_summaries.c.incident_id == incident_id)
    row = conn.execute(query).first()
    return dict(row._mapping) if row is not None else None


def list_summaries(
    conn: Connection,
    *,
    limit: int,
    status: str | None = None,
    severity: str | None = None,
    service: str | None = None,
    label: tuple[str, str] | None = None,
    kind: str | None = None,
    declared_after: Any = None,
    declared_before: Any = None,
    before: tuple[Any, UUID] | None = None,
) -> list[Row]:
    """Summaries, newest declared first; ``before`` is the keyset cursor (declared_at, id)."""
    t = incident_summaries
    query = select(t)
    if status is not None:
        query = query.where(t.c.status == status)
    if severity is not None:
        query = query.where(t.c.severity == severity)
    if service is not None:
        query = query.where(t.c.services.contains(f",{service},", autoescape=True))
    if label is not None:
        key, value = label
        query = query.where(t.c.labels_text.contains(f",{key}={value},", autoescape=True))
    if kind is not None:
        query = query.where(t.c.kind == kind)
    if declared_after is not None:
        query = query.where(t.c.declared_at >= declared_after)
    if declared_before is not None:
        query = query.where(t.c.declared_at < declared_before)
    if before is not None:
        at, incident_id = before
        query = query.where(
            (t.c.declared_at < at) | ((t.c.declared_at == at) & (t.c.incident_id < incident_id))
        )
    query = query.order_by(t.c.declared_at.desc(), t.c.incident_id.desc()).limit(limit)
    return [dict(row._mapping) for row in conn.execute(query)]
