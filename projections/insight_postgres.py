"""Medians and 90th percentiles on PostgreSQL: ``percentile_disc``, which is the nearest-rank
method, ordered by the database itself; Python only reads the results."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Column, func
from sqlalchemy.dialects.postgresql import array

from projections.insight_figures import (
    FIGURES,
    MICROSECONDS_PER_SECOND,
    NO_FIGURE,
    Figure,
    IncidentGroup,
    seconds,
)


def postgres_aggregates(columns: Sequence[Column[Any]]) -> list[Any]:
    """Per figure: how many values, their sum, and [median, p90] by nearest rank."""
    aggregates: list[Any] = []
    for column in columns:
        ranks = func.percentile_disc(array([0.5, 0.9])).within_group(column)
        aggregates += [func.count(column), func.sum(column), ranks]
    return aggregates


def _figures(values: Sequence[Any]) -> dict[str, Figure]:
    figures = {}
    for number, name in enumerate(FIGURES):
        n, total, ranks = values[3 * number : 3 * number + 3]
        figures[name] = (
            Figure(
                n=n,
                # The sum of bigints is a numeric: exact, as is the mean made from it.
                mean=int(total) / (n * MICROSECONDS_PER_SECOND),
                median=seconds(ranks[0]),
                p90=seconds(ranks[1]),
            )
            if n
            else NO_FIGURE
        )
    return figures


def postgres_groups(rows: Iterable[tuple[str | None, Sequence[Any]]]) -> list[IncidentGroup]:
    """The groups of the rows ``(key, [count, resolved, *per figure n, sum, ranks])``, those
    without incidents left out."""
    return [
        IncidentGroup(group, count, count - resolved, resolved, _figures(values))
        for group, (count, resolved, *values) in rows
        if count
    ]
