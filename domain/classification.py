"""Labels, kind and relations: how an incident is classified so incidents can be compared."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from domain import commands as c
from domain import events as e
from domain.errors import EntryNotFound, RuleViolation
from domain.state import Incident, frozen_map, require_incident


def _change_labels(state: Incident, cmd: c.ChangeLabels) -> list[e.DomainEvent]:
    require_incident(state, cmd)
    both = sorted(set(cmd.labels) & set(cmd.removed))
    if both:
        raise RuleViolation(f"label(s) {', '.join(both)} are both set and removed")
    missing = sorted(key for key in cmd.removed if key not in state.labels)
    if missing:
        raise RuleViolation(f"the incident has no label(s) {', '.join(missing)} to remove")
    changed = {k: v for k, v in cmd.labels.items() if state.labels.get(k) != v}
    if not changed and not cmd.removed:
        raise RuleViolation("the change sets no label the incident does not already have")
    return [e.IncidentLabelsChanged(occurred_at=cmd.at, labels=changed, removed=cmd.removed)]


def labels_from_alerts(
    state: Incident, cmd: c.DeclareIncident | c.RecordAlerts
) -> list[e.DomainEvent]:
    """Alert labels the incident has no value for yet: a person's choice is never overwritten."""
    new = {k: v for k, v in cmd.labels.items() if k not in state.labels}
    if not new:
        return []
    source = "alert" if isinstance(cmd, c.RecordAlerts) else "command"
    return [e.IncidentLabelsChanged(occurred_at=cmd.at, labels=new, source=source)]


def _change_kind(state: Incident, cmd: c.ChangeKind) -> list[e.DomainEvent]:
    require_incident(state, cmd)
    if cmd.kind is state.kind:
        raise RuleViolation(f"the incident is already of kind {state.kind.value}")
    return [e.IncidentKindChanged(occurred_at=cmd.at, from_kind=state.kind, to_kind=cmd.kind)]


def _relate(state: Incident, cmd: c.RelateIncident) -> list[e.DomainEvent]:
    require_incident(state, cmd)
    if cmd.other_incident_id == cmd.incident_id:
        raise RuleViolation("an incident cannot relate to itself")
    current = state.relations.get(cmd.other_incident_id)
    if current is not None:
        raise RuleViolation(
            f"the incident already records {current.value} {cmd.other_incident_id};"
            " remove that relation first"
        )
    return [
        e.IncidentRelated(
            occurred_at=cmd.at, other_incident_id=cmd.other_incident_id, relation=cmd.relation
        )
    ]


def _unrelate(state: Incident, cmd: c.UnrelateIncident) -> list[e.DomainEvent]:
    require_incident(state, cmd)
    current = state.relations.get(cmd.other_incident_id)
    if current is None:
        raise EntryNotFound(
            f"incident {cmd.incident_id} records no relation to {cmd.other_incident_id}"
        )
    return [
        e.IncidentUnrelated(
            occurred_at=cmd.at, other_incident_id=cmd.other_incident_id, relation=current
        )
    ]


DECIDERS: dict[type[c.Command], Callable[[Incident, Any], list[e.DomainEvent]]] = {
    c.ChangeLabels: _change_labels,
    c.ChangeKind: _change_kind,
    c.RelateIncident: _relate,
    c.UnrelateIncident: _unrelate,
}


def _labels_changed(state: Incident, ev: e.IncidentLabelsChanged) -> Incident:
    labels = {**state.labels, **ev.labels}
    for key in ev.removed:
        labels.pop(key, None)
    return replace(state, labels=frozen_map(labels))


def _related(state: Incident, ev: e.IncidentRelated) -> Incident:
    return replace(
        state, relations=frozen_map({**state.relations, ev.other_incident_id: ev.relation})
    )


def _unrelated(state: Incident, ev: e.IncidentUnrelated) -> Incident:
    relations = dict(state.relations)
    relations.pop(ev.other_incident_id, None)
    return replace(state, relations=frozen_map(relations))


EVOLVERS: dict[type[e.DomainEvent], Callable[[Incident, Any], Incident]] = {
    e.IncidentLabelsChanged: _labels_changed,
    e.IncidentKindChanged: lambda s, ev: replace(s, kind=ev.to_kind),
    e.IncidentRelated: _related,
    e.IncidentUnrelated: _unrelated,
}
