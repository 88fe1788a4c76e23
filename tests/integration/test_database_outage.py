"""PostgreSQL goes away for real: the service reaches it through a TCP proxy the test cuts.

While it is cut every route that needs the database answers 503 problem+json with
Retry-After and "database unreachable" (the token lookup included, whether the token is
cached or not), nothing is stored, the keep-alive connection stays usable, no log line
carries the caller's token; when it is back, the service works again by itself.
"""

from __future__ import annotations

import http.client
import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from api.app import create_app
from application.integrations import IntegrationKind, IntegrationStore
from application.settings import Settings
from application.tokens import Scope, TokenStore
from eventstore.engine import create_engine
from eventstore.schema import events
from tests.api.hooks_support import ENQUEUE, signed_headers
from tests.integration.servers import ADMIN_TOKEN, incidents_server
from tests.support.captures import captured
from tests.tcp_proxy import TcpProxy

pytestmark = pytest.mark.postgres

DECLARE = {"title": "Checkout returns 502", "severity": "SEV2", "services": ["checkout"]}


@pytest.fixture
def direct_url(postgres_url: str) -> str:
    """The fresh PostgreSQL database, addressed directly (not through the proxy)."""
    return postgres_url


@pytest.fixture
def proxy(direct_url: str) -> Iterator[TcpProxy]:
    parsed = make_url(direct_url)
    with TcpProxy(parsed.host or "127.0.0.1", parsed.port or 5432) as running:
        yield running


def through(proxy: TcpProxy, direct_url: str) -> str:
    return make_url(direct_url).set(port=proxy.port).render_as_string(hide_password=False)


def stored_events(direct_url: str) -> int:
    engine = create_engine(direct_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(events)).scalar_one())
    finally:
        engine.dispose()


def assert_unreachable(response: httpx.Response, what: str) -> None:
    assert response.status_code == 503, f"{what}: {response.status_code} {response.text}"
    assert response.headers["content-type"] == "application/problem+json", what
    assert int(response.headers["retry-after"]) > 0, what
    body = response.json()
    assert body["status"] == 503
    assert body["detail"].startswith("database unreachable"), (what, body)


def sample_path(path: str) -> str:
    """An OpenAPI path with every parameter filled (ids that exist or not: no matter)."""
    return re.sub(r"\{[^}]+\}", lambda _: str(uuid.uuid4()), path)


UNAUTHENTICATED = {"/healthz", "/hooks/generic", ENQUEUE}
"""Routes without a bearer token: liveness, and the hooks with credentials of their own."""


def test_every_route_answers_503_while_the_database_is_away(
    proxy: TcpProxy, direct_url: str
) -> None:
    settings = Settings(database_url=through(proxy, direct_url), admin_token=ADMIN_TOKEN)
    with TestClient(create_app(settings)) as client:
        client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        app_state: Any = client.app.state  # type: ignore[attr-defined]
        tokens: TokenStore = app_state.tokens
        tokens.cache_seconds = 3600  # the admin token stays cached for the whole test
        uncached = tokens.create("reader-never-seen", {Scope.ADMIN})
        store: IntegrationStore = app_state.integrations
        pagerduty = store.create("pd", IntegrationKind.PAGERDUTY).credential
        generic = store.create("generic-sender", IntegrationKind.GENERIC).credential
        declared = client.post("/incidents", json=DECLARE)
        assert declared.status_code == 201, declared.text
        incident = declared.json()["id"]
        assert client.get("/readyz").status_code == 200
        before = stored_events(direct_url)
        paths = client.get("/openapi.json").json()["paths"]

        proxy.cut()
        # The token lookup itself (a token never seen): every authenticated route.
        stranger = TestClient(client.app, headers={"Authorization": f"Bearer {uncached}"})
        for path, operations in paths.items():
            if path in UNAUTHENTICATED:
                continue
            for method, operation in operations.items():
                # A body only where the operation takes one: elsewhere it is refused (400).
                body = {} if "requestBody" in operation else None
                response = stranger.request(method.upper(), sample_path(path), json=body)
                assert_unreachable(response, f"{method.upper()} {path} (token lookup)")
        # With the token cached, the route's own reads and writes.
        for method, path, body in [
            ("POST", "/incidents", DECLARE),
            ("GET", "/incidents", None),
            ("GET", f"/incidents/{incident}", None),
            ("GET", f"/incidents/{incident}/timeline", None),
            ("POST", f"/incidents/{incident}/notes", {"text": "restarted the pool"}),
            ("POST", f"/incidents/{incident}/status", {"status": "identified"}),
            ("GET", f"/incidents/{incident}/postmortem", None),
            ("GET", "/action-items", None),
            ("GET", "/events", None),
            ("GET", "/events/stream", None),
            ("GET", "/metrics", None),
            ("GET", "/readyz", None),
            ("POST", "/hooks/alertmanager", captured("alertmanager-0.25-firing")),
        ]:
            assert_unreachable(client.request(method, path, json=body), f"{method} {path}")
        anonymous = TestClient(client.app)
        assert_unreachable(anonymous.get("/readyz"), "GET /readyz without a token")
        assert anonymous.get("/healthz").status_code == 200
        generic_body = json.dumps({"title": "Queue backlog", "severity": "SEV3"}).encode()
        assert_unreachable(
            anonymous.post(
                "/hooks/generic",
                content=generic_body,
                headers=signed_headers(generic, generic_body, "generic-sender"),
            ),
            "POST /hooks/generic",
        )
        trigger = {
            "routing_key": pagerduty,
            "event_action": "trigger",
            "payload": {"summary": "Disk full on db-01", "source": "db-01", "severity": "critical"},
        }
        assert_unreachable(anonymous.post(ENQUEUE, json=trigger), "POST " + ENQUEUE)

        proxy.restore()
        assert stored_events(direct_url) == before  # nothing partial, nothing at all
        # Back by itself: the pool replaces the connections the cut killed.
        assert client.get("/readyz").status_code == 200
        assert client.get(f"/incidents/{incident}").status_code == 200
        assert client.post("/incidents", json=DECLARE).status_code == 201
        assert stranger.get("/incidents").status_code == 200
        assert anonymous.post(ENQUEUE, json=trigger).status_code == 202
        assert stored_events(direct_url) > before


def test_a_served_outage_keeps_connections_usable_and_tokens_out_of_the_log(
    proxy: TcpProxy, direct_url: str, tmp_path: Path
) -> None:
    with incidents_server(through(proxy, direct_url), tmp_path) as served:
        with served.admin() as admin:
            assert admin.post("/incidents", json=DECLARE).status_code == 201
        # A token the server has never checked: its lookup is what fails.
        token = TokenStore(create_engine(direct_url)).create("on-call", {Scope.WRITE})
        address = urlsplit(served.url)
        connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=10)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        proxy.cut()
        try:
            for method, path in [("POST", "/incidents"), ("GET", "/incidents")]:
                body = json.dumps(DECLARE) if method == "POST" else None
                connection.request(method, path, body=body, headers=headers)
                answer = connection.getresponse()
                payload = json.loads(answer.read())
                assert answer.status == 503, payload
                assert answer.getheader("Content-Type") == "application/problem+json"
                assert answer.getheader("Retry-After")
                assert payload["detail"].startswith("database unreachable")
                assert connection.sock is not None, "the server closed the connection"
                local = connection.sock.getsockname()
                connection.request("GET", "/healthz")
                liveness = connection.getresponse()
                liveness.read()
                assert liveness.status == 200
                assert connection.sock.getsockname() == local  # the very same connection
            connection.request("GET", "/readyz")
            readiness = connection.getresponse()
            readiness.read()
            assert readiness.status == 503
        finally:
            connection.close()
            proxy.restore()
        with httpx.Client(base_url=served.url, headers=headers, timeout=10) as client:
            assert client.post("/incidents", json=DECLARE).status_code == 201
        log = served.log.read_text()
    assert "request.database_fault" in log  # the failures were logged...
    assert token not in log  # ...without the token that made them
    assert ADMIN_TOKEN not in log
