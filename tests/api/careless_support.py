"""What the careless-input tests share: one check of a refusal, and the senders they use."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response

from application.integrations import IntegrationKind
from tests.api.helpers import PROBLEM_JSON
from tests.api.hooks_support import (
    PDPYRAS_ROUTING_KEY,
    captured,
    headers_of,
    ingest_token,
    integration,
    sender,
    signed_headers,
)


def log_is_empty(client: TestClient) -> None:
    """Nothing at all was stored: the log is empty."""
    response = client.get("/events")
    assert response.status_code == 200, response.text
    assert response.json()["events"] == []


def refused(
    response: Response, location: list[str | int], error_type: str | None = None, status: int = 422
) -> dict[str, Any]:
    """A problem+json refusal whose ``errors`` name exactly this field; its one error."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    [error] = problem["errors"]
    assert error["location"] == location, problem
    if error_type is not None:
        assert error["type"] == error_type, problem
    return error


class Senders:
    """A signed generic integration, an Alertmanager with an ingest token, a PagerDuty client."""

    def __init__(self, client: TestClient) -> None:
        self.secret = integration(client, "ci-checks", IntegrationKind.GENERIC).credential
        integration(client, "pdpyras", routing_key=PDPYRAS_ROUTING_KEY)
        self.anonymous = sender(client, None)
        self.alertmanager = sender(client, f"Bearer {ingest_token(client)}")

    def generic(self, **fields: Any) -> Response:
        document = {"title": "Checkout slow", "dedup_key": "checkout", "status": "firing"}
        body = json.dumps({**document, **fields}).encode()
        headers = signed_headers(self.secret, body, "ci-checks")
        return self.anonymous.post("/hooks/generic", content=body, headers=headers)

    def notification(self, document: dict[str, Any]) -> Response:
        headers = headers_of("alertmanager-0.25-firing")
        return self.alertmanager.post("/hooks/alertmanager", json=document, headers=headers)

    def pagerduty(self, document: dict[str, Any]) -> Response:
        headers = headers_of("pdpyras-5.4.1-trigger")
        return self.anonymous.post("/hooks/pagerduty/v2/enqueue", json=document, headers=headers)


def firing() -> dict[str, Any]:
    """Alertmanager's captured firing notification, endsAt "0001-01-01T00:00:00Z" and all."""
    return captured("alertmanager-0.25-firing")


def trigger() -> dict[str, Any]:
    """pdpyras's captured trigger event."""
    return captured("pdpyras-5.4.1-trigger")


def pagerduty_errors(response: Response) -> list[str]:
    """PagerDuty's own 400 document (not problem+json: its clients read this one)."""
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert (body["status"], body["message"]) == ("invalid event", "Event object is invalid")
    errors: list[str] = body["errors"]
    return errors
