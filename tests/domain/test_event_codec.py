"""Stored form of events: encode / decode round-trips and upcasting on read."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any, get_args
from uuid import UUID

import pytest
from pydantic import ValidationError

from domain.events import (
    UPCASTERS,
    ActionItemAdded,
    ActionItemReassigned,
    ActionItemReprioritized,
    ActionItemRescheduled,
    ActionItemRetitled,
    ActionItemStatusChanged,
    ActionItemTicketLinked,
    AlertAcknowledged,
    AlertFired,
    AlertResolved,
    AlertsCleared,
    AlertTextRedacted,
    DomainEvent,
    Event,
    ImpactUpdated,
    IncidentAcknowledged,
    IncidentDeclared,
    IncidentKindChanged,
    IncidentLabelsChanged,
    IncidentLinked,
    IncidentMitigated,
    IncidentRelated,
    IncidentSeverityChanged,
    IncidentStatusChanged,
    IncidentUnrelated,
    NoteAdded,
    NoteAmended,
    NoteRedacted,
    ParticipantAdded,
    PostmortemApproved,
    PostmortemChangesRequested,
    PostmortemDueDateSet,
    PostmortemPublished,
    PostmortemReviewRequested,
    PostmortemSectionEdited,
    ResolutionUpdated,
    RoleAssigned,
    RootCauseUpdated,
    ServicesChanged,
    decode,
    encode,
    event_type,
    schema_version,
)
from domain.values import (
    ActionKind,
    ActionStatus,
    AlertSource,
    IncidentKind,
    NoteVisibility,
    Priority,
    Relation,
    Role,
    Section,
    Severity,
    Status,
)

INCIDENT_ID = UUID("00000000-0000-4000-8000-000000000001")
NOTE_ID = UUID("00000000-0000-4000-8000-0000000000a1")
ITEM_ID = UUID("00000000-0000-4000-8000-0000000000b1")
AT = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
COLUMNS = {"type", "schema_version", "occurred_at"}

SAMPLES: list[DomainEvent] = [
    IncidentDeclared(
        occurred_at=AT,
        incident_id=INCIDENT_ID,
        title="Checkout is down",
        severity=Severity.SEV2,
        services=("checkout", "payments"),
        summary="5xx on /pay",
        started_at=AT - timedelta(hours=1),
        detected_at=AT - timedelta(minutes=30),
    ),
    IncidentDeclared(
        occurred_at=AT,
        incident_id=INCIDENT_ID,
        title="Minimal",
        severity=Severity.SEV5,
        started_at=AT,
        detected_at=AT,
    ),
    IncidentAcknowledged(occurred_at=AT),
    IncidentStatusChanged(occurred_at=AT, from_status=Status.RESOLVED, to_status=Status.CLOSED),
    IncidentSeverityChanged(
        occurred_at=AT, from_severity=Severity.SEV3, to_severity=Severity.SEV1, reason="all regions"
    ),
    IncidentSeverityChanged(occurred_at=AT, from_severity=Severity.SEV1, to_severity=Severity.SEV4),
    NoteAdded(
        occurred_at=AT,
        note_id=NOTE_ID,
        text="Rolled back deploy 42",
        visibility=NoteVisibility.PUBLIC,
    ),
    NoteAmended(occurred_at=AT, note_id=NOTE_ID, text="Rolled back deploy 41"),
    NoteAmended(occurred_at=AT, note_id=NOTE_ID, note_occurred_at=AT - timedelta(minutes=7)),
    NoteRedacted(occurred_at=AT, note_id=NOTE_ID, reason="contained a customer email"),
    ImpactUpdated(occurred_at=AT, impact="30% of checkouts failed with HTTP 502 for 42 minutes"),
    RootCauseUpdated(occurred_at=AT, root_cause="Deploy 42 halved the payments connection pool"),
    ResolutionUpdated(occurred_at=AT, resolution="Rolled back deploy 42 and restarted payments"),
    IncidentMitigated(occurred_at=AT - timedelta(minutes=10)),
    RoleAssigned(
        occurred_at=AT, role=Role.INCIDENT_COMMANDER, person="bob@example.com", previous="alice"
    ),
    ParticipantAdded(occurred_at=AT, person="carol@example.com"),
    ServicesChanged(occurred_at=AT, services=("checkout", "payments", "postgres-main")),
    PostmortemSectionEdited(
        occurred_at=AT,
        revision=2,
        section=Section.ROOT_CAUSE,
        text="A config change halved the connection pool of the payments service.",
    ),
    PostmortemReviewRequested(occurred_at=AT, revision=1),
    PostmortemPublished(occurred_at=AT, revision=1),
    ActionItemAdded(
        occurred_at=AT,
        item_id=ITEM_ID,
        title="Alert on payments connection pool saturation",
        kind=ActionKind.PREVENTATIVE,
        owner="alice@example.com",
        due_date=date(2026, 1, 15),
        priority=Priority.P2,
        ticket_url="https://tracker.example.com/browse/OPS-1234",
    ),
    ActionItemReassigned(
        occurred_at=AT, item_id=ITEM_ID, owner="bob@example.com", previous_owner="alice@example.com"
    ),
    ActionItemRescheduled(
        occurred_at=AT,
        item_id=ITEM_ID,
        due_date=date(2026, 2, 1),
        previous_due_date=date(2026, 1, 15),
    ),
    ActionItemStatusChanged(
        occurred_at=AT,
        item_id=ITEM_ID,
        from_status=ActionStatus.OPEN,
        to_status=ActionStatus.WONT_DO,
        reason="superseded by the pool autoscaler",
    ),
    ActionItemTicketLinked(
        occurred_at=AT, item_id=ITEM_ID, ticket_url="https://tracker.example.com/browse/OPS-1300"
    ),
    AlertFired(
        occurred_at=AT - timedelta(minutes=3),
        source=AlertSource.GRAFANA,
        alert_key="43e5a0e0ea2e10f5",
        fingerprint="43e5a0e0ea2e10f5",
        name="HighErrorRate",
        summary="Error rate above 5% on payments-api",
        severity="critical",
        labels={"alertname": "HighErrorRate", "service": "payments-api"},
        annotations={"summary": "Error rate above 5% on payments-api"},
        generator_url="http://prometheus:9090/graph",
        dashboard_url="http://grafana:3000/d/payments",
        panel_url="http://grafana:3000/d/payments?viewPanel=2",
        silence_url="http://grafana:3000/alerting/silence/new",
        details={"values": {"A": 0.07, "B": None}},
    ),
    AlertFired(
        occurred_at=AT, source=AlertSource.PAGERDUTY, alert_key="disk-db-01", name="Disk full"
    ),
    AlertResolved(occurred_at=AT, alert_key="disk-db-01", name="Disk full"),
    AlertAcknowledged(occurred_at=AT, alert_key="disk-db-01", name="Disk full"),
    AlertsCleared(occurred_at=AT, resolved=2),
    AlertTextRedacted(
        occurred_at=AT, alert_key="disk-db-01", name="Disk full", reason="held a password"
    ),
    IncidentLinked(
        occurred_at=AT, previous_incident_id=INCIDENT_ID, reason="the alert group fired again"
    ),
    ActionItemRetitled(
        occurred_at=AT,
        item_id=ITEM_ID,
        title="Page on payments connection pool saturation",
        previous="Alert on payments connection pool saturation",
    ),
    ActionItemReprioritized(
        occurred_at=AT, item_id=ITEM_ID, priority=Priority.P1, previous=Priority.P2
    ),
    IncidentLabelsChanged(occurred_at=AT, labels={"team": "payments"}, removed=("env",)),
    IncidentKindChanged(
        occurred_at=AT, from_kind=IncidentKind.INCIDENT, to_kind=IncidentKind.DRILL
    ),
    IncidentRelated(occurred_at=AT, other_incident_id=INCIDENT_ID, relation=Relation.CAUSED_BY),
    IncidentUnrelated(
        occurred_at=AT, other_incident_id=INCIDENT_ID, relation=Relation.DUPLICATE_OF
    ),
    PostmortemApproved(occurred_at=AT, revision=1, reviewer="bob", comment="Clear."),
    PostmortemChangesRequested(
        occurred_at=AT, revision=1, reviewer="bob", comment="Say why the alert was late."
    ),
    PostmortemDueDateSet(occurred_at=AT, due_date=date(2026, 1, 9)),
]


def sample_id(event: DomainEvent) -> str:
    return type(event).__name__


def test_samples_cover_every_event_type() -> None:
    union, _discriminator = get_args(Event)

    assert {type(ev) for ev in SAMPLES} == set(get_args(union))


@pytest.mark.parametrize(
    ("event", "expected_type", "expected_version"),
    [
        (SAMPLES[0], "incident.declared", 1),
        (SAMPLES[2], "incident.acknowledged", 1),
        (SAMPLES[3], "incident.status_changed", 1),
        (SAMPLES[4], "incident.severity_changed", 1),
        (SAMPLES[6], "timeline.note_added", 2),
        (SAMPLES[7], "timeline.note_amended", 1),
        (SAMPLES[9], "timeline.note_redacted", 1),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_event_type_and_schema_version_are_stable(
    event: DomainEvent, expected_type: str, expected_version: int
) -> None:
    assert event_type(event) == expected_type
    assert schema_version(event) == expected_version


@pytest.mark.parametrize("event", SAMPLES, ids=sample_id)
def test_decode_of_encode_is_the_same_event(event: DomainEvent) -> None:
    decoded = decode(event_type(event), schema_version(event), encode(event), event.occurred_at)

    assert type(decoded) is type(event)
    assert decoded == event


@pytest.mark.parametrize("event", SAMPLES, ids=sample_id)
def test_encode_survives_json_round_trip(event: DomainEvent) -> None:
    data = json.loads(json.dumps(encode(event)))

    assert decode(event_type(event), schema_version(event), data, event.occurred_at) == event


@pytest.mark.parametrize("event", SAMPLES, ids=sample_id)
def test_encode_omits_only_the_column_fields(event: DomainEvent) -> None:
    data = encode(event)

    assert COLUMNS.isdisjoint(data)
    assert set(data) == set(type(event).model_fields) - COLUMNS


def test_encode_is_json_ready() -> None:
    assert encode(SAMPLES[0]) == {
        "incident_id": str(INCIDENT_ID),
        "title": "Checkout is down",
        "severity": "SEV2",
        "services": ["checkout", "payments"],
        "summary": "5xx on /pay",
        "started_at": "2026-01-01T11:00:00Z",
        "detected_at": "2026-01-01T11:30:00Z",
    }


def test_decode_does_not_change_the_given_data() -> None:
    data = {"note_id": str(NOTE_ID), "text": "stored as version 1, upcast on read"}
    copy = dict(data)

    decode("timeline.note_added", 1, data, AT)

    assert data == copy


def test_decode_of_unknown_type_is_refused() -> None:
    with pytest.raises(ValidationError, match="union_tag_invalid"):
        decode("timeline.note_exploded", 1, {"note_id": str(NOTE_ID)}, AT)


def test_decode_of_unknown_version_without_upcaster_is_refused() -> None:
    with pytest.raises(ValidationError, match="schema_version"):
        decode("timeline.note_added", 0, {"note_id": str(NOTE_ID), "text": "hi"}, AT)


def _body_to_text(data: dict[str, Any]) -> dict[str, Any]:
    upgraded = {key: value for key, value in data.items() if key != "body"}
    upgraded["text"] = data["body"]
    return upgraded


def test_old_version_without_upcaster_is_refused() -> None:
    with pytest.raises(ValidationError):
        decode("timeline.note_added", 0, {"note_id": str(NOTE_ID), "body": "hi"}, AT)


def test_registered_upcaster_is_applied_on_decode(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []

    def upcast(data: dict[str, Any]) -> dict[str, Any]:
        calls.append(data)
        return _body_to_text(data)

    monkeypatch.setitem(UPCASTERS, ("timeline.note_added", 0), upcast)

    decoded = decode("timeline.note_added", 0, {"note_id": str(NOTE_ID), "body": "hi"}, AT)

    assert decoded == NoteAdded(
        occurred_at=AT, note_id=NOTE_ID, text="hi", visibility=NoteVisibility.INTERNAL
    )
    assert calls == [{"note_id": str(NOTE_ID), "body": "hi"}]


def test_upcasters_chain_until_the_current_version(monkeypatch: pytest.MonkeyPatch) -> None:
    def content_to_body(data: dict[str, Any]) -> dict[str, Any]:
        return {"note_id": data["note_id"], "body": data["content"]}

    monkeypatch.setitem(UPCASTERS, ("timeline.note_added", -1), content_to_body)
    monkeypatch.setitem(UPCASTERS, ("timeline.note_added", 0), _body_to_text)

    decoded = decode("timeline.note_added", -1, {"note_id": str(NOTE_ID), "content": "hi"}, AT)

    assert decoded == NoteAdded(
        occurred_at=AT, note_id=NOTE_ID, text="hi", visibility=NoteVisibility.INTERNAL
    )


def test_upcaster_is_not_applied_to_current_version(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(data: dict[str, Any]) -> dict[str, Any]:
        raise AssertionError("upcaster for version 1 applied to version 2 data")

    monkeypatch.setitem(UPCASTERS, ("timeline.note_added", 1), refuse)
    data = {"note_id": str(NOTE_ID), "text": "hi", "visibility": "public"}

    decoded = decode("timeline.note_added", 2, data, AT)

    assert decoded == NoteAdded(
        occurred_at=AT, note_id=NOTE_ID, text="hi", visibility=NoteVisibility.PUBLIC
    )
