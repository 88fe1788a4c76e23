"""Answers of the insights routes: figures per group, with the definitions they follow."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from projections.insight_action_items import ActionItemGroup
from projections.insight_figures import ACTION_ITEM_DEFINITIONS, INCIDENT_DEFINITIONS, IncidentGroup


def _figure_example(n: int, mean: float, median: float, p90: float) -> dict[str, Any]:
    return {"n": n, "mean": mean, "median": median, "p90": p90}


INCIDENT_GROUP_EXAMPLE: dict[str, Any] = {
    "group": "2026-03",
    "count": 12,
    "open": 2,
    "resolved": 10,
    "time_to_detect": _figure_example(12, 214.5, 120.0, 600.0),
    "time_to_acknowledge": _figure_example(11, 180.0, 150.0, 420.0),
    "time_to_mitigate": _figure_example(9, 2650.0, 2400.0, 5400.0),
    "time_to_resolve": _figure_example(10, 9120.0, 7200.0, 21600.0),
    "duration": _figure_example(10, 9330.0, 7320.0, 21900.0),
}

INCIDENT_INSIGHTS_EXAMPLE: dict[str, Any] = {
    "from": "2026-01-01T00:00:00Z",
    "to": "2026-04-01T00:00:00Z",
    "group_by": "month",
    "kind": ["incident"],
    "include_duplicates": False,
    "definitions": INCIDENT_DEFINITIONS,
    "groups": [INCIDENT_GROUP_EXAMPLE],
}

ACTION_ITEM_GROUP_EXAMPLE: dict[str, Any] = {
    "group": "corrective",
    "created": 14,
    "done": 9,
    "wont_do": 1,
    "open": 4,
    "overdue": 2,
    "completion_rate": 0.6923076923076923,
    "median_days_to_done": 6.5,
}

ACTION_ITEM_INSIGHTS_EXAMPLE: dict[str, Any] = {
    "from": "2026-01-01T00:00:00Z",
    "to": "2026-04-01T00:00:00Z",
    "group_by": "kind",
    "today": "2026-03-20",
    "definitions": ACTION_ITEM_DEFINITIONS,
    "groups": [ACTION_ITEM_GROUP_EXAMPLE],
}


class TimeFigure(BaseModel):
    """One time figure of a group of incidents, in seconds (see `definitions`)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [_figure_example(10, 9120.0, 7200.0, 21600.0)]}
    )

    n: int = Field(description="How many incidents of the group have both times of the figure.")
    mean: float | None = Field(description="The mean of the n values; null when n is 0.")
    median: float | None = Field(
        description="The nearest-rank median of the n values; null when n is 0."
    )
    p90: float | None = Field(
        description="The nearest-rank 90th percentile of the n values; null when n is 0."
    )


class IncidentInsightGroup(BaseModel):
    """The figures of one group of incidents."""

    model_config = ConfigDict(json_schema_extra={"examples": [INCIDENT_GROUP_EXAMPLE]})

    group: str | None = Field(
        description="The severity, service, label value, month (YYYY-MM) or ISO week (YYYY-Www);"
        " null for incidents without a service or without the label."
    )
    count: int = Field(description="The incidents of the group.")
    open: int = Field(description="Those not resolved (no resolved_at).")
    resolved: int = Field(description="Those resolved or closed.")
    time_to_detect: TimeFigure = Field(description="detected_at - started_at")
    time_to_acknowledge: TimeFigure = Field(description="acknowledged_at - detected_at")
    time_to_mitigate: TimeFigure = Field(description="mitigated_at - detected_at")
    time_to_resolve: TimeFigure = Field(description="resolved_at - detected_at")
    duration: TimeFigure = Field(description="resolved_at - started_at")

    @classmethod
    def of(cls, group: IncidentGroup) -> IncidentInsightGroup:
        figures = {
            name: TimeFigure(n=f.n, mean=f.mean, median=f.median, p90=f.p90)
            for name, f in group.figures.items()
        }
        return cls(
            group=group.group,
            count=group.count,
            open=group.open,
            resolved=group.resolved,
            **figures,
        )


class IncidentInsights(BaseModel):
    """Figures of the incidents that started in a period, per group."""

    model_config = ConfigDict(
        populate_by_name=True, json_schema_extra={"examples": [INCIDENT_INSIGHTS_EXAMPLE]}
    )

    from_: datetime = Field(alias="from", description="The period's start (inclusive), UTC.")
    to: datetime = Field(description="The period's end (exclusive), UTC.")
    group_by: str = Field(description="How the incidents are grouped.")
    kind: list[str] = Field(description="The kinds of incident counted.")
    include_duplicates: bool = Field(description="Whether duplicates are counted too.")
    definitions: dict[str, str] = Field(description="What each figure means, word for word.")
    groups: list[IncidentInsightGroup] = Field(description="One entry per group, in order.")


class ActionItemInsightGroup(BaseModel):
    """The figures of one group of action items."""

    model_config = ConfigDict(json_schema_extra={"examples": [ACTION_ITEM_GROUP_EXAMPLE]})

    group: str | None = Field(description="The kind, owner or incident severity.")
    created: int = Field(description="Items of the group added in the period.")
    done: int = Field(description="Those now done.")
    wont_do: int = Field(description="Those now wont_do.")
    open: int = Field(description="Those now open or in_progress.")
    overdue: int = Field(description="Those not finished whose due date has passed.")
    completion_rate: float | None = Field(
        description="done / (created - wont_do); null when that is 0."
    )
    median_days_to_done: float | None = Field(
        description="The nearest-rank median of done_at - created_at in days; null when none is done."
    )

    @classmethod
    def of(cls, group: ActionItemGroup) -> ActionItemInsightGroup:
        return cls(
            group=group.group,
            created=group.created,
            done=group.done,
            wont_do=group.wont_do,
            open=group.open,
            overdue=group.overdue,
            completion_rate=group.completion_rate,
            median_days_to_done=group.median_days_to_done,
        )


class ActionItemInsights(BaseModel):
    """Figures of the action items added in a period, per group."""

    model_config = ConfigDict(
        populate_by_name=True, json_schema_extra={"examples": [ACTION_ITEM_INSIGHTS_EXAMPLE]}
    )

    from_: datetime = Field(alias="from", description="The period's start (inclusive), UTC.")
    to: datetime = Field(description="The period's end (exclusive), UTC.")
    group_by: str = Field(description="How the items are grouped.")
    today: date = Field(description="The date overdue is judged against (UTC).")
    definitions: dict[str, str] = Field(description="What each figure means, word for word.")
    groups: list[ActionItemInsightGroup] = Field(description="One entry per group, in order.")
