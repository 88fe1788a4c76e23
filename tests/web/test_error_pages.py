"""Error pages under /ui: an unknown address, a malformed value in one, an incident that
does not exist and a page the token may not see are answered in HTML with the status
that says so, under the header every page has (signed in or not); the JSON API keeps
its problem documents. Each test runs on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

from tests.api.helpers import declare

if TYPE_CHECKING:
    from tests.web.conftest import WebUser

UNKNOWN = "0eb435bd-fd71-4121-81da-67a0f5d6c053"


def _error_page(answer: Response, status: int) -> str:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("text/html")
    html = answer.text
    assert '<section class="narrow card">' in html
    return html


def _signed_in_header(html: str, name: str) -> None:
    header = html[html.index('<header class="top">') : html.index("</header>")]
    assert f"Signed in as <strong>{name}</strong>" in header
    assert 'href="/ui/action-items"' in header
    assert 'action="/ui/sign-out"' in header


@pytest.mark.parametrize(
    ("path", "status", "said"),
    [
        ("/ui/nonexistent", 404, "there is no page at /ui/nonexistent"),
        ("/ui/incidents/not-a-uuid", 422, "not-a-uuid"),
        (f"/ui/incidents/{UNKNOWN}", 404, UNKNOWN),
        (f"/ui/incidents/{UNKNOWN}/postmortem", 404, UNKNOWN),
        ("/ui/incidents/{known}?as_of=yesterday", 422, "yesterday"),
        ("/ui/incidents/{known}/postmortem?revision=7", 404, "7"),
        ("/ui/incidents/{known}/fragments/nothing", 404, "nothing"),
    ],
)
def test_an_error_page_is_html_under_the_signed_in_header(
    api: TestClient, web: WebUser, path: str, status: int, said: str
) -> None:
    address, _, query = path.format(known=declare(api)).partition("?")
    name, _, value = query.partition("=")
    html = _error_page(web.get(address, **({name: value} if query else {})), status)
    assert said in html[html.index('<p class="error"') :]
    _signed_in_header(html, "admin")


def test_a_method_no_page_takes_is_an_error_page_naming_the_allowed_one(web: WebUser) -> None:
    answer = web.get(f"/ui/incidents/{UNKNOWN}/notes")
    _signed_in_header(_error_page(answer, 405), "admin")
    assert answer.headers["allow"] == "POST"


def test_a_page_the_token_may_not_see_keeps_its_header(reader: WebUser) -> None:
    html = _error_page(reader.get("/ui/webhooks"), 403)
    _signed_in_header(html, "rita")
    assert "(read only)" in html


def test_an_unknown_address_is_an_error_page_without_a_session_too(web_app: FastAPI) -> None:
    anonymous = TestClient(web_app, follow_redirects=False)
    html = _error_page(anonymous.get("/ui/nonexistent"), 404)
    assert 'class="brand"' in html
    assert "Signed in as" not in html
    assert "sign-out" not in html
    assert "csrf_token" not in html
    # What needs a session still asks for one first, malformed or not.
    for path in ("/ui/incidents/not-a-uuid", f"/ui/incidents/{UNKNOWN}"):
        assert anonymous.get(path).headers["location"].startswith("/ui/sign-in?next=")


@pytest.mark.parametrize(
    ("path", "status"), [("/nonexistent", 404), ("/incidents/not-a-uuid", 422)]
)
def test_the_json_api_keeps_its_problem_documents(api: TestClient, path: str, status: int) -> None:
    answer = api.get(path)
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["status"] == status
