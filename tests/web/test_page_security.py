"""What keeps the pages safe: anti-forgery values on every change, read-only tokens shown
no forms, the headers every page carries, no inline code for a policy to forbid, escaped
user text, the pinned front-end files, and a JSON API that a cookie may only read. Each
test runs on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient

from tests.api.helpers import declare, nothing_stored

if TYPE_CHECKING:
    from tests.web.conftest import WebUser

XSS_TITLE = "<img src=x onerror=alert(1)>"
PAGES = [
    "/ui/incidents",
    "/ui/incidents?status=investigating",
    "/ui/incidents/{id}",
    "/ui/incidents/{id}?as_of=1",
    "/ui/incidents/{id}/fragments/timeline",
    "/ui/incidents/{id}/fragments/relations",
    "/ui/incidents/{id}/postmortem",
    "/ui/incidents/{id}/postmortem/diff",
    "/ui/action-items",
    "/ui/insights",
    "/ui/search?q=pool",
    "/ui/sign-out",
    "/ui/incidents/00000000-0000-4000-8000-000000000000",
]
"""Every page a signed-in browser can ask for; ``{id}`` is an incident with some history."""


@dataclass
class Form:
    method: str
    action: str
    fields: list[str] = field(default_factory=list)


class _Reader(HTMLParser):
    """The forms of a page and anything in it a Content-Security-Policy would have to allow."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self.open: Form | None = None
        self.inline: list[str] = []
        self.files: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "form":
            method = (named.get("method") or "get").lower()
            self.open = Form(method, named.get("action") or "")
            self.forms.append(self.open)
        elif tag in {"input", "textarea", "select", "button"} and self.open is not None:
            self.open.fields.append(named.get("name") or "")
        if (tag == "script" and "src" not in named) or tag == "style":
            self.inline.append(f"<{tag}> element")
        self.inline.extend(f"{name}= on <{tag}>" for name in named if name.startswith("on"))
        if "style" in named:
            self.inline.append(f"style= on <{tag}>")
        for name in ("src", "href"):
            target = named.get(name) or ""
            if target.startswith("/ui/static/"):
                self.files.append(target)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.open = None


def read(html: str) -> _Reader:
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return reader


@pytest.fixture
def incident_id(api: TestClient) -> str:
    """An incident with a note, an action item and a postmortem section."""
    incident = declare(api, title="Checkout returns 502")
    note = api.post(f"/incidents/{incident}/notes", json={"text": "Rolled back v2.3"})
    assert note.status_code == 201, note.text
    due = (datetime.now(UTC) + timedelta(days=14)).date().isoformat()
    item = {"title": "Alert on pool use", "kind": "preventative", "owner": "alice", "due_date": due}
    assert api.post(f"/incidents/{incident}/action-items", json=item).status_code == 201
    section = api.put(f"/incidents/{incident}/postmortem/sections/summary", json={"text": "Pool."})
    assert section.status_code == 200, section.text
    return incident


def incident_titles(api: TestClient) -> list[str]:
    answer = api.get("/incidents")
    assert answer.status_code == 200, answer.text
    return [item["title"] for item in answer.json()["items"]]


def test_a_form_without_the_session_s_csrf_value_is_refused(
    api: TestClient, web: WebUser, sign_in: Callable[..., WebUser], admin_token: str
) -> None:
    declaration = {"title": "Forged", "severity": "SEV2", "services": "checkout"}
    other = sign_in(admin_token)
    assert other.csrf != web.csrf, "each session has its own value"
    with nothing_stored(api):
        assert web.post("/ui/incidents", declaration, csrf=False).status_code == 403
        forged = {**declaration, "csrf_token": other.csrf}
        assert web.client.post("/ui/incidents", data=forged).status_code == 403
        as_header = {"X-CSRF-Token": other.csrf}
        header = web.client.post("/ui/incidents", data=declaration, headers=as_header)
        assert header.status_code == 403
    assert incident_titles(api) == []
    assert web.post("/ui/incidents", declaration).status_code == 303
    assert incident_titles(api) == ["Forged"]


def test_an_incident_page_form_needs_the_csrf_value_too(
    api: TestClient, web: WebUser, incident_id: str
) -> None:
    with nothing_stored(api):
        note = {"text": "Forged note"}
        assert web.post(f"/ui/incidents/{incident_id}/notes", note, csrf=False).status_code == 403
        section = {"text": "Forged"}
        path = f"/ui/incidents/{incident_id}/postmortem/sections/impact"
        assert web.post(path, section, csrf=False).status_code == 403
        for action, data in [
            ("postmortem/review", {"reviewers": "bob"}),
            ("postmortem/approve", {}),
            ("postmortem/due-date", {"due_date": "2030-01-01"}),
            ("labels", {"labels": "team=payments"}),
        ]:
            forged = web.post(f"/ui/incidents/{incident_id}/{action}", data, csrf=False)
            assert forged.status_code == 403, action


@pytest.mark.parametrize("page", PAGES)
def test_a_read_token_is_shown_no_form_but_sign_out(
    reader: WebUser, incident_id: str, page: str
) -> None:
    answer = reader.get(page.format(id=incident_id))
    forms = read(answer.text).forms
    changing = [f for f in forms if f.method != "get" and f.action != "/ui/sign-out"]
    assert changing == [], f"{page} shows a read-only token forms that change things"
    with_csrf = [f.action for f in forms if "csrf_token" in f.fields]
    assert with_csrf in ([], ["/ui/sign-out"]), f"{page} gives a read-only token a CSRF value"


def test_a_read_token_s_posts_are_refused(
    api: TestClient, reader: WebUser, incident_id: str
) -> None:
    posts: list[tuple[str, dict[str, Any]]] = [
        ("/ui/incidents", {"title": "Reader's incident", "severity": "SEV3"}),
        (f"/ui/incidents/{incident_id}/notes", {"text": "Reader's note"}),
        (f"/ui/incidents/{incident_id}/status", {"status": "identified"}),
        (f"/ui/incidents/{incident_id}/acknowledge", {}),
        (f"/ui/incidents/{incident_id}/postmortem/sections/impact", {"text": "Reader's"}),
        (f"/ui/incidents/{incident_id}/postmortem/review", {"reviewers": "rita"}),
        (f"/ui/incidents/{incident_id}/postmortem/approve", {}),
        (f"/ui/incidents/{incident_id}/postmortem/request-changes", {"comment": "Why?"}),
        (f"/ui/incidents/{incident_id}/postmortem/due-date", {"due_date": "2030-01-01"}),
        (f"/ui/incidents/{incident_id}/labels", {"labels": "team=payments"}),
        (f"/ui/incidents/{incident_id}/kind", {"kind": "drill"}),
    ]
    with nothing_stored(api):
        for path, data in posts:
            assert reader.post(path, data).status_code == 403, path


@pytest.mark.parametrize("page", [*PAGES, "/ui/sign-in", "/ui/static/app.css"])
def test_every_page_carries_the_security_headers(web: WebUser, incident_id: str, page: str) -> None:
    answer = web.get(page.format(id=incident_id))
    assert answer.status_code in {200, 404}, answer.text
    policy = answer.headers["content-security-policy"]
    assert "'unsafe-inline'" not in policy
    assert "'unsafe-eval'" not in policy
    directives = {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_the_sign_in_redirect_carries_the_security_headers_too(api: TestClient) -> None:
    anonymous = TestClient(api.app, follow_redirects=False)
    answer = anonymous.get("/ui/incidents")
    assert answer.status_code == 303
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]


@pytest.mark.parametrize("page", [*PAGES, "/ui/sign-in"])
def test_no_page_holds_inline_code_and_every_file_it_loads_is_served(
    web: WebUser, incident_id: str, page: str
) -> None:
    html = web.get(page.format(id=incident_id)).text
    found = read(html)
    assert found.inline == [], f"{page} needs a policy that allows {found.inline}"
    for path in set(found.files):
        assert web.get(path).status_code == 200, f"{page} loads {path}, which is not served"


def test_the_pinned_htmx_is_served_with_its_licence(web: WebUser) -> None:
    scripts = [f for f in read(web.get("/ui/incidents").text).files if "htmx" in f]
    assert len(scripts) == 1, scripts
    pinned = scripts[0]
    assert pinned.removeprefix("/ui/static/htmx-").removesuffix(".min.js").count(".") == 2
    script = web.get(pinned)
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert "htmx" in script.text
    assert len(script.content) > 10_000
    licence = web.get("/ui/static/htmx-LICENSE.txt")
    assert licence.status_code == 200
    assert "Zero-Clause BSD" in licence.text


def test_the_json_api_accepts_the_session_cookie_only_for_reading(
    api: TestClient, web: WebUser, incident_id: str
) -> None:
    assert web.get("/incidents").status_code == 200
    assert web.get(f"/incidents/{incident_id}/timeline").status_code == 200
    with nothing_stored(api):
        body = {"title": "By cookie", "severity": "SEV2"}
        assert web.client.post("/incidents", json=body).status_code == 401
        with_header = web.client.post("/incidents", json=body, headers={"X-CSRF-Token": web.csrf})
        assert with_header.status_code == 401
        note = web.client.post(f"/incidents/{incident_id}/notes", json={"text": "By cookie"})
        assert note.status_code == 401


def test_a_title_with_markup_is_shown_as_text(api: TestClient, web: WebUser) -> None:
    declared = web.post("/ui/incidents", {"title": XSS_TITLE, "severity": "SEV2"})
    assert declared.status_code == 303
    assert incident_titles(api) == [XSS_TITLE]
    for page in ("/ui/incidents", declared.headers["location"]):
        html = web.get(page).text
        assert "&lt;img src=x onerror=alert(1)&gt;" in html, page
        assert XSS_TITLE not in html, page
        assert read(html).inline == [], page
