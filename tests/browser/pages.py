"""What the browser tests share: the served site, the console watcher, signing in and
declaring through the forms, and asking the JSON API (as the admin) what was stored."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from playwright.sync_api import ConsoleMessage, Page, expect

from tests.integration.servers import ADMIN_TOKEN

WRITER_TOKEN = "il_browser-alice-token"
READER_TOKEN = "il_browser-rita-token"
INCIDENT_URL = re.compile(r"/ui/incidents/([0-9a-f-]{36})$")
"""An incident page's address, without a query: the page a declaration lands on."""


@dataclass(frozen=True)
class Site:
    """A running service: its address, backend and the tokens signed in with."""

    url: str
    backend: str
    database_url: str
    admin_token: str = ADMIN_TOKEN
    writer_token: str = WRITER_TOKEN
    reader_token: str = READER_TOKEN


class Console:
    """What the test's pages logged as errors, threw, or had blocked by the policy."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self._allowed: list[re.Pattern[str]] = []

    def watch(self, page: Page) -> None:
        page.on("console", self._logged)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))

    def _logged(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"{message.text} ({message.location.get('url', '')})")

    def allow(self, pattern: str) -> None:
        """Expect errors matching ``pattern`` (a refused form's 403 is logged as one)."""
        self._allowed.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in self._allowed)]


def unique(text: str) -> str:
    """``text`` with a suffix of its own, so tests sharing a server never see each other's."""
    return f"{text} {uuid.uuid4().hex[:6]}"


def sign_in(page: Page, token: str, next_page: str = "/ui/incidents") -> None:
    """Sign in through the sign-in form, as sent there from ``next_page``."""
    page.goto(next_page)
    expect(page).to_have_url(re.compile(r"/ui/sign-in\?next="))
    page.fill("#token", token)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(re.escape(next_page) + "$"))


def declare(page: Page, title: str, severity: str = "SEV2", services: str = "checkout") -> str:
    """Declare an incident through the list's form; the new incident's id."""
    page.goto("/ui/incidents")
    form = page.locator("#declare-form")
    form.locator("[name=title]").fill(title)
    form.locator("[name=severity]").select_option(severity)
    form.locator("[name=services]").fill(services)
    form.get_by_role("button", name="Declare").click()
    expect(page).to_have_url(INCIDENT_URL)
    found = INCIDENT_URL.search(page.url)
    assert found is not None
    return found.group(1)


def admin(site: Site) -> httpx.Client:
    """The JSON API as the admin (a bearer token: no browser session involved)."""
    return httpx.Client(
        base_url=site.url, headers={"Authorization": f"Bearer {site.admin_token}"}, timeout=10
    )


def api(site: Site, method: str, path: str, body: Any = None) -> Any:
    """One JSON API call as the admin, which must succeed; its answer."""
    with admin(site) as client:
        answer = client.request(method, path, json=body)
    assert answer.is_success, f"{method} {path}: {answer.status_code} {answer.text}"
    return answer.json() if answer.content else None


def titles(site: Site) -> list[str]:
    """Every stored incident's title (as the JSON API lists them, up to 200)."""
    return [item["title"] for item in api(site, "GET", "/incidents?limit=200")["items"]]


def events(site: Site, incident_id: str) -> list[dict[str, Any]]:
    """The incident's events in log order, as GET /events gives them (position, type, data)."""
    found: list[dict[str, Any]] = api(site, "GET", f"/events?stream={incident_id}&limit=1000")[
        "events"
    ]
    return found
