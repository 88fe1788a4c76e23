"""The query values of the insights routes, read into what the queries take (or a 422 naming them)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from pydantic import TypeAdapter, ValidationError

from api.as_of_query import invalid_query
from application.input_times import EPOCH
from domain.values import IncidentKind, LabelKey
from projections.as_of import parse_time
from projections.insight_action_items import ACTION_ITEM_GROUPINGS
from projections.insight_queries import INCIDENT_GROUPINGS, LABEL_PREFIX, Grouping

DEFAULT_DAYS = 90
"""Without ``from``, the period starts this many days before its end."""
ALL_KINDS = "all"
DEFAULT_KINDS = (IncidentKind.INCIDENT.value,)

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_LABEL_KEY: TypeAdapter[str] = TypeAdapter(LabelKey)
_BOUND = (
    "must be a date (YYYY-MM-DD, midnight UTC) or an RFC 3339 time with a timezone,"
    " such as 2026-03-02T10:30:00Z"
)


def _moment(name: str, text: str) -> datetime:
    moment: datetime | None
    if _DATE.fullmatch(text):
        try:
            moment = datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
        except ValueError:
            moment = None
    else:
        moment = parse_time(text)
    if moment is None:
        raise invalid_query(name, text, f"{name} {_BOUND}")
    if moment < EPOCH:
        raise invalid_query(name, text, f"{name} is before 1970-01-01, the earliest accepted")
    return moment


def period(start: str | None, end: str | None, now: datetime) -> tuple[datetime, datetime]:
    """[from, to): ``to`` defaults to now, ``from`` to ``DEFAULT_DAYS`` days before ``to``."""
    upper = _moment("to", end) if end is not None else now
    lower = _moment("from", start) if start is not None else upper - timedelta(days=DEFAULT_DAYS)
    if lower >= upper:
        where, given = ("to", end) if end is not None else ("from", start)
        raise invalid_query(
            where,
            given or "",
            f"the period is empty: from ({lower.isoformat()}) must be before to"
            f" ({upper.isoformat()})",
        )
    return lower, upper


def incident_grouping(text: str) -> Grouping:
    """``severity``, ``service``, ``month``, ``week`` or ``label:<key>``."""
    if text in INCIDENT_GROUPINGS:
        return Grouping(text)
    if text.startswith(LABEL_PREFIX):
        key = text.removeprefix(LABEL_PREFIX)
        try:
            if _LABEL_KEY.validate_python(key) == key:
                return Grouping("label", key)
        except ValidationError:
            pass
        raise invalid_query(
            "group_by",
            text,
            "label:<key> needs a label key: a letter or _, then letters, digits, _, . or -"
            " (at most 63 characters)",
        )
    choices = ", ".join([*INCIDENT_GROUPINGS, "label:<key>"])
    raise invalid_query("group_by", text, f"group_by must be one of {choices}")


def action_item_grouping(text: str) -> str:
    """``kind``, ``owner`` or ``severity``."""
    if text not in ACTION_ITEM_GROUPINGS:
        choices = ", ".join(ACTION_ITEM_GROUPINGS)
        raise invalid_query("group_by", text, f"group_by must be one of {choices}")
    return text


def kinds(values: list[str] | None) -> list[str]:
    """The kinds asked for (repeated, or comma-separated), in the order of ``IncidentKind``."""
    if not values:
        return list(DEFAULT_KINDS)
    asked = {part.strip() for value in values for part in value.split(",")}
    if ALL_KINDS in asked:
        asked.discard(ALL_KINDS)
        asked |= {kind.value for kind in IncidentKind}
    known = {kind.value for kind in IncidentKind}
    unknown = sorted(asked - known)
    if unknown or not asked:
        choices = ", ".join([*(kind.value for kind in IncidentKind), ALL_KINDS])
        named = ", ".join(repr(k) for k in unknown) or "nothing"
        raise invalid_query(
            "kind", ",".join(values), f"kind names {named}; give one or more of {choices}"
        )
    return [kind.value for kind in IncidentKind if kind.value in asked]
