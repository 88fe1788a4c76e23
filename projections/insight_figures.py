"""What the insights report and how each figure is defined: the published definitions and the
arithmetic behind them, free of any database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

FIGURES = (
    "time_to_detect",
    "time_to_acknowledge",
    "time_to_mitigate",
    "time_to_resolve",
    "duration",
)
"""The time figures of each group of incidents, in the order they are reported."""

MICROSECONDS_PER_SECOND = 1_000_000
MICROSECONDS_PER_DAY = 86_400 * MICROSECONDS_PER_SECOND

INCIDENT_DEFINITIONS: dict[str, str] = {
    "period": "An incident counts in the period in which it started: from <= started_at < to (UTC).",
    "kind": (
        "Only incidents of the kinds asked for count: by default kind incident alone (drills,"
        " maintenance and false alarms are left out); kind=all counts every kind."
    ),
    "duplicates": (
        "An incident that records itself duplicate_of another is left out, the other counting"
        " in its place, unless include_duplicates=true."
    ),
    "count": "The incidents of the group.",
    "resolved": "Those with a resolved_at: resolved or closed.",
    "open": (
        "Those without a resolved_at: not resolved yet, or reopened; they have no"
        " time_to_resolve and no duration."
    ),
    "time_to_detect": "detected_at - started_at",
    "time_to_acknowledge": "acknowledged_at - detected_at",
    "time_to_mitigate": "mitigated_at - detected_at",
    "time_to_resolve": "resolved_at - detected_at",
    "duration": "resolved_at - started_at",
    "n": "How many incidents of the group have both times of a figure; the figure is taken over those alone.",
    "mean": "The sum of the n values divided by n, in seconds; null when n is 0.",
    "median": (
        "The nearest-rank median: the value at rank ceil(0.5 * n) of the n values in ascending"
        " order, in seconds; null when n is 0."
    ),
    "p90": (
        "The nearest-rank 90th percentile: the value at rank ceil(0.9 * n) of the n values in"
        " ascending order, in seconds; null when n is 0."
    ),
    "group_by": (
        "severity: the incident's current severity. service: each of its services (an incident"
        " with several counts in each, one with none in the group null). label:KEY: the value"
        " of the label KEY (the group null for incidents without it). month: the month of"
        " started_at in UTC (YYYY-MM). week: the ISO week of started_at in UTC (YYYY-Www). Only"
        " groups with incidents are listed."
    ),
}
"""The definitions every incident insights answer carries, word for word as the README's."""

ACTION_ITEM_DEFINITIONS: dict[str, str] = {
    "period": "An action item counts in the period in which it was added: from <= created_at < to (UTC).",
    "incidents": "Items of every incident count, whatever its kind and whether it is a duplicate.",
    "created_at": "When the item was added, as the service recorded it.",
    "done_at": "When the item last went to done, as the service recorded it; reopening clears it.",
    "created": "The items of the group added in the period.",
    "done": "Those now done.",
    "wont_do": "Those now wont_do.",
    "open": "Those now open or in_progress.",
    "overdue": (
        "Those neither done nor wont_do whose due_date is before today (the date in UTC by the"
        " service's clock)."
    ),
    "completion_rate": "done / (created - wont_do); null when created - wont_do is 0.",
    "median_days_to_done": (
        "Over the done items, the nearest-rank median of done_at - created_at in days: the"
        " value at rank ceil(0.5 * n) of the n values in ascending order; null when none is done."
    ),
    "group_by": (
        "kind: corrective or preventative. owner: the item's current owner. severity: the"
        " current severity of its incident."
    ),
}
"""The definitions every action-item insights answer carries, word for word as the README's."""


@dataclass(frozen=True, slots=True)
class Figure:
    """One time figure of a group: how many values, their mean, median and 90th percentile."""

    n: int
    mean: float | None
    median: float | None
    p90: float | None


NO_FIGURE = Figure(0, None, None, None)


@dataclass(frozen=True, slots=True)
class IncidentGroup:
    """The figures of one group of incidents."""

    group: str | None
    count: int
    open: int
    resolved: int
    figures: dict[str, Figure]


def rank(n: int, percent: int) -> int:
    """The nearest rank of the ``percent``-th percentile among ``n`` values: ceil(percent/100 * n)."""
    return -(-percent * n // 100)


def seconds(microseconds: float) -> float:
    """Whole microseconds as seconds, exactly as ``timedelta.total_seconds()`` gives them."""
    return microseconds / MICROSECONDS_PER_SECOND


def figure_of(total: int, ordered: Sequence[float]) -> Figure:
    """The figure of durations in whole microseconds, in ascending order, summing to ``total``."""
    n = len(ordered)
    if n == 0:
        return NO_FIGURE
    return Figure(
        n=n,
        mean=total / (n * MICROSECONDS_PER_SECOND),
        median=seconds(ordered[rank(n, 50) - 1]),
        p90=seconds(ordered[rank(n, 90) - 1]),
    )


def median_days(values: Sequence[int]) -> float | None:
    """The nearest-rank median of durations in microseconds, in days; None without values."""
    if not values:
        return None
    return sorted(values)[rank(len(values), 50) - 1] / MICROSECONDS_PER_DAY


def completion_rate(created: int, done: int, wont_do: int) -> float | None:
    """done / (created - wont_do); None when nothing is left to complete."""
    due = created - wont_do
    return done / due if due > 0 else None
