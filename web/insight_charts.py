"""The insights page's charts: which figures each draws, in which colours, with which words.

Time to resolve is drawn once per severity (small multiples), each month a row: the 90th
percentile as a pale bar and the median as a dark one over it, on one scale shared by
every severity so that bars compare across panels.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.values import Severity
from projections.insight_action_items import ActionItemGroup
from projections.insight_queries import IncidentGroup
from web.charts import BarChart, Line, Part, bar_chart
from web.insight_reads import MonthFigures
from web.templating import duration

NO_GROUP = "(none)"


@dataclass(frozen=True, slots=True)
class SeverityPanel:
    severity: str
    chart: BarChart


def _resolve_parts(group: IncidentGroup) -> tuple[list[Part], str]:
    figure = group.figures["time_to_resolve"]
    if figure.n == 0 or figure.median is None or figure.p90 is None:
        return [], f"none resolved of {group.count}"
    parts = [
        Part("p90", figure.p90, f"90th percentile {duration(figure.p90)}"),
        Part("median", figure.median, f"median {duration(figure.median)}", thin=True),
    ]
    text = f"median {duration(figure.median)} · p90 {duration(figure.p90)} (n={figure.n})"
    return parts, text


def time_to_resolve(months: list[MonthFigures]) -> list[SeverityPanel]:
    """One chart per severity that has incidents, worst first; a row per month."""
    rows: dict[str, list[Line]] = {severity.value: [] for severity in Severity}
    top = 0.0
    for month in months:
        for group in month.severities:
            parts, text = _resolve_parts(group)
            rows.setdefault(group.group or NO_GROUP, []).append(Line(month.month, parts, text))
            top = max([top, *(part.value for part in parts)])
    return [
        SeverityPanel(
            severity,
            bar_chart(
                f"{severity}: time to resolve by month",
                f"Median and 90th percentile of time to resolve of {severity} incidents, by"
                " month of start.",
                lines,
                scale=top,
            ),
        )
        for severity, lines in rows.items()
        if lines
    ]


def by_service(groups: list[IncidentGroup]) -> BarChart:
    """Incidents per service: resolved and still open."""
    lines = [
        Line(
            group.group or NO_GROUP,
            [
                Part("resolved", group.resolved, f"{group.resolved} resolved"),
                Part("open", group.open, f"{group.open} open"),
            ],
            f"{group.count} ({group.open} open)",
        )
        for group in groups
    ]
    return bar_chart(
        "Incidents by service",
        "How many incidents started in the period per service, resolved and open.",
        lines,
    )


def _rate(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.0%}"


def action_items(groups: list[ActionItemGroup], by: str) -> BarChart:
    """Action items per group: done, won't do, open and (of those open) overdue."""
    lines = [
        Line(
            group.group or NO_GROUP,
            [
                Part("done", group.done, f"{group.done} done"),
                Part("wont_do", group.wont_do, f"{group.wont_do} won't do"),
                Part("open", group.open - group.overdue, f"{group.open - group.overdue} open"),
                Part("overdue", group.overdue, f"{group.overdue} open and overdue"),
            ],
            f"{group.created} added · {_rate(group.completion_rate)} done"
            f" · {group.overdue} overdue",
        )
        for group in groups
    ]
    return bar_chart(
        f"Action items by {by}",
        f"Action items added in the period per {by}: done, won't do, open, overdue.",
        lines,
    )
