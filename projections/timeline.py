"""The reconstructed timeline: one entry per relevant event, notes as amended, redactions hidden."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, delete, select

from domain import events as e
from projections.base import Envelope
from projections.sql import upsert
from projections.tables import timeline_entries

Row = dict[str, Any]


def _entry(env: Envelope, kind: str, text: str, **details: Any) -> Row:
    return {
        "entry_id": env.recorded.event_id,
        "incident_id": UUID(env.recorded.stream_id.removeprefix("incident-")),
        "position": env.recorded.position,
        "kind": kind,
        "text": text,
        "actor": env.actor,
        "details": details,
        "occurred_at": env.recorded.occurred_at,
        "recorded_at": env.recorded.recorded_at,
        "amended_at": None,
    }


def _declared(rows: dict[UUID, Row | None], env: Envelope, ev: e.IncidentDeclared) -> None:
    text = f"Incident declared: {ev.title} ({ev.severity.value})"
    row = _entry(env, "declared", text, severity=ev.severity.value, services=list(ev.services))
    rows[row["entry_id"]] = row


def _acknowledged(rows: dict[UUID, Row | None], env: Envelope, ev: e.IncidentAcknowledged) -> None:
    row = _entry(env, "acknowledged", "Incident acknowledged")
    rows[row["entry_id"]] = row


def _status(rows: dict[UUID, Row | None], env: Envelope, ev: e.IncidentStatusChanged) -> None:
    text = f"Status changed from {ev.from_status.value} to {ev.to_status.value}"
    row = _entry(
        env, "status_changed", text, **{"from": ev.from_status.value, "to": ev.to_status.value}
    )
    rows[row["entry_id"]] = row


def _severity(rows: dict[UUID, Row | None], env: Envelope, ev: e.IncidentSeverityChanged) -> None:
    text = f"Severity changed from {ev.from_severity.value} to {ev.to_severity.value}"
    if ev.reason:
        text += f": {ev.reason}"
    details = {"from": ev.from_severity.value, "to": ev.to_severity.value, "reason": ev.reason}
    row = _entry(env, "severity_changed", text, **details)
    rows[row["entry_id"]] = row


def _note(rows: dict[UUID, Row | None], env: Envelope, ev: e.NoteAdded) -> None:
    row = _entry(env, "note", ev.text)
    row["entry_id"] = ev.note_id
    rows[ev.note_id] = row


def _amended(rows: dict[UUID, Row | None], env: Envelope, ev: e.NoteAmended) -> None:
    row = rows.get(ev.note_id)
    if row is None:  # redacted before: nothing left to amend
        return
    if ev.text is not None:
        row["text"] = ev.text
    if ev.note_occurred_at is not None:
        row["occurred_at"] = ev.note_occurred_at
    row["amended_at"] = env.recorded.recorded_at


def _redacted(rows: dict[UUID, Row | None], env: Envelope, ev: e.NoteRedacted) -> None:
    rows[ev.note_id] = None


APPLIERS: dict[type[e.DomainEvent], Callable[[dict[UUID, Row | None], Envelope, Any], None]] = {
    e.IncidentDeclared: _declared,
    e.IncidentAcknowledged: _acknowledged,
    e.IncidentStatusChanged: _status,
    e.IncidentSeverityChanged: _severity,
    e.NoteAdded: _note,
    e.NoteAmended: _amended,
    e.NoteRedacted: _redacted,
}

CHANGES_EARLIER_ENTRY = (e.NoteAmended, e.NoteRedacted)


def apply_to_rows(rows: dict[UUID, Row | None], env: Envelope) -> None:
    """Fold one event into in-memory entries; a ``None`` value marks an entry removed."""
    APPLIERS[type(env.event)](rows, env, env.event)


def visible(rows: dict[UUID, Row | None]) -> list[Row]:
    """Entries in timeline order: when they occurred, then log position."""
    live = [row for row in rows.values() if row is not None]
    return sorted(live, key=lambda row: (row["occurred_at"], row["position"]))


class TimelineProjection:
    name = "timeline"
    version = 1
    tables = (timeline_entries,)

    def apply(self, conn: Connection, batch: Sequence[Envelope]) -> None:
        earlier = {
            env.event.note_id for env in batch if isinstance(env.event, CHANGES_EARLIER_ENTRY)
        }
        rows: dict[UUID, Row | None] = {}
        if earlier:
            query = select(timeline_entries).where(timeline_entries.c.entry_id.in_(earlier))
            rows.update({row.entry_id: dict(row._mapping) for row in conn.execute(query)})
        for env in batch:
            apply_to_rows(rows, env)
        removed = [entry_id for entry_id, row in rows.items() if row is None]
        if removed:
            conn.execute(delete(timeline_entries).where(timeline_entries.c.entry_id.in_(removed)))
        upsert(conn, timeline_entries, [row for row in rows.values() if row is not None])


def get_timeline(conn: Connection, incident_id: UUID) -> list[Row]:
    """An incident's visible entries in timeline order."""
    t = timeline_entries
    query = select(t).where(t.c.incident_id == incident_id).order_by(t.c.occurred_at, t.c.position)
    return [dict(row._mapping) for row in conn.execute(query)]
