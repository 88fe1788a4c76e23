"""What the timeline says of labels, kind and relations; a relation also shows on the
timeline of the other incident (see ``other_side``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain import events as e

Described = tuple[str, str, dict[str, Any]]

RELATION_WORDS = {
    "duplicate_of": "a duplicate of",
    "related_to": "related to",
    "caused_by": "caused by",
}
INVERSE_WORDS = {
    "duplicate_of": "has a duplicate:",
    "related_to": "is related to",
    "caused_by": "caused",
}


def _labels(ev: e.IncidentLabelsChanged) -> Described:
    parts = []
    if ev.labels:
        pairs = ", ".join(f"{k}={v}" for k, v in sorted(ev.labels.items()))
        parts.append(f"Labels set{' from alerts' if ev.source == 'alert' else ''}: {pairs}")
    if ev.removed:
        parts.append(f"Labels removed: {', '.join(sorted(ev.removed))}")
    details = {"labels": dict(ev.labels), "removed": list(ev.removed), "source": ev.source}
    return "labels_changed", "; ".join(parts), details


def _kind(ev: e.IncidentKindChanged) -> Described:
    before, after = ev.from_kind.value, ev.to_kind.value
    text = f"Incident kind changed from {before.replace('_', ' ')} to {after.replace('_', ' ')}"
    return "kind_changed", text, {"from": before, "to": after}


def _related(ev: e.IncidentRelated) -> Described:
    relation = ev.relation.value
    text = f"Marked as {RELATION_WORDS[relation]} incident {ev.other_incident_id}"
    details = {"other_incident_id": str(ev.other_incident_id), "relation": relation}
    return "related", text, details


def _unrelated(ev: e.IncidentUnrelated) -> Described:
    relation = ev.relation.value
    text = f"No longer {RELATION_WORDS[relation]} incident {ev.other_incident_id}"
    details = {"other_incident_id": str(ev.other_incident_id), "relation": relation}
    return "unrelated", text, details


def other_side(ev: e.IncidentRelated | e.IncidentUnrelated, recorded_by: str) -> Described:
    """The entry the other incident's timeline shows; ``recorded_by`` is the recording
    incident's id."""
    relation = ev.relation.value
    if isinstance(ev, e.IncidentRelated):
        text = f"This incident {INVERSE_WORDS[relation]} incident {recorded_by}"
        kind = "related"
    else:
        text = f"Incident {recorded_by} no longer records this one ({relation.replace('_', ' ')})"
        kind = "unrelated"
    details = {"other_incident_id": recorded_by, "relation": relation, "direction": "incoming"}
    return kind, text, details


CLASSIFICATION_DESCRIBERS: dict[type[e.DomainEvent], Callable[[Any], Described]] = {
    e.IncidentLabelsChanged: _labels,
    e.IncidentKindChanged: _kind,
    e.IncidentRelated: _related,
    e.IncidentUnrelated: _unrelated,
}
