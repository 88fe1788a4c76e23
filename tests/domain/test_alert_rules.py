"""Alerts in the domain: recorded once however often delivered, resolved, cleared, linked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from domain import commands as c
from domain import events as e
from domain.alerts import needs_new_incident
from domain.errors import EntryNotFound, IncidentEnded, IncidentNotFound, RuleViolation
from domain.incident import Incident, decide, fold
from domain.values import AlertSource, AlertStatus, Severity, Status

INCIDENT = UUID("00000000-0000-4000-8000-000000000001")
EARLIER = UUID("00000000-0000-4000-8000-000000000002")
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
T0 = NOW - timedelta(minutes=30)


def firing(key: str = "fp-1", starts_at: datetime = T0, **fields: Any) -> c.AlertReport:
    return c.AlertReport(
        key=key, status=AlertStatus.FIRING, name=f"Alert {key}", starts_at=starts_at, **fields
    )


def resolved(
    key: str = "fp-1", starts_at: datetime | None = T0, ends_at: datetime | None = None
) -> c.AlertReport:
    return c.AlertReport(
        key=key,
        status=AlertStatus.RESOLVED,
        name=f"Alert {key}",
        starts_at=starts_at,
        ends_at=ends_at or T0 + timedelta(minutes=10),
    )


def record(*alerts: c.AlertReport, at: datetime = NOW, **fields: Any) -> c.RecordAlerts:
    defaults: dict[str, Any] = {
        "source": AlertSource.ALERTMANAGER,
        "title": "Error rate above 5%",
        "severity": Severity.SEV1,
        "services": ("payments-api",),
    }
    return c.RecordAlerts(incident_id=INCIDENT, at=at, alerts=alerts, **{**defaults, **fields})


def run(state: Incident, command: c.Command) -> tuple[Incident, list[e.DomainEvent]]:
    events = decide(state, command)
    return fold(events, state), events


def types(events: list[e.DomainEvent]) -> list[str]:
    return [event.type for event in events]  # type: ignore[attr-defined]


@pytest.fixture
def open_incident() -> Incident:
    state, _ = run(Incident(), record(firing("fp-1"), firing("fp-2", T0 + timedelta(minutes=1))))
    return state


# --- the first notification declares -----------------------------------------------------------


def test_the_first_firing_notification_declares_and_records_every_alert() -> None:
    state, events = run(
        Incident(), record(firing("fp-2", T0 + timedelta(minutes=2)), firing("fp-1", T0))
    )

    assert types(events) == ["incident.declared", "alert.fired", "alert.fired"]
    declared = events[0]
    assert isinstance(declared, e.IncidentDeclared)
    assert (declared.started_at, declared.detected_at) == (T0, T0)  # the first alert's startsAt
    assert declared.occurred_at == NOW
    assert (declared.title, declared.severity, declared.services) == (
        "Error rate above 5%",
        Severity.SEV1,
        ("payments-api",),
    )
    assert [ev.occurred_at for ev in events[1:]] == [T0 + timedelta(minutes=2), T0]
    assert set(state.alerts) == {"fp-1", "fp-2"}
    assert all(alert.open for alert in state.alerts.values())


def test_a_fired_event_carries_everything_the_source_said() -> None:
    report = firing(
        "fp-1",
        fingerprint="fp-1",
        summary="Error rate above 5%",
        severity="critical",
        labels={"alertname": "HighErrorRate"},
        annotations={"runbook_url": "https://runbooks/x"},
        generator_url="http://prometheus/graph",
        dashboard_url="http://grafana/d/1",
        panel_url="http://grafana/d/1?viewPanel=2",
        silence_url="http://grafana/silence",
        details={"values": {"A": 1.5}},
    )
    _, events = run(Incident(), record(report, source=AlertSource.GRAFANA))

    fired = events[1]
    assert isinstance(fired, e.AlertFired)
    assert fired.source is AlertSource.GRAFANA
    assert fired.model_dump(exclude={"type", "schema_version", "occurred_at", "source"}) == {
        "alert_key": "fp-1",
        **report.model_dump(exclude={"key", "status", "starts_at", "ends_at"}),
    }


def test_resolutions_alone_declare_nothing() -> None:
    assert decide(Incident(), record(resolved("fp-1"))) == []


def test_declaring_needs_a_title_and_a_severity() -> None:
    with pytest.raises(RuleViolation, match="needs a title and a severity"):
        decide(Incident(), record(firing(), title=None))


def test_an_alert_starting_in_the_future_is_refused() -> None:
    with pytest.raises(RuleViolation, match=r"startsAt .* lies in the future"):
        decide(Incident(), record(firing(starts_at=NOW + timedelta(hours=1))))


def test_a_declaration_may_follow_an_earlier_incident() -> None:
    _, events = run(Incident(), record(firing(), previous_incident_id=EARLIER))

    assert types(events) == ["incident.declared", "incident.linked", "alert.fired"]
    linked = events[1]
    assert isinstance(linked, e.IncidentLinked)
    assert linked.previous_incident_id == EARLIER
    with pytest.raises(RuleViolation, match="cannot follow itself"):
        decide(Incident(), record(firing(), previous_incident_id=INCIDENT))


# --- idempotence ------------------------------------------------------------------------------


def test_a_redelivered_notification_decides_no_events(open_incident: Incident) -> None:
    again = record(firing("fp-1"), firing("fp-2", T0 + timedelta(minutes=1)))

    assert decide(open_incident, again) == []


def test_a_key_listed_twice_in_one_notification_fires_once() -> None:
    _, events = run(Incident(), record(firing("fp-1"), firing("fp-1")))

    assert types(events) == ["incident.declared", "alert.fired"]


def test_a_resolved_alert_redelivered_as_firing_is_not_recorded_again(
    open_incident: Incident,
) -> None:
    state, _ = run(open_incident, record(resolved("fp-1")))

    assert decide(state, record(firing("fp-1", T0))) == []
    assert decide(state, record(resolved("fp-1"))) == []


def test_the_same_alert_firing_again_later_is_a_new_firing(open_incident: Incident) -> None:
    state, _ = run(open_incident, record(resolved("fp-1")))
    later = T0 + timedelta(minutes=20)

    state, events = run(state, record(firing("fp-1", later)))

    assert types(events) == ["alert.fired"]
    assert events[0].occurred_at == later
    assert state.alerts["fp-1"].open


# --- resolution ---------------------------------------------------------------------------------


def test_a_resolution_is_recorded_at_the_alerts_own_end(open_incident: Incident) -> None:
    ended = T0 + timedelta(minutes=7)
    state, events = run(open_incident, record(resolved("fp-1", ends_at=ended)))

    assert types(events) == ["alert.resolved"]
    assert events[0].occurred_at == ended
    assert not state.alerts["fp-1"].open
    assert state.alerts["fp-2"].open


def test_the_last_resolution_clears_the_incident_but_leaves_it_open(
    open_incident: Incident,
) -> None:
    last = T0 + timedelta(minutes=12)
    state, events = run(
        open_incident,
        record(resolved("fp-1"), resolved("fp-2", T0 + timedelta(minutes=1), ends_at=last)),
    )

    assert types(events) == ["alert.resolved", "alert.resolved", "incident.alerts_cleared"]
    cleared = events[-1]
    assert isinstance(cleared, e.AlertsCleared)
    assert (cleared.occurred_at, cleared.resolved) == (last, 2)
    assert state.status is Status.INVESTIGATING


def test_auto_resolve_resolves_the_incident_when_its_alerts_clear(
    open_incident: Incident,
) -> None:
    last = T0 + timedelta(minutes=12)
    both = record(
        resolved("fp-1"),
        resolved("fp-2", T0 + timedelta(minutes=1), ends_at=last),
        auto_resolve=True,
    )
    state, events = run(open_incident, both)

    assert types(events)[-2:] == ["incident.alerts_cleared", "incident.status_changed"]
    assert state.status is Status.RESOLVED
    assert state.resolved_at == last


def test_auto_resolve_never_resolves_before_a_recorded_mitigation(
    open_incident: Incident,
) -> None:
    mitigated = T0 + timedelta(minutes=20)
    state, _ = run(
        open_incident, c.MarkMitigated(incident_id=INCIDENT, at=NOW, occurred_at=mitigated)
    )
    both = record(
        resolved("fp-1"),
        resolved("fp-2", T0 + timedelta(minutes=1), ends_at=T0 + timedelta(minutes=12)),
        auto_resolve=True,
    )
    state, _ = run(state, both)

    assert state.resolved_at == mitigated


def test_a_resolution_of_another_firing_of_the_key_is_ignored(open_incident: Incident) -> None:
    assert decide(open_incident, record(resolved("fp-1", starts_at=T0 - timedelta(hours=1)))) == []


def test_a_resolution_without_a_start_ends_whichever_firing_is_open(
    open_incident: Incident,
) -> None:
    _, events = run(open_incident, record(resolved("fp-1", starts_at=None)))

    assert types(events) == ["alert.resolved"]


def test_a_resolution_cannot_end_before_its_alert_started(open_incident: Incident) -> None:
    _, events = run(open_incident, record(resolved("fp-1", ends_at=T0 - timedelta(minutes=5))))

    assert events[0].occurred_at == T0


# --- ended incidents ----------------------------------------------------------------------------


def ended(state: Incident, status: Status = Status.RESOLVED) -> Incident:
    closing = [c.ChangeStatus(incident_id=INCIDENT, at=NOW, status=Status.RESOLVED)]
    if status is Status.CLOSED:
        closing.append(c.ChangeStatus(incident_id=INCIDENT, at=NOW, status=Status.CLOSED))
    for command in closing:
        state, _ = run(state, command)
    return state


@pytest.mark.parametrize("status", [Status.RESOLVED, Status.CLOSED])
def test_new_alerts_for_an_ended_incident_belong_to_a_new_one(
    open_incident: Incident, status: Status
) -> None:
    state = ended(open_incident, status)
    fresh = record(firing("fp-3", NOW - timedelta(minutes=1)))

    assert needs_new_incident(state, fresh)
    with pytest.raises(IncidentEnded, match="belong to a new incident"):
        decide(state, fresh)


def test_an_ended_incident_still_learns_that_its_alerts_resolved(open_incident: Incident) -> None:
    state = ended(open_incident)
    duplicate = record(firing("fp-1"))

    assert not needs_new_incident(state, duplicate)
    assert decide(state, duplicate) == []
    _, events = run(state, record(resolved("fp-1"), resolved("fp-2", T0 + timedelta(minutes=1))))
    assert types(events) == ["alert.resolved", "alert.resolved", "incident.alerts_cleared"]


# --- acknowledgement and links ------------------------------------------------------------------


def test_acknowledging_an_open_alert_acknowledges_the_incident_once(
    open_incident: Incident,
) -> None:
    ack = c.AcknowledgeAlert(incident_id=INCIDENT, at=NOW, alert_key="fp-1")
    state, events = run(open_incident, ack)

    assert types(events) == ["alert.acknowledged", "incident.acknowledged"]
    assert state.acknowledged_at == NOW
    assert decide(state, ack) == []
    _, events = run(state, c.AcknowledgeAlert(incident_id=INCIDENT, at=NOW, alert_key="fp-2"))
    assert types(events) == ["alert.acknowledged"]


def test_acknowledging_applies_only_to_open_alerts(open_incident: Incident) -> None:
    state, _ = run(open_incident, record(resolved("fp-1")))

    assert decide(state, c.AcknowledgeAlert(incident_id=INCIDENT, at=NOW, alert_key="fp-1")) == []
    assert decide(state, c.AcknowledgeAlert(incident_id=INCIDENT, at=NOW, alert_key="nope")) == []
    with pytest.raises(IncidentNotFound):
        decide(Incident(), c.AcknowledgeAlert(incident_id=INCIDENT, at=NOW, alert_key="fp-1"))


def test_erasing_an_alerts_text_names_it_and_needs_an_alert_of_the_incident(
    open_incident: Incident,
) -> None:
    erase = c.RedactAlertText(incident_id=INCIDENT, at=NOW, alert_key="fp-1", reason="PII")
    state, events = run(open_incident, erase)

    (erased,) = events
    assert isinstance(erased, e.AlertTextRedacted)
    assert (erased.alert_key, erased.reason) == ("fp-1", "PII")
    assert erased.name == open_incident.alerts["fp-1"].name
    assert state.alerts == open_incident.alerts  # the alert itself goes on as it was
    # Again (a later firing of the key has text of its own to erase).
    assert types(decide(state, erase)) == ["alert.text_redacted"]
    unknown = c.RedactAlertText(incident_id=INCIDENT, at=NOW, alert_key="nope", reason="PII")
    with pytest.raises(EntryNotFound, match="nope"):
        decide(state, unknown)
    with pytest.raises(IncidentNotFound):
        decide(Incident(), erase)


def test_linking_an_incident_to_an_earlier_one(open_incident: Incident) -> None:
    link = c.LinkIncident(incident_id=INCIDENT, at=NOW, previous_incident_id=EARLIER)
    state, events = run(open_incident, link)

    assert types(events) == ["incident.linked"]
    assert state.previous_incident_id == EARLIER
    with pytest.raises(RuleViolation, match="already follows"):
        decide(state, link)
    with pytest.raises(RuleViolation, match="cannot follow itself"):
        decide(state, c.LinkIncident(incident_id=INCIDENT, at=NOW, previous_incident_id=INCIDENT))
    with pytest.raises(IncidentNotFound):
        decide(Incident(), link)
