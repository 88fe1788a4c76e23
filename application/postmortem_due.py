"""When a postmortem is due: its own due date, or business days after resolution."""

from __future__ import annotations

from datetime import date, datetime, timedelta

WEEKEND = (5, 6)  # Saturday, Sunday


def add_business_days(start: date, days: int) -> date:
    """The date ``days`` business days (Monday to Friday) after ``start``."""
    current = start
    left = days
    while left > 0:
        current += timedelta(days=1)
        if current.weekday() not in WEEKEND:
            left -= 1
    return current


def due_date(
    explicit: date | None, resolved_at: datetime | None, business_days: int
) -> date | None:
    """The postmortem's due date: its own, or ``business_days`` after the (UTC) day of
    resolution; None for an unresolved incident without one."""
    if explicit is not None:
        return explicit
    if resolved_at is None:
        return None
    return add_business_days(resolved_at.date(), business_days)


def is_overdue(due: date | None, published: bool, today: date) -> bool:
    """Due before today and not published yet."""
    return due is not None and not published and due < today
