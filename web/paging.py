"""Where a page of a keyset-paged list stands: which rows it shows (numbered from the first
page), the way back to the first page and the way on to the next.

A keyset cursor says where a page starts, not how many rows came before it: counting them
would cost as much as reading them. So the next page's link carries ``start``, the number
of its first row, along with its cursor. A page reached without it (an old link, an
address typed by hand) shows its rows but not their numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.datastructures import URL

MAX_START = 10**9


@dataclass(frozen=True, slots=True)
class Paging:
    first: int | None
    """The number of the page's first row (1 on the first page); None when not known."""
    shown: int
    first_url: str | None
    """The list's first page with the same filters; None on the first page."""
    next_url: str | None

    @property
    def last(self) -> int | None:
        return None if self.first is None else self.first + self.shown - 1


def _relative(url: URL) -> str:
    return f"{url.path}?{url.query}" if url.query else url.path


def _number(text: str | None) -> int | None:
    if text is None or not text.isascii() or not text.isdigit():
        return None
    number = int(text)
    return number if 1 <= number <= MAX_START else None


def paging(
    url: URL, cursor: str | None, start: str | None, shown: int, next_cursor: str | None
) -> Paging:
    """The paging of a page of the list at ``url`` (its filters, without cursor or start),
    asked for with ``cursor`` and ``start``, which shows ``shown`` rows and is followed by
    ``next_cursor`` (None on the last page)."""
    first = _number(start) if cursor else 1
    plain = url.remove_query_params(["cursor", "start"])
    following = None
    if next_cursor is not None:
        onward = {"cursor": next_cursor}
        if first is not None:
            onward["start"] = str(first + shown)
        following = _relative(plain.include_query_params(**onward))
    return Paging(first, shown, _relative(plain) if cursor else None, following)
