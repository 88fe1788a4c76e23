"""The incident summary: one row per incident with its current state and key times."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, select

from domain import events as e
from projections.base import Envelope
from projections.sql import upsert
from projections.tables import incident_summaries

Row = dict[str, Any]


def _incident_id(env: Envelope) -> UUID:
    return UUID(env.recorded.stream_id.removeprefix("incident-"))


def _declared(row: Row, env: Envelope, ev: e.IncidentDeclared) -> None:
    row.update(
        incident_id=ev.incident_id,
        title=ev.title,
        status="investigating",
        severity=ev.severity.value,
        services="," + ",".join(ev.services) + "," if ev.services else "",
        summary=ev.summary,
        declared_by=env.actor,
        declared_at=env.recorded.recorded_at,
        started_at=ev.started_at,
        detected_at=ev.detected_at,
        acknowledged_at=None,
        resolved_at=None,
        closed_at=None,
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


APPLIERS: dict[type[e.DomainEvent], Callable[[Row, Envelope, Any], None]] = {
    e.IncidentDeclared: _declared,
    e.IncidentAcknowledged: lambda row, env, ev: row.update(acknowledged_at=ev.occurred_at),
    e.IncidentStatusChanged: _status,
    e.IncidentSeverityChanged: lambda row, env, ev: row.update(severity=ev.to_severity.value),
    e.NoteAdded: _ignore,
    e.NoteAmended: _ignore,
    e.NoteRedacted: _ignore,
}


def apply_to_rows(rows: dict[UUID, Row], env: Envelope) -> None:
    """Fold one event into in-memory summary rows (shared by storage and as-of replays)."""
    incident_id = _incident_id(env)
    row = rows.setdefault(incident_id, {})
    APPLIERS[type(env.event)](row, env, env.event)
    row["version"] = env.recorded.version
    row["last_position"] = env.recorded.position
    row["updated_at"] = env.recorded.recorded_at


class SummaryProjection:
    name = "incident_summary"
    version = 1
    tables = (incident_summaries,)

    def apply(self, conn: Connection, batch: Sequence[Envelope]) -> None:
        ids = {_incident_id(env) for env in batch}
        query = select(incident_summaries).where(incident_summaries.c.incident_id.in_(ids))
        rows: dict[UUID, Row] = {row.incident_id: dict(row._mapping) for row in conn.execute(query)}
        touched: set[UUID] = set()
        for env in batch:
            apply_to_rows(rows, env)
            touched.add(_incident_id(env))
        upsert(conn, incident_summaries, [rows[i] for i in sorted(touched)])


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
