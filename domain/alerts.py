"""Alerts from monitoring: recorded once however often they are delivered; incidents linked.

An alert is known by its key within the incident. A firing report whose key is open is
a duplicate; whose key resolved, a new firing only with another ``starts_at`` (the same
one is a late redelivery). So the same notification, delivered any number of times,
records its alerts once: duplicates decide no events at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from domain import commands as c
from domain import events as e
from domain.classification import labels_from_alerts
from domain.errors import EntryNotFound, IncidentEnded, RuleViolation
from domain.state import (
    Alert,
    Incident,
    declaration,
    not_in_future,
    occurred,
    require_incident,
)
from domain.values import AlertStatus, Status

FOLLOWS_REASON = "the alert group fired again after the previous incident ended"


def is_new(state: Incident, report: c.AlertReport, at: datetime) -> bool:
    """Whether a firing report is an alert, or a firing of one, the incident has not seen."""
    known = state.alerts.get(report.key)
    if known is None:
        return True
    if known.open:
        return False
    return (report.starts_at or at) != known.starts_at


def fresh_alerts(state: Incident, cmd: c.RecordAlerts) -> list[c.AlertReport]:
    """The firing reports of the command that the incident has not recorded (first of a key)."""
    seen: set[str] = set()
    fresh = []
    for report in cmd.alerts:
        if report.status is not AlertStatus.FIRING or report.key in seen:
            continue
        seen.add(report.key)
        if is_new(state, report, cmd.at):
            fresh.append(report)
    return fresh


def needs_new_incident(state: Incident, cmd: c.RecordAlerts) -> bool:
    """The incident is over and the notification brings alerts it has not seen."""
    return state.exists and state.ended and bool(fresh_alerts(state, cmd))


def _declaration(cmd: c.RecordAlerts, fresh: list[c.AlertReport]) -> list[e.DomainEvent]:
    if cmd.title is None or cmd.severity is None:
        raise RuleViolation("declaring an incident from alerts needs a title and a severity")
    started = min(report.starts_at or cmd.at for report in fresh)
    not_in_future("startsAt", started, cmd.at)
    declared: list[e.DomainEvent] = [
        declaration(cmd, cmd.title, cmd.severity, started_at=started, detected_at=started)
    ]
    if cmd.previous_incident_id is not None:
        if cmd.previous_incident_id == cmd.incident_id:
            raise RuleViolation("an incident cannot follow itself")
        declared.append(
            e.IncidentLinked(
                occurred_at=cmd.at,
                previous_incident_id=cmd.previous_incident_id,
                reason=FOLLOWS_REASON,
            )
        )
    return declared


def _fired(cmd: c.RecordAlerts, report: c.AlertReport, start: datetime) -> e.AlertFired:
    return e.AlertFired(
        occurred_at=start,
        source=cmd.source,
        alert_key=report.key,
        fingerprint=report.fingerprint,
        name=report.name,
        summary=report.summary,
        severity=report.severity,
        labels=report.labels,
        annotations=report.annotations,
        generator_url=report.generator_url,
        dashboard_url=report.dashboard_url,
        panel_url=report.panel_url,
        silence_url=report.silence_url,
        details=report.details,
    )


def _record(state: Incident, cmd: c.RecordAlerts) -> list[e.DomainEvent]:
    fresh = fresh_alerts(state, cmd)
    events: list[e.DomainEvent] = []
    if not state.exists:
        if not fresh:
            return []  # only resolutions, of alerts no incident knows
        events += _declaration(cmd, fresh)
    elif state.ended and fresh:
        raise IncidentEnded(
            f"incident {cmd.incident_id} is {state.status.value}: new alerts of its group"
            " belong to a new incident"
        )
    alerts = state.alerts
    for report in fresh:
        start = report.starts_at or cmd.at
        not_in_future("startsAt", start, cmd.at)
        events.append(_fired(cmd, report, start))
        alerts = alerts.set(report.key, Alert(report.name, start))
    ends: list[datetime] = []
    for report in cmd.alerts:
        known = alerts.get(report.key)
        if report.status is not AlertStatus.RESOLVED or known is None or not known.open:
            continue
        if report.starts_at is not None and report.starts_at != known.starts_at:
            continue  # the end of another firing of this key
        end = max(report.ends_at or cmd.at, known.starts_at)
        not_in_future("endsAt", end, cmd.at)
        events.append(e.AlertResolved(occurred_at=end, alert_key=report.key, name=known.name))
        alerts = alerts.set(report.key, replace(known, resolved_at=end))
        ends.append(end)
    if fresh:
        events += labels_from_alerts(state, cmd)
    if ends and not any(alert.open for alert in alerts.values()):
        events += _cleared(state, cmd, max(ends), state.alerts_resolved + len(ends))
    return events


def _cleared(
    state: Incident, cmd: c.RecordAlerts, last: datetime, resolved: int
) -> list[e.DomainEvent]:
    cleared: list[e.DomainEvent] = [e.AlertsCleared(occurred_at=last, resolved=resolved)]
    if cmd.auto_resolve and state.exists and not state.ended:
        assert state.started_at is not None
        cleared.append(
            e.IncidentStatusChanged(
                # Never before the start, nor before a recorded mitigation.
                occurred_at=max(last, state.started_at, state.mitigated_at or state.started_at),
                from_status=state.status,
                to_status=Status.RESOLVED,
            )
        )
    return cleared


def _acknowledge(state: Incident, cmd: c.AcknowledgeAlert) -> list[e.DomainEvent]:
    require_incident(state, cmd)
    known = state.alerts.get(cmd.alert_key)
    if known is None or not known.open or known.acknowledged_at is not None:
        return []  # PagerDuty: acknowledging applies only to an open alert, and once
    when = occurred(cmd)
    when = max(when, known.starts_at)
    events: list[e.DomainEvent] = [
        e.AlertAcknowledged(occurred_at=when, alert_key=cmd.alert_key, name=known.name)
    ]
    assert state.detected_at is not None
    if (
        state.acknowledged_at is None
        and state.status is not Status.CLOSED
        and when >= state.detected_at
    ):
        events.append(e.IncidentAcknowledged(occurred_at=when))
    return events


def _redact_text(state: Incident, cmd: c.RedactAlertText) -> list[e.DomainEvent]:
    require_incident(state, cmd)
    known = state.alerts.get(cmd.alert_key)
    if known is None:
        raise EntryNotFound(f"incident {state.id} has no alert {cmd.alert_key!r}")
    # Allowed again after a later firing: it erases that firing's text too.
    return [
        e.AlertTextRedacted(
            occurred_at=cmd.at, alert_key=cmd.alert_key, name=known.name, reason=cmd.reason
        )
    ]


def _link(state: Incident, cmd: c.LinkIncident) -> list[e.DomainEvent]:
    require_incident(state, cmd)
    if cmd.previous_incident_id == cmd.incident_id:
        raise RuleViolation("an incident cannot follow itself")
    if state.previous_incident_id == cmd.previous_incident_id:
        raise RuleViolation(f"incident already follows {cmd.previous_incident_id}")
    return [
        e.IncidentLinked(
            occurred_at=cmd.at, previous_incident_id=cmd.previous_incident_id, reason=cmd.reason
        )
    ]


DECIDERS: dict[type[c.Command], Callable[[Incident, Any], list[e.DomainEvent]]] = {
    c.RecordAlerts: _record,
    c.AcknowledgeAlert: _acknowledge,
    c.LinkIncident: _link,
    c.RedactAlertText: _redact_text,
}


def _evolve_fired(state: Incident, ev: e.AlertFired) -> Incident:
    alert = Alert(ev.name, ev.occurred_at)
    return replace(state, alerts=state.alerts.set(ev.alert_key, alert))


def _evolve_resolved(state: Incident, ev: e.AlertResolved) -> Incident:
    known = state.alerts.get(ev.alert_key) or Alert(ev.name, ev.occurred_at)
    alerts = state.alerts.set(ev.alert_key, replace(known, resolved_at=ev.occurred_at))
    return replace(state, alerts=alerts, alerts_resolved=state.alerts_resolved + 1)


def _evolve_acknowledged(state: Incident, ev: e.AlertAcknowledged) -> Incident:
    known = state.alerts.get(ev.alert_key)
    if known is None:
        return state
    alerts = state.alerts.set(ev.alert_key, replace(known, acknowledged_at=ev.occurred_at))
    return replace(state, alerts=alerts)


EVOLVERS: dict[type[e.DomainEvent], Callable[[Incident, Any], Incident]] = {
    e.AlertFired: _evolve_fired,
    e.AlertResolved: _evolve_resolved,
    e.AlertAcknowledged: _evolve_acknowledged,
    e.AlertsCleared: lambda s, ev: s,
    e.AlertTextRedacted: lambda s, ev: s,
    e.IncidentLinked: lambda s, ev: replace(s, previous_incident_id=ev.previous_incident_id),
}
