"""The Incident aggregate: ``decide`` enforces the rules, ``evolve`` folds events into state."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any
from uuid import UUID

from domain import action_items, alerts, classification, facts, postmortem
from domain import commands as c
from domain import events as e
from domain.errors import (
    EntryNotFound,
    IncidentAlreadyExists,
    InvalidTransition,
    RuleViolation,
)
from domain.state import (
    CLOCK_SKEW,
    Incident,
    Note,
    declaration,
    not_in_future,
    occurred,
    require_incident,
)
from domain.values import Status

__all__ = ["CLOCK_SKEW", "NEXT_STATUSES", "Incident", "decide", "evolve", "fold"]

NEXT_STATUSES: dict[Status, frozenset[Status]] = {
    # Forward along the lifecycle, skipping allowed (a false alarm is resolved at once).
    Status.INVESTIGATING: frozenset({Status.IDENTIFIED, Status.MONITORING, Status.RESOLVED}),
    Status.IDENTIFIED: frozenset({Status.MONITORING, Status.RESOLVED}),
    Status.MONITORING: frozenset({Status.RESOLVED}),
    # Reopening goes back to investigating; closing is only possible once resolved.
    Status.RESOLVED: frozenset({Status.INVESTIGATING, Status.CLOSED}),
    Status.CLOSED: frozenset(),
}


def fold(events: Iterable[e.DomainEvent], state: Incident | None = None) -> Incident:
    """Replay events over a state (a fresh one by default)."""
    current = state or Incident()
    for event in events:
        current = evolve(current, event)
    return current


# --- decide -------------------------------------------------------------------------------


def _declare(state: Incident, cmd: c.DeclareIncident) -> list[e.DomainEvent]:
    if state.exists:
        raise IncidentAlreadyExists(f"incident {cmd.incident_id} already exists")
    started = cmd.started_at or cmd.detected_at or cmd.at
    detected = cmd.detected_at if cmd.detected_at is not None else max(started, cmd.at)
    not_in_future("started_at", started, cmd.at)
    not_in_future("detected_at", detected, cmd.at)
    if detected < started:
        raise RuleViolation(
            f"detected_at {detected.isoformat()} is before started_at {started.isoformat()}"
        )
    events: list[e.DomainEvent] = [declaration(cmd, cmd.title, cmd.severity, started, detected)]
    events += classification.labels_from_alerts(state, cmd)
    if cmd.kind is not state.kind:
        events.append(
            e.IncidentKindChanged(occurred_at=cmd.at, from_kind=state.kind, to_kind=cmd.kind)
        )
    return events


def _acknowledge(state: Incident, cmd: c.AcknowledgeIncident) -> list[e.DomainEvent]:
    require_incident(state, cmd)
    if state.status is Status.CLOSED:
        raise InvalidTransition("a closed incident cannot be acknowledged")
    if state.acknowledged_at is not None:
        raise RuleViolation(
            f"incident was already acknowledged at {state.acknowledged_at.isoformat()}"
        )
    when = occurred(cmd)
    assert state.detected_at is not None
    if when < state.detected_at:
        raise RuleViolation(
            f"acknowledged at {when.isoformat()} is before detection at {state.detected_at.isoformat()}"
        )
    return [e.IncidentAcknowledged(occurred_at=when)]


def _change_status(state: Incident, cmd: c.ChangeStatus) -> list[e.DomainEvent]:
    started = require_incident(state, cmd)
    if cmd.status is state.status:
        raise InvalidTransition(f"incident is already {state.status.value}")
    if cmd.status not in NEXT_STATUSES[state.status]:
        allowed = ", ".join(sorted(s.value for s in NEXT_STATUSES[state.status])) or "none"
        raise InvalidTransition(
            f"cannot change status from {state.status.value} to {cmd.status.value}"
            f" (allowed: {allowed})"
        )
    when = occurred(cmd)
    if when < started:
        moment = (
            "resolved" if cmd.status is Status.RESOLVED else f"status change to {cmd.status.value}"
        )
        raise RuleViolation(
            f"{moment} at {when.isoformat()} is before started_at {started.isoformat()}"
        )
    mitigated = state.mitigated_at
    # Time to mitigate can never exceed time to resolve.
    if cmd.status is Status.RESOLVED and mitigated is not None and when < mitigated:
        raise RuleViolation(
            f"resolved at {when.isoformat()} is before mitigated_at {mitigated.isoformat()}"
        )
    return [
        e.IncidentStatusChanged(occurred_at=when, from_status=state.status, to_status=cmd.status)
    ]


def _change_severity(state: Incident, cmd: c.ChangeSeverity) -> list[e.DomainEvent]:
    require_incident(state, cmd)
    if state.status is Status.CLOSED:
        raise InvalidTransition("a closed incident cannot change severity")
    if cmd.severity is state.severity:
        raise RuleViolation(f"severity is already {state.severity.value}")
    return [
        e.IncidentSeverityChanged(
            occurred_at=cmd.at,
            from_severity=state.severity,
            to_severity=cmd.severity,
            reason=cmd.reason,
        )
    ]


def _add_note(state: Incident, cmd: c.AddNote) -> list[e.DomainEvent]:
    require_incident(state, cmd)
    if cmd.note_id in state.notes:
        raise RuleViolation(f"timeline entry {cmd.note_id} already exists")
    when = occurred(cmd)
    return [
        e.NoteAdded(occurred_at=when, note_id=cmd.note_id, text=cmd.text, visibility=cmd.visibility)
    ]


def _live_note(state: Incident, note_id: UUID) -> None:
    if note_id not in state.notes:
        raise EntryNotFound(f"incident {state.id} has no note {note_id}")
    if note_id in state.redacted_notes:
        raise RuleViolation(f"note {note_id} was redacted and cannot change")


def _amend_note(state: Incident, cmd: c.AmendNote) -> list[e.DomainEvent]:
    require_incident(state, cmd)
    _live_note(state, cmd.note_id)
    if cmd.text is None and cmd.occurred_at is None:
        raise RuleViolation("an amendment needs a new text, a new occurred_at, or both")
    if cmd.occurred_at is not None:
        not_in_future("occurred_at", cmd.occurred_at, cmd.at)
    note = state.note_contents[cmd.note_id]
    same_text = cmd.text is None or cmd.text == note.text
    same_time = cmd.occurred_at is None or cmd.occurred_at == note.occurred_at
    if same_text and same_time:
        raise RuleViolation(
            f"the amendment changes nothing: note {cmd.note_id} already has this"
            + (" text" if cmd.text is not None else "")
            + (" and" if cmd.text is not None and cmd.occurred_at is not None else "")
            + (" occurred_at" if cmd.occurred_at is not None else "")
        )
    return [
        e.NoteAmended(
            occurred_at=cmd.at,
            note_id=cmd.note_id,
            text=cmd.text,
            note_occurred_at=cmd.occurred_at,
        )
    ]


def _redact_note(state: Incident, cmd: c.RedactNote) -> list[e.DomainEvent]:
    require_incident(state, cmd)
    _live_note(state, cmd.note_id)
    return [e.NoteRedacted(occurred_at=cmd.at, note_id=cmd.note_id, reason=cmd.reason)]


DECIDERS: dict[type[c.Command], Callable[[Incident, Any], list[e.DomainEvent]]] = {
    **facts.DECIDERS,
    **postmortem.DECIDERS,
    **action_items.DECIDERS,
    **alerts.DECIDERS,
    **classification.DECIDERS,
    c.DeclareIncident: _declare,
    c.AcknowledgeIncident: _acknowledge,
    c.ChangeStatus: _change_status,
    c.ChangeSeverity: _change_severity,
    c.AddNote: _add_note,
    c.AmendNote: _amend_note,
    c.RedactNote: _redact_note,
}


def decide(state: Incident, command: c.Command) -> list[e.DomainEvent]:
    """The events a command produces on this state, or a DomainError saying why not."""
    return DECIDERS[type(command)](state, command)


# --- evolve -------------------------------------------------------------------------------


def _evolve_declared(state: Incident, ev: e.IncidentDeclared) -> Incident:
    return replace(
        state,
        id=ev.incident_id,
        title=ev.title,
        severity=ev.severity,
        status=Status.INVESTIGATING,
        started_at=ev.started_at,
        detected_at=ev.detected_at,
        services=ev.services,
    )


def _evolve_status(state: Incident, ev: e.IncidentStatusChanged) -> Incident:
    resolved_at = state.resolved_at
    if ev.to_status is Status.RESOLVED:
        resolved_at = ev.occurred_at
    elif ev.to_status is Status.INVESTIGATING:
        resolved_at = None
    return replace(state, status=ev.to_status, resolved_at=resolved_at)


def _evolve_note_added(state: Incident, ev: e.NoteAdded) -> Incident:
    contents = state.note_contents.set(ev.note_id, Note(ev.text, ev.occurred_at))
    return replace(state, notes=state.notes.add(ev.note_id), note_contents=contents)


def _evolve_note_amended(state: Incident, ev: e.NoteAmended) -> Incident:
    note = state.note_contents.get(ev.note_id)
    if note is None:  # amended after its redaction in an old log: nothing left to change
        return state
    amended = Note(
        ev.text if ev.text is not None else note.text,
        ev.note_occurred_at if ev.note_occurred_at is not None else note.occurred_at,
    )
    return replace(state, note_contents=state.note_contents.set(ev.note_id, amended))


def _evolve_note_redacted(state: Incident, ev: e.NoteRedacted) -> Incident:
    return replace(
        state,
        redacted_notes=state.redacted_notes.add(ev.note_id),
        note_contents=state.note_contents.delete(ev.note_id),
    )


EVOLVERS: dict[type[e.DomainEvent], Callable[[Incident, Any], Incident]] = {
    **facts.EVOLVERS,
    **postmortem.EVOLVERS,
    **action_items.EVOLVERS,
    **alerts.EVOLVERS,
    **classification.EVOLVERS,
    e.IncidentDeclared: _evolve_declared,
    e.IncidentAcknowledged: lambda s, ev: replace(s, acknowledged_at=ev.occurred_at),
    e.IncidentStatusChanged: _evolve_status,
    e.IncidentSeverityChanged: lambda s, ev: replace(s, severity=ev.to_severity),
    e.NoteAdded: _evolve_note_added,
    e.NoteAmended: _evolve_note_amended,
    e.NoteRedacted: _evolve_note_redacted,
}


def evolve(state: Incident, event: e.DomainEvent) -> Incident:
    """The state after one more event; the version counts every event applied."""
    evolved = EVOLVERS[type(event)](state, event)
    return replace(evolved, version=state.version + 1)
