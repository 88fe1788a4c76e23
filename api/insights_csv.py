"""Insights as CSV (``Accept: text/csv``): one row per group, each figure flattened into columns."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from api.negotiation import prefers
from api.schemas.insights import ActionItemInsightGroup, IncidentInsightGroup
from projections.insight_figures import FIGURES

CSV = "text/csv"
NO_GROUP = "(none)"
"""The CSV cell of the group null: incidents without a service, or without the label."""

FIGURE_PARTS = ("n", "mean", "median", "p90")
INCIDENT_COLUMNS = (
    "group",
    "count",
    "open",
    "resolved",
    *(f"{name}_{part}" for name in FIGURES for part in FIGURE_PARTS),
)
ACTION_ITEM_COLUMNS = (
    "group",
    "created",
    "done",
    "wont_do",
    "open",
    "overdue",
    "completion_rate",
    "median_days_to_done",
)

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""How a cell a spreadsheet would run as a formula starts (owners and labels are free text)."""


def wants_csv(accept: str | None) -> bool:
    """Whether the client prefers CSV to JSON; 406 when it accepts neither."""
    return prefers(accept, CSV, "insights are")


def _group_cell(group: str | None) -> str:
    if group is None:
        return NO_GROUP
    return f"'{group}" if group.startswith(_FORMULA_STARTS) else group


def _text(rows: Iterable[Sequence[object]], header: Sequence[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180
    writer.writerow(header)
    # None is an empty cell; floats are written as repr(), which reads back exactly.
    writer.writerows(rows)
    return out.getvalue()


def incident_csv(groups: Sequence[IncidentInsightGroup]) -> str:
    """One row per group of incidents: its counts, then n, mean, median, p90 of each figure."""
    rows = []
    for group in groups:
        row: list[object] = [_group_cell(group.group), group.count, group.open, group.resolved]
        for name in FIGURES:
            figure = getattr(group, name)
            row += [figure.n, figure.mean, figure.median, figure.p90]
        rows.append(row)
    return _text(rows, INCIDENT_COLUMNS)


def action_item_csv(groups: Sequence[ActionItemInsightGroup]) -> str:
    """One row per group of action items."""
    rows = [
        [_group_cell(group.group), *(getattr(group, name) for name in ACTION_ITEM_COLUMNS[1:])]
        for group in groups
    ]
    return _text(rows, ACTION_ITEM_COLUMNS)
