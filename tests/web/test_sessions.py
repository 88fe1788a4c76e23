"""Signing in and out of the web interface, and what is and is not a session: the cookie's
flags, forged and expired cookies, revoked tokens and where ``next`` may lead. Each test
runs on SQLite and PostgreSQL."""

from __future__ import annotations

import string
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import itsdangerous.timed
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

from application.settings import Settings
from application.tokens import Scope, TokenStore, digest_of
from application.web_sessions import COOKIE_NAME, SessionCodec

if TYPE_CHECKING:
    from tests.web.conftest import WebUser

SESSION_KEY = "k" * 32
"""Fixed so a test can sign a cookie the way the service does."""
SESSION_HOURS = 2.0


@pytest.fixture
def web_settings(web_settings: Settings) -> Settings:
    return web_settings.model_copy(
        update={"session_key": SESSION_KEY, "session_hours": SESSION_HOURS}
    )


def anonymous(app: FastAPI, base_url: str = "http://testserver") -> TestClient:
    return TestClient(app, base_url=base_url, follow_redirects=False)


def sent_to_sign_in(response: Response) -> dict[str, list[str]]:
    """Asserts ``response`` sends the browser to the sign-in page; that page's query."""
    assert response.status_code == 303, response.text
    target = urlsplit(response.headers["location"])
    assert (target.scheme, target.netloc, target.path) == ("", "", "/ui/sign-in")
    return parse_qs(target.query)


def session_cookie(response: Response) -> str:
    """The Set-Cookie header that carries the session (the only cookie the service sets)."""
    cookies = response.headers.get_list("set-cookie")
    assert len(cookies) == 1, cookies
    assert cookies[0].startswith(f"{COOKIE_NAME}="), cookies
    return cookies[0]


def attributes(set_cookie: str) -> dict[str, str]:
    """A Set-Cookie header's attributes by lower-cased name (flags map to "")."""
    parts = [part.strip() for part in set_cookie.split(";")[1:]]
    return {name.lower(): value for name, _, value in (p.partition("=") for p in parts)}


def test_the_root_sends_people_to_the_incident_list(web_app: FastAPI) -> None:
    answer = anonymous(web_app).get("/")
    assert answer.is_redirect
    assert answer.headers["location"] == "/ui/incidents"


@pytest.mark.parametrize(
    "path", ["/ui/incidents", "/ui/action-items", "/ui/incidents?status=resolved"]
)
def test_an_anonymous_page_request_is_sent_to_sign_in_and_back(web_app: FastAPI, path: str) -> None:
    query = sent_to_sign_in(anonymous(web_app).get(path))
    assert query["next"] == [urlsplit(path).path]


def test_a_wrong_token_is_refused_at_sign_in_without_a_cookie(
    web_app: FastAPI, admin_token: str
) -> None:
    browser = anonymous(web_app)
    for token in ("il_not-a-token", admin_token + "x", ""):
        answer = browser.post("/ui/sign-in", data={"token": token, "next": "/ui/incidents"})
        assert answer.status_code == 401, answer.text
        assert "set-cookie" not in answer.headers
        assert 'id="sign-in-error"' in answer.text
    assert not browser.cookies


def test_sign_in_sets_an_http_only_lax_cookie_that_expires(
    web_app: FastAPI, admin_token: str
) -> None:
    answer = anonymous(web_app).post(
        "/ui/sign-in", data={"token": admin_token, "next": "/ui/action-items"}
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/ui/action-items"
    flags = attributes(session_cookie(answer))
    assert "httponly" in flags
    assert flags["samesite"].lower() == "lax"
    assert int(flags["max-age"]) == int(SESSION_HOURS * 3600)
    assert flags["path"] == "/"
    assert "secure" not in flags, "plain http cannot carry a Secure cookie back"
    assert admin_token not in session_cookie(answer), "the cookie must not hold the token"


def test_the_cookie_is_secure_when_the_request_is_https(web_app: FastAPI, admin_token: str) -> None:
    browser = anonymous(web_app, "https://testserver")
    answer = browser.post("/ui/sign-in", data={"token": admin_token, "next": "/ui/incidents"})
    assert answer.status_code == 303
    assert "secure" in attributes(session_cookie(answer))
    assert browser.get("/ui/incidents").status_code == 200


BASE64URL = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"


def test_a_forged_cookie_is_not_a_session(
    web_app: FastAPI, sign_in: Callable[..., WebUser], admin_token: str
) -> None:
    genuine = sign_in(admin_token).client.cookies[COOKIE_NAME]
    payload, _, signature = genuine.rpartition(".")
    other_key = SessionCodec("o" * 32, 3600).issue(digest_of(admin_token))[0]
    for forged in (
        f"{payload}.{'A' * len(signature)}",  # the signature replaced
        other_key,  # signed with another key
        genuine[:-1] + ("A" if genuine[-1] != "A" else "B"),  # one character changed
        genuine[:-1] + _spare_bit_flipped(genuine[-1]),  # the same signature, spelled anew
        "garbage",
    ):
        browser = anonymous(web_app)
        browser.cookies.set(COOKIE_NAME, forged)
        assert sent_to_sign_in(browser.get("/ui/incidents"))["next"] == ["/ui/incidents"]


def _spare_bit_flipped(last: str) -> str:
    """The signature's last base64 character with a bit flipped that decoding ignores (an
    HMAC-SHA1 of 20 bytes takes 27 characters: 162 bits for 160)."""
    return BASE64URL[BASE64URL.index(last) ^ 1]


def test_an_expired_cookie_is_not_a_session(
    web_app: FastAPI, monkeypatch: pytest.MonkeyPatch, admin_token: str
) -> None:
    long_ago = time.time() - SESSION_HOURS * 3600 - 60
    with monkeypatch.context() as patched:
        # Signed by the service's own key and codec, at a time just past the session's life.
        patched.setattr(itsdangerous.timed, "time", SimpleNamespace(time=lambda: long_ago))
        expired, _ = SessionCodec(SESSION_KEY, SESSION_HOURS * 3600).issue(digest_of(admin_token))
    fresh, _ = SessionCodec(SESSION_KEY, SESSION_HOURS * 3600).issue(digest_of(admin_token))
    browser = anonymous(web_app)
    browser.cookies.set(COOKIE_NAME, fresh)
    assert browser.get("/ui/incidents").status_code == 200, "the same key signs a live session"
    browser.cookies.set(COOKIE_NAME, expired)
    assert sent_to_sign_in(browser.get("/ui/incidents"))["next"] == ["/ui/incidents"]


def test_revoking_the_token_ends_the_session_at_once(
    sign_in: Callable[..., WebUser], tokens: TokenStore
) -> None:
    tokens.create("alice", {Scope.READ, Scope.WRITE}, "il_web-alice-token")
    alice = sign_in("il_web-alice-token")
    assert alice.get("/ui/incidents").status_code == 200
    known, principal = tokens.cached_digest(digest_of("il_web-alice-token"))
    assert known, "the lookup is cached for a few seconds"
    assert principal is not None
    assert tokens.revoke("alice")
    query = sent_to_sign_in(alice.get("/ui/incidents"))
    assert query == {"next": ["/ui/incidents"], "ended": ["1"]}
    after = alice.post("/ui/incidents", {"title": "After revocation", "severity": "SEV3"})
    sent_to_sign_in(after)


def test_sign_out_clears_the_cookie(web: WebUser) -> None:
    assert web.get("/ui/sign-out").status_code == 200
    answer = web.post("/ui/sign-out")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/ui/sign-in"
    cleared = attributes(session_cookie(answer))
    assert cleared["max-age"] == "0"
    assert not web.client.cookies.get(COOKIE_NAME)
    sent_to_sign_in(web.get("/ui/incidents"))
    assert web.get("/ui/sign-out").headers["location"] == "/ui/sign-in"


def test_sign_out_needs_the_session_s_csrf_value(web: WebUser) -> None:
    refused = web.client.post("/ui/sign-out", data={"csrf_token": "not-it"})
    assert refused.status_code == 403
    assert web.get("/ui/incidents").status_code == 200, "still signed in"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example",
        "//evil.example",
        "//evil.example/ui/incidents",
        "/\\evil.example",
        "https://testserver/ui/incidents",
        "javascript:alert(1)",
        "/incidents",
    ],
)
def test_next_never_leaves_the_interface(web_app: FastAPI, target: str, admin_token: str) -> None:
    browser = anonymous(web_app)
    page = browser.get("/ui/sign-in", params={"next": target})
    assert page.status_code == 200
    assert 'name="next" value="/ui/incidents"' in page.text
    answer = browser.post("/ui/sign-in", data={"token": admin_token, "next": target})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/ui/incidents"


def test_a_sign_in_posted_from_another_site_is_refused(web_app: FastAPI, admin_token: str) -> None:
    answer = anonymous(web_app).post(
        "/ui/sign-in",
        data={"token": admin_token, "next": "/ui/incidents"},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert answer.status_code == 403
    assert "set-cookie" not in answer.headers
