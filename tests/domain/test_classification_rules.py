"""Labels, kind and relations: validated, recorded as changes, never silently overwritten."""

from __future__ import annotations

from uuid import UUID

import pytest
from pydantic import ValidationError

from domain.commands import (
    AlertReport,
    ChangeKind,
    ChangeLabels,
    DeclareIncident,
    RecordAlerts,
    RelateIncident,
    UnrelateIncident,
)
from domain.errors import EntryNotFound, RuleViolation
from domain.events import (
    IncidentKindChanged,
    IncidentLabelsChanged,
    IncidentRelated,
    IncidentUnrelated,
)
from domain.incident import decide, fold
from domain.values import AlertSource, AlertStatus, IncidentKind, Relation, Severity
from tests.domain.scenario import INCIDENT_ID, NOW, declared, given

OTHER = UUID("00000000-0000-4000-8000-000000000002")


def labels(set_: dict[str, str] | None = None, removed: tuple[str, ...] = ()) -> ChangeLabels:
    return ChangeLabels(incident_id=INCIDENT_ID, at=NOW, labels=set_ or {}, removed=removed)


def test_labels_are_set_changed_and_removed() -> None:
    state = given(declared())
    events = decide(state, labels({"team": "payments", "env": "prod"}))
    assert events == [
        IncidentLabelsChanged(occurred_at=NOW, labels={"team": "payments", "env": "prod"})
    ]
    state = fold(events, state)
    assert dict(state.labels) == {"team": "payments", "env": "prod"}
    # Only what changes is recorded: env=prod is already so.
    events = decide(state, labels({"team": "checkout", "env": "prod"}, removed=()))
    assert events == [IncidentLabelsChanged(occurred_at=NOW, labels={"team": "checkout"})]
    state = fold(decide(fold(events, state), labels(removed=("env",))), fold(events, state))
    assert dict(state.labels) == {"team": "checkout"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (labels({"team": "payments"}), "sets no label"),
        (labels(removed=("env",)), "has no label(s) env to remove"),
        (labels({"team": "x"}, removed=("team",)), "both set and removed"),
    ],
)
def test_label_changes_that_change_nothing_or_contradict_are_refused(
    change: ChangeLabels, message: str
) -> None:
    state = given(declared(), IncidentLabelsChanged(occurred_at=NOW, labels={"team": "payments"}))
    with pytest.raises(RuleViolation, match=message.replace("(", r"\(").replace(")", r"\)")):
        decide(state, change)


@pytest.mark.parametrize(
    ("key", "value"),
    [("", "x"), ("team name", "x"), ("1team", "x"), ("team", "a b"), ("team", "a,b"), ("t", "")],
)
def test_label_keys_and_values_are_validated(key: str, value: str) -> None:
    with pytest.raises(ValidationError):
        labels({key: value})


def test_declaring_with_labels_and_a_kind_records_both() -> None:
    command = DeclareIncident(
        incident_id=INCIDENT_ID,
        at=NOW,
        title="Game day: fail over the primary",
        severity=Severity.SEV3,
        labels={"team": "db"},
        kind=IncidentKind.DRILL,
    )
    state = fold(decide(given(), command))
    assert dict(state.labels) == {"team": "db"}
    assert state.kind is IncidentKind.DRILL


def test_kind_changes_and_refuses_the_same_kind() -> None:
    state = given(declared())
    assert state.kind is IncidentKind.INCIDENT
    command = ChangeKind(incident_id=INCIDENT_ID, at=NOW, kind=IncidentKind.FALSE_ALARM)
    events = decide(state, command)
    assert events == [
        IncidentKindChanged(
            occurred_at=NOW, from_kind=IncidentKind.INCIDENT, to_kind=IncidentKind.FALSE_ALARM
        )
    ]
    with pytest.raises(RuleViolation, match="already of kind false_alarm"):
        decide(fold(events, state), command)


def test_relations_are_recorded_once_and_withdrawn() -> None:
    state = given(declared())
    relate = RelateIncident(
        incident_id=INCIDENT_ID, at=NOW, other_incident_id=OTHER, relation=Relation.DUPLICATE_OF
    )
    events = decide(state, relate)
    assert events == [
        IncidentRelated(occurred_at=NOW, other_incident_id=OTHER, relation=Relation.DUPLICATE_OF)
    ]
    state = fold(events, state)
    with pytest.raises(RuleViolation, match="already records duplicate_of"):
        decide(state, relate)
    unrelate = UnrelateIncident(incident_id=INCIDENT_ID, at=NOW, other_incident_id=OTHER)
    events = decide(state, unrelate)
    assert events == [
        IncidentUnrelated(occurred_at=NOW, other_incident_id=OTHER, relation=Relation.DUPLICATE_OF)
    ]
    state = fold(events, state)
    assert dict(state.relations) == {}
    with pytest.raises(EntryNotFound, match="records no relation"):
        decide(state, unrelate)


def test_an_incident_cannot_relate_to_itself() -> None:
    relate = RelateIncident(
        incident_id=INCIDENT_ID, at=NOW, other_incident_id=INCIDENT_ID, relation=Relation.RELATED_TO
    )
    with pytest.raises(RuleViolation, match="cannot relate to itself"):
        decide(given(declared()), relate)


def _alerts(labels: dict[str, str], key: str = "a1") -> RecordAlerts:
    return RecordAlerts(
        incident_id=INCIDENT_ID,
        at=NOW,
        source=AlertSource.ALERTMANAGER,
        alerts=(
            AlertReport(key=key, status=AlertStatus.FIRING, name="HighLatency", starts_at=NOW),
        ),
        title="HighLatency",
        severity=Severity.SEV2,
        labels=labels,
    )


def test_alert_labels_label_a_declared_incident_and_never_overwrite_a_person() -> None:
    state = fold(decide(given(), _alerts({"team": "payments", "env": "prod"})))
    assert dict(state.labels) == {"team": "payments", "env": "prod"}
    state = fold(decide(state, labels({"team": "checkout"})), state)  # a person corrects the team
    events = decide(state, _alerts({"team": "payments", "cluster": "eu-1"}, key="a2"))
    changed = [ev for ev in events if isinstance(ev, IncidentLabelsChanged)]
    assert changed == [
        IncidentLabelsChanged(occurred_at=NOW, labels={"cluster": "eu-1"}, source="alert")
    ]


def test_a_redelivered_notification_adds_no_labels() -> None:
    state = fold(decide(given(), _alerts({"team": "payments"})))
    assert decide(state, _alerts({"team": "payments", "env": "prod"})) == []
