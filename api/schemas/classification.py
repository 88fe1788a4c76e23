"""Bodies of the routes that classify an incident: labels, kind, relations."""

from __future__ import annotations

from uuid import UUID

from pydantic import Field

from api.schemas.common import CommandBody, examples
from domain import commands as c
from domain.values import IncidentKind, LabelKey, LabelValue, Relation


class LabelsRequest(CommandBody):
    """Set labels (add, or give a new value) and remove others, in one change."""

    command_type = c.ChangeLabels

    model_config = examples({"labels": {"team": "payments", "env": "prod"}, "removed": ["cluster"]})

    labels: dict[LabelKey, LabelValue] = Field(
        default_factory=dict,
        max_length=50,
        description="key -> value. A key starts with a letter or _, then letters, digits, _ . -;"
        " a value has no spaces, commas or =.",
    )
    removed: list[LabelKey] = Field(
        default_factory=list, max_length=50, description="Keys of labels to remove."
    )


class KindRequest(CommandBody):
    """What the incident was: only kind incident counts in insights unless asked."""

    command_type = c.ChangeKind

    model_config = examples({"kind": "drill"})

    kind: IncidentKind = Field(description="incident, drill, maintenance or false_alarm.")


class RelationRequest(CommandBody):
    """Relate this incident to another; it shows on both."""

    command_type = c.RelateIncident

    model_config = examples(
        {"other_incident_id": "0f8fad5b-d9cb-469f-a165-70867728950e", "relation": "duplicate_of"}
    )

    other_incident_id: UUID = Field(description="The other incident, which must exist.")
    relation: Relation = Field(
        description="duplicate_of (this incident counts once, as the other), related_to, or"
        " caused_by (the other incident caused this one)."
    )
