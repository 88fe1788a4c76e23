"""HEAD answers wherever GET does (RFC 9110 9.3.2): the same status and headers, no body;
an endless stream stops; a resource without GET still refuses HEAD with its Allow."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from application.settings import Settings
from tests.api.helpers import api_routes, declare, ok

VARYING = {"date", "x-request-id", "content-length"}
"""Headers that differ from one answer to the next (a body that counts requests varies)."""


def get_paths(client: TestClient, incident_id: str) -> Iterator[str]:
    """Every GET route of the API that needs at most an incident id, and some of the pages."""
    for route in api_routes(client.app.routes):  # type: ignore[attr-defined]
        path = route.path.replace("{incident_id}", incident_id)
        if "GET" in route.methods and "{" not in path:
            yield path
    yield from ("/", "/ui/incidents", "/ui/sign-in", "/ui/static/app.css", "/openapi.json")
    yield "/docs"


def test_every_get_route_answers_head_with_its_status_and_headers_and_no_body(
    client: TestClient,
) -> None:
    incident_id = declare(client)
    checked = 0
    for path in get_paths(client, incident_id):
        got = client.get(path, follow_redirects=False)
        head = client.head(path, follow_redirects=False)
        assert head.status_code == got.status_code, path
        assert head.content == b"", path
        assert {k: v for k, v in head.headers.items() if k not in VARYING} == {
            k: v for k, v in got.headers.items() if k not in VARYING
        }, path
        checked += 1
    assert checked > 25
    stable = client.get("/healthz")
    assert client.head("/healthz").headers["content-length"] == stable.headers["content-length"]


def test_head_answers_a_refusal_as_get_does(client: TestClient) -> None:
    missing = "/incidents/00000000-0000-4000-8000-000000000000"
    got, head = client.get(missing), client.head(missing)
    assert (head.status_code, head.headers["content-type"]) == (404, "application/problem+json")
    assert head.headers["content-length"] == got.headers["content-length"]
    assert head.content == b""
    anonymous = TestClient(client.app).head("/incidents")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Bearer")


def test_a_resource_without_get_refuses_head_naming_what_it_allows(client: TestClient) -> None:
    incident_id = declare(client)
    command = client.head(f"/incidents/{incident_id}/acknowledge")
    assert (command.status_code, command.headers["allow"], command.content) == (405, "POST", b"")
    assert client.post("/healthz").headers["allow"] == "GET, HEAD"


def test_head_is_counted_under_its_route_in_the_metrics(client: TestClient) -> None:
    incident_id = declare(client)
    client.head(f"/incidents/{incident_id}")
    metrics = client.get("/metrics").text
    assert 'method="HEAD",route="/incidents/{incident_id}",status="200"' in metrics


@pytest.fixture
def endless_streams(app_settings: Settings) -> Iterator[TestClient]:
    """A client of an app whose event streams run for a minute unless their client goes."""
    settings = app_settings.model_copy(update={"events_stream_max_seconds": 60.0})
    with TestClient(create_app(settings)) as client:
        client.headers["Authorization"] = f"Bearer {settings.admin_token}"
        yield client


def test_head_on_the_event_stream_ends_at_once_and_frees_its_place(
    endless_streams: TestClient,
) -> None:
    declare(endless_streams)
    started = time.monotonic()
    head = endless_streams.head("/events/stream")
    assert time.monotonic() - started < 10  # not the minute the stream would run
    assert head.status_code == 200
    assert head.headers["content-type"].startswith("text/event-stream")
    assert head.content == b""
    assert endless_streams.app.state.stream_slots.open == 0  # type: ignore[attr-defined]
    ok(endless_streams.get("/events", params={"after": 0}))
