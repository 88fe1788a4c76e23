"""Times as the log stores them on SQLite (naive UTC text), and the text each came from.

A rebuild writes most of the times it reads back into the read models: an entry's
occurred and recorded times, a summary's last update. Formatting a datetime as text
costs many times more than looking up the text it was just parsed from, so the texts
of the times parsed most recently are kept, a bounded number of them.
"""

from __future__ import annotations

from datetime import UTC, datetime

_LENGTH = len("YYYY-MM-DD HH:MM:SS.ffffff")
_KEPT = 16_384

_texts: dict[datetime, str] = {}


def parse_stored_time(text: str) -> datetime:
    """The aware UTC datetime of a stored time."""
    if len(text) == _LENGTH and text[10] == " " and text[19] == ".":
        # With its offset written out, parsing is several times quicker than replace().
        moment = datetime.fromisoformat(text + "+00:00")
        if len(_texts) >= _KEPT:
            _texts.clear()
        _texts[moment] = text
        return moment
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def stored_text(moment: datetime) -> str | None:
    """The stored text of a recently parsed time equal to ``moment`` (None if not kept).

    Equal aware datetimes are the same instant, so they have the same UTC text.
    """
    return _texts.get(moment)
