"""Calendar periods in UTC for grouping incidents by month or ISO week."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

PERIODS = ("month", "week")


def _month_start(moment: datetime) -> datetime:
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def _next_month(moment: datetime) -> datetime:
    return datetime(moment.year + moment.month // 12, moment.month % 12 + 1, 1, tzinfo=UTC)


def _next_week(moment: datetime) -> datetime:
    return moment + timedelta(days=7)


def _week_start(moment: datetime) -> datetime:
    monday = moment.astimezone(UTC).date() - timedelta(days=moment.astimezone(UTC).weekday())
    return datetime(monday.year, monday.month, monday.day, tzinfo=UTC)


def period_name(by: str, start: datetime) -> str:
    """``2026-03`` for a month, ``2026-W10`` for the ISO week starting on that Monday."""
    if by == "month":
        return f"{start.year:04d}-{start.month:02d}"
    year, week, _ = date(start.year, start.month, start.day).isocalendar()
    return f"{year:04d}-W{week:02d}"


def periods(
    by: str, first: datetime, last: datetime, start: datetime, end: datetime
) -> Iterator[tuple[str, datetime, datetime]]:
    """Each month or week from the one holding ``first`` to the one holding ``last``: its
    name and its bounds, cut to [start, end)."""
    if by == "month":
        lower, following = _month_start(first), _next_month
    else:
        lower, following = _week_start(first), _next_week
    while lower <= last:
        upper = following(lower)
        yield period_name(by, lower), max(lower, start), min(upper, end)
        lower = upper
