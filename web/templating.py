"""The Jinja2 environment of the web interface: autoescaping on, and the filters pages
use to show times, durations and Markdown the same way everywhere."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.templating import Jinja2Templates

from web.markdown import render_markdown

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
HTMX = "htmx-2.0.11.min.js"

LATE_AFTER = timedelta(minutes=1)
"""An entry recorded this much after it happened says so ("written 40 min later")."""


def when(value: datetime | None) -> str:
    """A moment as people read it in an incident: UTC, to the second."""
    if value is None:
        return "—"
    return value.strftime("%Y-%m-%d %H:%M:%S UTC")


def field_time(value: datetime) -> str:
    """A moment as a ``datetime-local`` field holds it: UTC, to the second (forms read UTC)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def duration(seconds: float | None) -> str:
    """A span in the largest two units that matter: ``3 d 4 h``, ``1 h 5 min``, ``42 s``."""
    if seconds is None:
        return "—"
    total = round(seconds)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (minutes, "min"), (secs, "s")]
    shown = [f"{n} {unit}" for n, unit in parts if n][:2]
    return " ".join(shown) or "0 s"


def written_later(occurred_at: datetime, recorded_at: datetime) -> str | None:
    """How long after it happened an entry was written, when that is worth saying."""
    gap = recorded_at - occurred_at
    if gap < LATE_AFTER:
        return None
    return f"written {duration(gap.total_seconds())} later"


def _templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=TEMPLATES)  # autoescape is on for every template
    env = templates.env
    env.filters["when"] = when
    env.filters["duration"] = duration
    env.filters["field_time"] = field_time
    env.filters["markdown"] = render_markdown
    env.globals["written_later"] = written_later
    env.globals["htmx"] = HTMX
    env.trim_blocks = True
    env.lstrip_blocks = True
    return templates


templates = _templates()
