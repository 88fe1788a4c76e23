"""The insights page's filters as its GET form sends them, read into what the queries take.

Dates are days in UTC: ``from`` is the first day counted, ``to`` the first day not counted,
as the API's ``from`` and ``to`` (a date there means its midnight, UTC). Without them the
page shows the 90 days up to and including today.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from application.input_times import EPOCH
from domain.values import IncidentKind
from projections.insight_action_items import ACTION_ITEM_GROUPINGS
from web.insight_reads import InsightFilters

DEFAULT_DAYS = 90
ALL_KINDS = "all"
KIND_CHOICES = [*(kind.value for kind in IncidentKind), ALL_KINDS]
ITEMS_BY = ACTION_ITEM_GROUPINGS


class FilterInvalid(Exception):
    """A filter the page cannot use; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class FormValues:
    """The filters as the form shows them again."""

    from_: str
    to: str
    kind: str
    group_by: str


def _day(field: str, text: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise FilterInvalid(field, f"{field}: {text!r} is not a date (YYYY-MM-DD)") from None
    if datetime.combine(day, datetime.min.time(), UTC) < EPOCH:
        raise FilterInvalid(field, f"{field}: {text} is before 1970-01-01, the earliest accepted")
    return day


def _midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), UTC)


def read_filters(
    from_: str | None, to: str | None, kind: str | None, group_by: str | None, today: date
) -> tuple[InsightFilters, FormValues]:
    """The filters asked for (defaults for those left empty); FilterInvalid naming the first
    that cannot be used."""
    end = _day("to", to) if to else today + timedelta(days=1)
    start = _day("from", from_) if from_ else end - timedelta(days=DEFAULT_DAYS)
    if start >= end:
        raise FilterInvalid(
            "to", f"to: the period is empty: from ({start}) must be a day before to ({end})"
        )
    chosen = kind or IncidentKind.INCIDENT.value
    if chosen not in KIND_CHOICES:
        raise FilterInvalid("kind", f"kind: {chosen!r} is not one of {', '.join(KIND_CHOICES)}")
    kinds = [k.value for k in IncidentKind] if chosen == ALL_KINDS else [chosen]
    items_by = group_by or ITEMS_BY[0]
    if items_by not in ITEMS_BY:
        raise FilterInvalid(
            "group_by", f"group_by: {items_by!r} is not one of {', '.join(ITEMS_BY)}"
        )
    filters = InsightFilters(_midnight(start), _midnight(end), kinds, items_by)
    return filters, FormValues(start.isoformat(), end.isoformat(), chosen, items_by)
