"""Opaque keyset cursors for paged reads of the read models.

A cursor is the sort key of a page's last row: two values joined by ``|``, in base64url
without padding. Each list has its own ``Keyset`` naming the row's key columns and how
to read them back; a cursor another list made, or nobody made, is an ``InvalidCursor``
(the API answers it with a 422 naming the ``cursor`` parameter).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

from projections.as_of import parse_number

A = TypeVar("A")
B = TypeVar("B")
R = TypeVar("R", bound=Mapping[str, Any])


class InvalidCursor(ValueError):
    """A cursor this list did not make."""

    def __init__(self, cursor: str) -> None:
        super().__init__("not a cursor of this list: pass the previous page's next value unchanged")
        self.cursor = cursor


def _aware_time(text: str) -> datetime:
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ValueError("naive time")
    # Compared in UTC: year 1 at +14:00 or year 9999 at -14:00 has no UTC date.
    parsed.astimezone(UTC)
    return parsed


def position(text: str) -> int:
    """A cursor's row number: ASCII digits within the database's integers."""
    number = parse_number(text)
    if number is None:
        raise ValueError("not a position")
    return number


def _text(value: object) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


@dataclass(frozen=True, slots=True)
class Keyset(Generic[A, B]):
    """The cursor of a list ordered by two columns; ``parse_*`` read each value back."""

    columns: tuple[str, str]
    parse_first: Callable[[str], A]
    parse_second: Callable[[str], B]

    def encode(self, row: Mapping[str, Any]) -> str:
        """The cursor pointing after ``row``."""
        first, second = (_text(row[column]) for column in self.columns)
        return base64.urlsafe_b64encode(f"{first}|{second}".encode()).decode().rstrip("=")

    def decode(self, cursor: str | None) -> tuple[A, B] | None:
        """The key a cursor points after (None without one); InvalidCursor when this list did not make it."""
        if not cursor:
            return None
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
            first, second = raw.split("|")
            return self.parse_first(first), self.parse_second(second)
        except (ValueError, OverflowError) as exc:
            raise InvalidCursor(cursor) from exc

    def page(self, rows: Sequence[R], limit: int) -> tuple[Sequence[R], str | None]:
        """The first ``limit`` of ``rows`` (read one more than that) and the next page's cursor."""
        page = rows[:limit]
        return page, self.encode(page[-1]) if len(rows) > limit else None


SUMMARIES_CURSOR: Keyset[datetime, UUID] = Keyset(("declared_at", "incident_id"), _aware_time, UUID)
"""Incident summaries, newest first: by (declared_at, incident_id)."""
BOARD_CURSOR: Keyset[date, int] = Keyset(("due_date", "position"), date.fromisoformat, position)
"""The action-item board, soonest due first: by (due_date, position)."""
TIMELINE_CURSOR: Keyset[datetime, int] = Keyset(("occurred_at", "position"), _aware_time, position)
"""A timeline, oldest first: by (occurred_at, position)."""
