"""Events that classify an incident for learning across incidents: labels, kind, relations."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import Field

from domain.event_base import DomainEvent
from domain.values import IncidentKind, LabelKey, LabelValue, Relation


class IncidentLabelsChanged(DomainEvent):
    """Labels set (added or given a new value) and labels removed, in one change."""

    type: Literal["incident.labels_changed"] = "incident.labels_changed"
    schema_version: Literal[1] = 1
    labels: dict[LabelKey, LabelValue] = Field(default_factory=dict)
    """Each label set by this change, with its new value."""
    removed: tuple[LabelKey, ...] = ()
    source: Literal["command", "alert"] = "command"
    """``alert`` when the labels were copied from an alert's labels."""


class IncidentKindChanged(DomainEvent):
    type: Literal["incident.kind_changed"] = "incident.kind_changed"
    schema_version: Literal[1] = 1
    from_kind: IncidentKind
    to_kind: IncidentKind


class IncidentRelated(DomainEvent):
    """This incident relates to another: recorded here, shown on both."""

    type: Literal["incident.related"] = "incident.related"
    schema_version: Literal[1] = 1
    other_incident_id: UUID
    relation: Relation


class IncidentUnrelated(DomainEvent):
    """The relation this incident recorded to another is withdrawn."""

    type: Literal["incident.unrelated"] = "incident.unrelated"
    schema_version: Literal[1] = 1
    other_incident_id: UUID
    relation: Relation
