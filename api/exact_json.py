"""JSON bodies read without changing a number: integers beyond 64 bits are refused.

orjson reads an integer outside -2^63 to 2^64-1 as the nearest float, so an order id of 30
digits sent in an alert's details would be stored as ``1.2345678901234568e+29``: a
different value, silently. Such a body is refused instead, naming the field, and the
sender can send the number as a string. Only a body with a run of 20 or more digits (2^64
has 20), or of 19 after a minus sign, can hold one, so every other body costs one scan
of its bytes.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

_SMALLEST = -(2**63)
_LARGEST = 2**64 - 1
_LONG_DIGITS = re.compile(rb"-[0-9]{19}|[0-9]{20}")


class InexactInteger(ValueError):
    """A JSON integer this service cannot store exactly, at ``path`` in the document."""

    def __init__(self, path: tuple[str | int, ...]) -> None:
        super().__init__(
            "an integer beyond 64 bits would not be stored exactly; send it as a string"
        )
        self.path = path

    @property
    def where(self) -> str:
        """The field's path, dotted (``details.order_id``)."""
        return ".".join(map(str, self.path)) or "the document"


def loads(body: bytes) -> Any:
    """``body`` as orjson reads it (its ``JSONDecodeError`` for what is not JSON);
    ``InexactInteger`` for an integer it would have read as a float."""
    data = orjson.loads(body)
    if _LONG_DIGITS.search(body) is None:
        return data
    try:
        exact = json.loads(body)  # Python's reader keeps every integer exact
    except RecursionError:
        raise orjson.JSONDecodeError(
            "nested too deeply", body.decode(errors="replace"), 0
        ) from None
    except ValueError:  # more digits than Python converts (4,300): too large, wherever
        raise InexactInteger(()) from None
    path = _too_large(exact)
    if path is not None:
        raise InexactInteger(path)
    return data


def _too_large(document: Any) -> tuple[str | int, ...] | None:
    """The path of the first integer outside the stored range, walked without recursion."""
    pending: list[tuple[tuple[str | int, ...], Any]] = [((), document)]
    while pending:
        path, value = pending.pop()
        if isinstance(value, int) and not isinstance(value, bool):
            if not _SMALLEST <= value <= _LARGEST:
                return path
        elif isinstance(value, dict):
            pending.extend(((*path, key), item) for key, item in reversed(value.items()))
        elif isinstance(value, list):
            pending.extend(
                ((*path, index), item) for index, item in reversed(list(enumerate(value)))
            )
    return None
