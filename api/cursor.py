"""Opaque keyset cursors for paginated lists."""

from __future__ import annotations

import base64
from datetime import date, datetime
from uuid import UUID

from fastapi import Request
from fastapi.exceptions import RequestValidationError


def _refused(cursor: str) -> RequestValidationError:
    """A 422 naming the ``cursor`` query value, like every other bad query value."""
    error = {
        "loc": ("query", "cursor"),
        "msg": "not a cursor of this list: pass the previous page's next value unchanged",
        "type": "cursor_invalid",
        "input": cursor,
    }
    return RequestValidationError([error])


def encode_cursor(at: datetime, key: UUID) -> str:
    raw = f"{at.isoformat()}|{key}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    """The (time, id) a cursor points after; 422 when this service did not make it."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, key = raw.split("|")
        parsed = datetime.fromisoformat(at)
        if parsed.tzinfo is None:
            raise ValueError("naive time")
        return parsed, UUID(key)
    except ValueError as exc:
        raise _refused(cursor) from exc


def encode_board_cursor(due: date, position: int) -> str:
    """A cursor after an action item on the board, which is ordered by (due date, position)."""
    raw = f"{due.isoformat()}|{position}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_board_cursor(cursor: str) -> tuple[date, int]:
    """The (due date, position) a board cursor points after; 422 when it is not one."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        due, position = raw.split("|")
        return date.fromisoformat(due), int(position)
    except ValueError as exc:
        raise _refused(cursor) from exc


def encode_timeline_cursor(occurred_at: datetime, position: int) -> str:
    """A cursor after a timeline entry; the timeline is ordered by (occurred_at, position)."""
    raw = f"{occurred_at.isoformat()}|{position}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_timeline_cursor(cursor: str) -> tuple[datetime, int]:
    """The (occurred_at, position) a timeline cursor points after; 422 when it is not one."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, position = raw.split("|")
        parsed = datetime.fromisoformat(at)
        if parsed.tzinfo is None:
            raise ValueError("naive time")
        return parsed, int(position)
    except ValueError as exc:
        raise _refused(cursor) from exc


def next_link(request: Request, cursor: str | None) -> str | None:
    """The URL of the next page: this request's URL with its cursor replaced."""
    if cursor is None:
        return None
    return str(request.url.include_query_params(cursor=cursor))
