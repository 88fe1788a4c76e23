"""Links to the next page of a paged list; the cursors themselves are projections.keysets."""

from __future__ import annotations

from fastapi import Request

from projections.keysets import BOARD_CURSOR, SUMMARIES_CURSOR, TIMELINE_CURSOR

__all__ = ["BOARD_CURSOR", "SUMMARIES_CURSOR", "TIMELINE_CURSOR", "next_link"]


def next_link(request: Request, cursor: str | None) -> str | None:
    """The URL of the next page: this request's URL with its cursor replaced."""
    if cursor is None:
        return None
    return str(request.url.include_query_params(cursor=cursor))
