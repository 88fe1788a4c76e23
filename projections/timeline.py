"""The reconstructed timeline: one entry per relevant event, notes as amended.

It starts at the incident's start and detection (derived from its declaration); a
redacted note leaves a placeholder with who redacted it and why, and none of its text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from sqlalchemy import Connection, Table, delete, select

from domain import events as e
from domain.erasable_text import RedactedText
from projections.base import Envelope
from projections.new_rows import insert_new
from projections.sql import upsert
from projections.tables import timeline_entries
from projections.timeline_alerts import erased_alert
from projections.timeline_classification import other_side
from projections.timeline_descriptions import DESCRIBERS

Row = dict[str, Any]


def _entry(env: Envelope, kind: str, text: str, **details: Any) -> Row:
    return {
        "entry_id": env.recorded.event_id,
        "incident_id": env.incident_id,
        "position": env.recorded.position,
        "kind": kind,
        "text": text,
        "actor": env.actor,
        "details": details,
        "occurred_at": env.recorded.occurred_at,
        "recorded_at": env.recorded.recorded_at,
        "amended_at": None,
    }


def _derived_id(env: Envelope, moment: str) -> UUID:
    """A stable id for an entry that is not an event of its own: rebuilds give it again."""
    return uuid5(env.recorded.event_id, moment)


def _declared(rows: dict[UUID, Row | None], env: Envelope, ev: e.IncidentDeclared) -> None:
    text = f"Incident declared: {ev.title} ({ev.severity.value})"
    row = _entry(env, "declared", text, severity=ev.severity.value, services=list(ev.services))
    rows[row["entry_id"]] = row
    # The timeline starts where the incident started, not where it was declared. Moments
    # at the same instant share one entry: entries of one event must differ in time, as
    # the timeline's keyset cursor is (occurred_at, position).
    declared_at = env.recorded.occurred_at
    if ev.started_at != declared_at:
        detected_too = ev.detected_at == ev.started_at
        started = _entry(
            env,
            "started",
            "Incident started and was detected" if detected_too else "Incident started",
        )
        started.update(entry_id=_derived_id(env, "started"), occurred_at=ev.started_at)
        rows[started["entry_id"]] = started
    if ev.detected_at not in (ev.started_at, declared_at):
        detected = _entry(env, "detected", "Incident detected")
        detected.update(entry_id=_derived_id(env, "detected"), occurred_at=ev.detected_at)
        rows[detected["entry_id"]] = detected


def _note(rows: dict[UUID, Row | None], env: Envelope, ev: e.NoteAdded) -> None:
    if isinstance(ev.text, RedactedText):
        # Read after its redaction erased the text (a rebuild, a past view): a note still,
        # until the redaction's own event comes, but saying who erased it, when and why.
        erased = ev.text
        said_by = f" by {erased.redacted_by}" if erased.redacted_by else ""
        row = _entry(
            env,
            "note",
            f"Note redacted{said_by}: {erased.reason}",
            visibility=ev.visibility.value,
            redacted=erased.model_dump(mode="json"),
        )
    else:
        row = _entry(env, "note", ev.text, visibility=ev.visibility.value)
    row["entry_id"] = ev.note_id
    rows[ev.note_id] = row


def _amended(rows: dict[UUID, Row | None], env: Envelope, ev: e.NoteAmended) -> None:
    row = rows.get(ev.note_id)
    if row is None or row["kind"] != "note":  # redacted before: nothing left to amend
        return
    if isinstance(ev.text, str):
        row["text"] = ev.text
    if ev.note_occurred_at is not None:
        row["occurred_at"] = ev.note_occurred_at
    row["amended_at"] = env.recorded.recorded_at


def _redacted(rows: dict[UUID, Row | None], env: Envelope, ev: e.NoteRedacted) -> None:
    """The note's text goes; a placeholder keeps its place, saying who removed it and why."""
    note = rows.get(ev.note_id)
    if note is None or note["kind"] != "note":
        return
    by = f" by {env.actor}" if env.actor else ""
    rows[ev.note_id] = {
        **note,
        "kind": "note_redacted",
        "text": f"Note redacted{by}: {ev.reason}",
        "actor": env.actor,
        "details": {"visibility": note["details"].get("visibility"), "reason": ev.reason},
        "amended_at": env.recorded.recorded_at,
    }


def _alert_text_redacted(
    rows: dict[UUID, Row | None], env: Envelope, ev: e.AlertTextRedacted
) -> None:
    """Every firing of the alert so far loses its text (the apply loaded their entries); the
    redaction is an entry of its own."""
    erased = RedactedText(
        redacted_at=env.recorded.recorded_at, redacted_by=env.actor, reason=ev.reason
    )
    for entry_id, row in rows.items():
        if row is None or not _fired_of(row, env.incident_id, ev.alert_key):
            continue
        kind, text, details = erased_alert(row["details"]["name"], row["details"], erased)
        rows[entry_id] = {**row, "kind": kind, "text": text, "details": details}
    _described(rows, env, ev)


def _fired_of(row: Row, incident_id: UUID, alert_key: str) -> bool:
    details: dict[str, Any] = row["details"]
    return (
        row["kind"] == "alert_fired"
        and row["incident_id"] == incident_id
        and details.get("alert_key") == alert_key
    )


def _described(rows: dict[UUID, Row | None], env: Envelope, ev: e.DomainEvent) -> None:
    kind, text, details = DESCRIBERS[type(ev)](ev)
    row = _entry(env, kind, text)
    row["details"] = details
    rows[row["entry_id"]] = row


def _relation(
    rows: dict[UUID, Row | None], env: Envelope, ev: e.IncidentRelated | e.IncidentUnrelated
) -> None:
    """An entry on each incident's timeline: the relation is recorded once, shown on both."""
    _described(rows, env, ev)
    kind, text, details = other_side(ev, str(env.incident_id))
    row = _entry(env, kind, text)
    row.update(
        entry_id=_derived_id(env, "other"), incident_id=ev.other_incident_id, details=details
    )
    rows[row["entry_id"]] = row


APPLIERS: dict[type[e.DomainEvent], Callable[[dict[UUID, Row | None], Envelope, Any], None]] = {
    **dict.fromkeys(DESCRIBERS, _described),
    e.IncidentRelated: _relation,
    e.IncidentUnrelated: _relation,
    e.IncidentDeclared: _declared,
    e.NoteAdded: _note,
    e.NoteAmended: _amended,
    e.NoteRedacted: _redacted,
    e.AlertTextRedacted: _alert_text_redacted,
}

CHANGES_EARLIER_ENTRY = (e.NoteAmended, e.NoteRedacted)


def apply_to_rows(rows: dict[UUID, Row | None], env: Envelope) -> None:
    """Fold one event into in-memory entries; a ``None`` value marks an entry removed."""
    APPLIERS[type(env.event)](rows, env, env.event)


class TimelineProjection:
    name = "timeline"
    version = 5

    def __init__(self, table: Table = timeline_entries, *, rebuilding: bool = False) -> None:
        self.table = table
        self.rebuilding = rebuilding
        """Writing a rebuild's shadow table: entries not read back are new to it."""

    @property
    def tables(self) -> tuple[Table, ...]:
        return (self.table,)

    def using(self, tables: Mapping[str, Table]) -> TimelineProjection:
        return TimelineProjection(tables[timeline_entries.name], rebuilding=True)

    def apply(self, conn: Connection, batch: Sequence[Envelope]) -> None:
        table = self.table
        earlier = {
            env.event.note_id for env in batch if isinstance(env.event, CHANGES_EARLIER_ENTRY)
        }
        rows: dict[UUID, Row | None] = {}
        if earlier:
            query = select(table).where(table.c.entry_id.in_(earlier))
            rows.update({row.entry_id: dict(row._mapping) for row in conn.execute(query)})
        erasing = {env.incident_id for env in batch if isinstance(env.event, e.AlertTextRedacted)}
        if erasing:
            # The firings whose text goes: few per incident, told apart by their details.
            query = select(table).where(
                table.c.incident_id.in_(erasing), table.c.kind == "alert_fired"
            )
            rows.update({row.entry_id: dict(row._mapping) for row in conn.execute(query)})
        stored = set(rows)
        for env in batch:
            apply_to_rows(rows, env)
        removed = [entry_id for entry_id, row in rows.items() if row is None]
        if removed:
            conn.execute(delete(table).where(table.c.entry_id.in_(removed)))
        if not self.rebuilding:
            upsert(conn, table, [row for row in rows.values() if row is not None])
            return
        # Each event is applied once, so an entry not read back above is not stored yet.
        kept = [(entry_id, row) for entry_id, row in rows.items() if row is not None]
        upsert(conn, table, [row for entry_id, row in kept if entry_id in stored])
        insert_new(conn, table, [row for entry_id, row in kept if entry_id not in stored])


def get_timeline(
    conn: Connection,
    incident_id: UUID,
    *,
    limit: int | None = None,
    after: tuple[datetime, int] | None = None,
) -> list[Row]:
    """An incident's visible entries in timeline order; ``after`` is a keyset cursor."""
    t = timeline_entries
    query = select(t).where(t.c.incident_id == incident_id)
    if after is not None:
        at, position = after
        query = query.where(
            (t.c.occurred_at > at) | ((t.c.occurred_at == at) & (t.c.position > position))
        )
    query = query.order_by(t.c.occurred_at, t.c.position)
    if limit is not None:
        query = query.limit(limit)
    return [dict(row._mapping) for row in conn.execute(query)]
