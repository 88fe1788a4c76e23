"""The correlation id recorded with a command's events: the client's, or the request's own id."""

from __future__ import annotations

import re

from fastapi import Request
from fastapi.exceptions import RequestValidationError

HEADER = "x-correlation-id"
MAX_LENGTH = 200
"""The audit tables keep correlation ids in a column of this width."""

_VISIBLE_ASCII = re.compile(rf"[\x21-\x7e]{{1,{MAX_LENGTH}}}")


def is_usable_id(value: str) -> bool:
    """1 to 200 visible ASCII characters: the rule for correlation and request ids alike."""
    return _VISIBLE_ASCII.fullmatch(value) is not None


def correlation_id(request: Request, request_id: str | None) -> str | None:
    """``X-Correlation-ID`` when sent (422 unless 1 to 200 visible ASCII characters).

    Without one, the request id correlates the events: a command is then its own
    correlation.
    """
    value = request.headers.get(HEADER)
    if value is None or value == "":
        return request_id
    if not is_usable_id(value):
        raise RequestValidationError(
            [
                {
                    "loc": ("header", HEADER),
                    "msg": f"must be 1 to {MAX_LENGTH} visible ASCII characters (no spaces)",
                    "type": "value_error",
                    "input": value,
                }
            ]
        )
    return value
