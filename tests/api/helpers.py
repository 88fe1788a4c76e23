"""What the API tests share: declaring incidents, problem checks, a fake clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from httpx import Response

from application.service import IncidentService
from application.tokens import Scope, TokenStore
from eventstore import EventStore
from projections.runner import ProjectionRunner

PROBLEM_JSON = "application/problem+json"


def declare(client: TestClient, **fields: Any) -> str:
    """Declare an incident through the API; its id."""
    body = {"title": "Checkout returns 502", "severity": "SEV2", "services": ["checkout"]}
    response = client.post("/incidents", json={**body, **fields})
    assert response.status_code == 201, response.text
    incident_id: str = response.json()["id"]
    return incident_id


def ok(response: Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def assert_problem(response: Response, status: int, detail: str | None = None) -> dict[str, Any]:
    """A problem+json answer with this status (and exactly this detail, when given)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    if detail is not None:
        assert body["detail"] == detail
    return body


@contextmanager
def nothing_stored(client: TestClient) -> Iterator[None]:
    """The block leaves the log exactly as long as it was."""
    store: EventStore = client.app.state.store  # type: ignore[attr-defined]
    before = store.head_position()
    yield
    assert store.head_position() == before, "a refused request stored events"


def use_clock(client: TestClient, clock: Callable[[], datetime]) -> None:
    """Make the application's commands, stored times and "today" follow ``clock``."""
    state = client.app.state  # type: ignore[attr-defined]
    state.store = EventStore(state.engine, clock=clock)
    state.service = IncidentService(state.store, ProjectionRunner(), clock=clock)


def api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    """Every APIRoute of the JSON API, looking into included routers (FastAPI >= 0.16x
    nests them); the web interface's pages (package ``web``, signed in by session, tested
    in tests/web) are not API operations."""
    for route in routes:
        if isinstance(route, APIRoute) and not route.endpoint.__module__.startswith("web."):
            yield route
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from api_routes(included.routes)


def as_person(client: TestClient, name: str) -> TestClient:
    """A client of the same application acting with a read-write token named ``name``."""
    tokens: TokenStore = client.app.state.tokens  # type: ignore[attr-defined]
    token = tokens.create(name, {Scope.READ, Scope.WRITE})
    return TestClient(client.app, headers={"Authorization": f"Bearer {token}"})


REVIEWER = "reviewer"


def review_and_approve(client: TestClient, incident_id: str, reviewer: str = REVIEWER) -> None:
    """Send the postmortem to ``reviewer`` and approve it as them: ready to publish."""
    url = f"/incidents/{incident_id}/postmortem"
    ok(client.post(f"{url}/review", json={"reviewers": [reviewer]}))
    ok(as_person(client, reviewer).post(f"{url}/approve"))
