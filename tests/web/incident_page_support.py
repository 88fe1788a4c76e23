"""What the incident page's tests share: its path, the parts of its HTML, and reads of the
JSON API that check what the page showed or stored."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

from fastapi.testclient import TestClient

from tests.api.helpers import declare, ok


def declare_started_an_hour_ago(api: TestClient) -> str:
    """An incident that started an hour ago, so forms can back-date things into it."""
    started = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    return declare(api, title="Checkout returns 502", services=["checkout"], started_at=started)


def page(incident_id: str) -> str:
    return f"/ui/incidents/{incident_id}"


def form_time(moment: datetime) -> str:
    """A moment as a ``datetime-local`` field sends it (read as UTC)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def block(html: str, opening: str) -> str:
    """The element that starts with ``opening``, up to the matching close of its tag."""
    start = html.index(opening)
    tag = opening[1:].split()[0]
    depth = 0
    for found in re.finditer(rf"<(/?){tag}\b", html[start:]):
        depth += -1 if found.group(1) else 1
        if depth == 0:
            end = start + found.start()
            return html[start : html.index(">", end) + 1]
    raise AssertionError(f"{opening} is never closed")


def summary_of(api: TestClient, incident_id: str) -> dict[str, Any]:
    return ok(api.get(f"/incidents/{incident_id}"))


def entries(api: TestClient, incident_id: str, **query: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = ok(api.get(f"/incidents/{incident_id}/timeline", params=query))[
        "entries"
    ]
    return found


def add_note(api: TestClient, incident_id: str, text: str) -> dict[str, Any]:
    return ok(api.post(f"/incidents/{incident_id}/notes", json={"text": text}), 201)


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "form":
            self.forms.append(dict(attrs))


def forms_of(html: str) -> list[dict[str, str | None]]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms
