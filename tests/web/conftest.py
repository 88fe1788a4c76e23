"""The web interface on a fresh database of each backend, seen as a browser sees it.

A browser here is a ``TestClient`` that keeps cookies and follows no redirect, signed in
through the sign-in form with an API token: ``web`` holds every scope (the admin),
``reader`` only ``read``. ``sign_in(token)`` signs in any other token. The JSON API
client ``api`` speaks for the admin with a bearer token, which is how a test checks
what a page did (or that a refused form stored nothing). Fixtures are used by name;
for annotations, import ``WebUser`` under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

from api.app import create_app
from application.settings import Settings
from application.tokens import Scope, TokenStore

ADMIN_TOKEN = "il_web-admin-token"
"""Seeded through the ``admin_token`` setting; its name, the actor, is "admin"."""
READER_TOKEN = "il_web-reader-token"
"""A token named "rita" with the ``read`` scope only (created by the ``reader_token`` fixture)."""
HOME = "/ui/incidents"
_CSRF = re.compile(r'<input type="hidden" name="csrf_token" value="([^"]+)">')


def csrf_of(html: str) -> str:
    """The anti-forgery value a page's forms send back (every signed-in page has one)."""
    found = _CSRF.search(html)
    assert found is not None, "the page has no csrf_token field"
    return found.group(1)


class WebUser:
    """A browser signed in with one token: its cookies and its session's CSRF value."""

    def __init__(self, client: TestClient, csrf: str) -> None:
        self.client = client
        self.csrf = csrf

    def get(self, path: str, **params: str) -> Response:
        answer: Response = self.client.get(path, params=params)
        return answer

    def post(self, path: str, data: dict[str, Any] | None = None, *, csrf: bool = True) -> Response:
        """A form posted as the page posts it, with the session's CSRF value unless ``csrf`` is False."""
        fields = {**(data or {}), **({"csrf_token": self.csrf} if csrf else {})}
        answer: Response = self.client.post(path, data=fields)
        return answer


def signed_in_client(app: FastAPI, token: str, base_url: str = "http://testserver") -> TestClient:
    """A new browser (no redirects followed) after posting ``token`` to the sign-in form."""
    client = TestClient(app, base_url=base_url, follow_redirects=False)
    answer = client.post("/ui/sign-in", data={"token": token, "next": HOME})
    assert answer.status_code == 303, answer.text
    return client


@pytest.fixture
def web_settings(database_url: str) -> Settings:
    """What the app is built with; override it in a test module to change a setting."""
    return Settings(
        database_url=database_url, admin_token=ADMIN_TOKEN, events_stream_max_seconds=0.2
    )


@pytest.fixture
def admin_token(web_settings: Settings) -> str:
    """The token every scope is seeded with (its name, the actor, is "admin")."""
    token = web_settings.admin_token
    assert token is not None
    return token


@pytest.fixture
def web_app(web_settings: Settings) -> Iterator[FastAPI]:
    """The whole application with its lifespan running (engine, token store, sessions)."""
    app = create_app(web_settings)
    with TestClient(app):
        yield app


@pytest.fixture
def api(web_app: FastAPI, admin_token: str) -> TestClient:
    """The JSON API as the admin (bearer token, no cookies of any browser)."""
    return TestClient(web_app, headers={"Authorization": f"Bearer {admin_token}"})


@pytest.fixture
def tokens(web_app: FastAPI) -> TokenStore:
    store: TokenStore = web_app.state.tokens
    return store


@pytest.fixture
def sign_in(web_app: FastAPI) -> Callable[..., WebUser]:
    """``sign_in(token, base_url=...)``: a new browser signed in with ``token``."""

    def sign_in_with(token: str, base_url: str = "http://testserver") -> WebUser:
        client = signed_in_client(web_app, token, base_url)
        home = client.get(HOME)
        assert home.status_code == 200, home.text
        return WebUser(client, csrf_of(home.text))

    return sign_in_with


WRITER_TOKEN = "il_web-wes-token"
"""A read-write token named "wes", not an admin: the actor of everything his browser does."""


@pytest.fixture
def wes(tokens: TokenStore, sign_in: Callable[..., WebUser]) -> WebUser:
    """A person with a read-write token, signed in."""
    tokens.create("wes", {Scope.READ, Scope.WRITE}, WRITER_TOKEN)
    return sign_in(WRITER_TOKEN)


@pytest.fixture
def web(sign_in: Callable[..., WebUser], admin_token: str) -> WebUser:
    """A browser signed in as the admin: may read and change everything."""
    return sign_in(admin_token)


@pytest.fixture
def reader_token(tokens: TokenStore) -> str:
    """A read-only token ("rita")."""
    tokens.create("rita", {Scope.READ}, READER_TOKEN)
    return READER_TOKEN


@pytest.fixture
def reader(sign_in: Callable[..., WebUser], reader_token: str) -> WebUser:
    """A browser signed in with the read-only token: shown no forms but sign-out."""
    return sign_in(reader_token)
