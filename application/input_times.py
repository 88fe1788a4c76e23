"""Times in requests: strings with a timezone, no earlier than 1970-01-01T00:00:00Z.

Left to itself pydantic reads ``1764756000`` (or ``"1764756000"``) as a Unix time and
``0001-01-01T00:00:00Z`` as a real moment. Neither is what a careless client meant: the
number hides its unit and timezone, and year 1 turns a duration into 739952 days. So
every time a request carries is a string, and nothing happened before 1970. The stored
events keep the permissive ``UtcDatetime``: they must decode whatever was once written.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator
from pydantic_core import PydanticCustomError

from domain.values import UtcDatetime

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
EXAMPLE = "2026-03-02T10:30:00Z"
GO_ZERO_TIME = datetime(1, 1, 1, tzinfo=UTC)
"""Alertmanager's and Grafana's ``endsAt`` of an alert that still fires: Go's zero time."""
PLUS_HINT = " (a '+' in a URL query means a space: write it as %2B)"

_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})", re.ASCII
)
_ISO8601 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}\S*", re.ASCII)
"""PagerDuty documents "ISO 8601" and its own example has ``+0000``: looser than RFC 3339."""
_LOST_PLUS = re.compile(r".*\d \d{2}:?\d{2}", re.ASCII)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def _refuse(value: Any, *, pattern: re.Pattern[str], form: str, query: bool) -> Any:
    if isinstance(value, datetime):  # built in Python, not parsed: already a moment
        return value
    if isinstance(value, str) and pattern.fullmatch(value):
        return value
    if isinstance(value, str):
        message = "not {form} time with a timezone, such as {example}{hint}"
    elif isinstance(value, int | float) and not isinstance(value, bool):
        message = "a number is not a time: give {form} string with a timezone, such as {example}"
    else:
        message = "not a time: give {form} string with a timezone, such as {example}"
    hint = PLUS_HINT if query and isinstance(value, str) and _LOST_PLUS.fullmatch(value) else ""
    context = {"form": form, "example": EXAMPLE, "hint": hint}
    raise PydanticCustomError("datetime_format", message, context)


def _body_time(value: Any) -> Any:
    return _refuse(value, pattern=_RFC3339, form="an RFC 3339", query=False)


def _query_time(value: Any) -> Any:
    return _refuse(value, pattern=_RFC3339, form="an RFC 3339", query=True)


def _iso_time(value: Any) -> Any:
    return _refuse(value, pattern=_ISO8601, form="an ISO 8601", query=False)


def _date_text(value: Any) -> Any:
    if isinstance(value, date) or (isinstance(value, str) and _DATE.fullmatch(value)):
        return value
    raise PydanticCustomError(
        "date_format",
        "not a date: give a string YYYY-MM-DD, such as {example}",
        {"example": "2026-03-16"},
    )


def _since_epoch(value: datetime) -> datetime:
    if value < EPOCH:
        raise PydanticCustomError(
            "datetime_too_early",
            "{value} is before 1970-01-01T00:00:00Z, the earliest time accepted",
            {"value": value.isoformat()},
        )
    return value


def _since_epoch_or_unset(value: datetime) -> datetime:
    return value if value == GO_ZERO_TIME else _since_epoch(value)


RequestDate = Annotated[date, BeforeValidator(_date_text)]
"""A date in a request body: YYYY-MM-DD, never a number of seconds."""

RequestTime = Annotated[UtcDatetime, BeforeValidator(_body_time), AfterValidator(_since_epoch)]
"""A time in a request body: an RFC 3339 string with a timezone, 1970 or later, in UTC."""

QueryTime = Annotated[UtcDatetime, BeforeValidator(_query_time), AfterValidator(_since_epoch)]
"""The same in a query string, where a refusal hints at the ``+`` that became a space."""

SenderTime = Annotated[UtcDatetime, BeforeValidator(_iso_time), AfterValidator(_since_epoch)]
"""A monitoring system's ISO 8601 time (PagerDuty's ``payload.timestamp``), 1970 or later."""

AlertmanagerTime = Annotated[UtcDatetime, BeforeValidator(_body_time), AfterValidator(_since_epoch)]
"""Alertmanager's and Grafana's ``startsAt``: Go's RFC 3339 with nanoseconds."""

AlertmanagerEnd = Annotated[
    UtcDatetime, BeforeValidator(_body_time), AfterValidator(_since_epoch_or_unset)
]
"""Their ``endsAt``: a real time, or Go's zero time for "still firing"."""
