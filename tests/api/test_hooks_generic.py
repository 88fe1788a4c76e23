"""POST /hooks/generic: HMAC-signed with an integration's secret; the CLI that makes them."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from application.integrations import IntegrationKind, IntegrationStore
from application.settings import Settings
from cli.main import app as cli
from monitoring.signing import REFUSED
from tests.api.helpers import assert_problem, nothing_stored, ok
from tests.api.hooks_support import (
    PDPYRAS_ROUTING_KEY,
    integration,
    kinds,
    only_incident,
    sender,
    signed_headers,
    store_of,
)

CHALLENGE = 'HMAC-SHA256 realm="incident-ledger"'


@pytest.fixture
def secret(client: TestClient) -> str:
    created = integration(client, "ci-checks", IntegrationKind.GENERIC, service="checkout")
    return created.credential


@pytest.fixture
def anonymous(client: TestClient) -> Iterator[TestClient]:
    with sender(client, None) as anonymous:
        yield anonymous


def event(**fields: Any) -> bytes:
    body = {
        "title": "Checkout latency above 2s",
        "severity": "critical",
        "dedup_key": "checkout-latency",
        "status": "firing",
        "details": {"p99_ms": 2300},
        **fields,
    }
    return json.dumps(body).encode()


def post(anonymous: TestClient, body: bytes, headers: dict[str, str]) -> Any:
    return anonymous.post("/hooks/generic", content=body, headers=headers)


def test_a_signed_firing_then_resolved_event(
    anonymous: TestClient, client: TestClient, secret: str
) -> None:
    body = event(occurred_at="2026-11-27T01:00:00Z")
    incident = only_incident(ok(post(anonymous, body, signed_headers(secret, body, "ci-checks"))))

    summary = ok(client.get(f"/incidents/{incident['id']}"))
    assert (summary["title"], summary["severity"], summary["services"]) == (
        "Checkout latency above 2s",
        "SEV1",
        ["checkout"],
    )
    assert (summary["source"], summary["declared_by"]) == ("generic", "integration:ci-checks")
    assert summary["detected_at"] == "2026-11-27T01:00:00Z"
    with nothing_stored(client):  # a replay within the window is a duplicate
        assert only_incident(ok(post(anonymous, body, signed_headers(secret, body, "ci-checks"))))[
            "unchanged"
        ]

    resolved = json.dumps({"dedup_key": "checkout-latency", "status": "resolved"}).encode()
    ok(post(anonymous, resolved, signed_headers(secret, resolved, "ci-checks")))
    assert ok(client.get(f"/incidents/{incident['id']}"))["alerts"] == {"firing": 0, "resolved": 1}
    assert {"alert_resolved", "alerts_cleared"} <= set(kinds(client, incident["id"]))


def test_the_integration_may_be_named_by_its_id(anonymous: TestClient, client: TestClient) -> None:
    created = integration(client, "by-id", IntegrationKind.GENERIC)
    reference = str(created.integration.integration_id)
    body = event(severity="SEV4")
    incident = only_incident(
        ok(post(anonymous, body, signed_headers(created.credential, body, reference)))
    )
    assert ok(client.get(f"/incidents/{incident['id']}"))["severity"] == "SEV4"


def test_unsigned_badly_signed_and_stale_requests_are_401(
    anonymous: TestClient, client: TestClient, secret: str
) -> None:
    integration(client, "pager", routing_key=PDPYRAS_ROUTING_KEY)
    body = event()
    now = int(time.time())
    good = signed_headers(secret, body, "ci-checks")
    cases: list[tuple[dict[str, str], bytes, str]] = [
        (
            {"Content-Type": "application/json"},
            body,
            "X-Incidents-Integration, X-Incidents-Timestamp and X-Incidents-Signature are required",
        ),
        ({**good, "X-Incidents-Signature": ""}, body, "are required"),
        # An unknown name, another kind's name and a bad signature are told apart by no
        # one: the answer must not reveal which integration names exist.
        (signed_headers(secret, body, "nobody"), body, REFUSED),
        (signed_headers(secret, body, "pager"), body, REFUSED),
        (signed_headers("wrong-secret", body, "ci-checks"), body, REFUSED),
        (good, event(title="Tampered"), REFUSED),
        ({**good, "X-Incidents-Signature": good["X-Incidents-Signature"][7:]}, body, '"sha256="'),
        (
            signed_headers(secret, body, "ci-checks", now - 310),
            body,
            "seconds ago; at most 300 are accepted",
        ),
        (signed_headers(secret, body, "ci-checks", now + 400), body, "in the future"),
        ({**good, "X-Incidents-Timestamp": "1.5e9"}, body, "unix time in whole seconds"),
    ]
    with nothing_stored(client):
        for headers, content, detail in cases:
            response = post(anonymous, content, headers)
            problem = assert_problem(response, 401)
            assert detail in problem["detail"], (detail, problem["detail"])
            assert response.headers["www-authenticate"] == CHALLENGE


def test_a_signed_but_invalid_event_is_refused_after_the_signature(
    anonymous: TestClient, client: TestClient, secret: str
) -> None:
    with nothing_stored(client):
        for body, status, detail in [
            (b"{not json", 400, None),
            (event(title=None), 422, "body: Value error, a firing alert needs a title"),
            (event(status="pending"), 422, None),
            (event(colour="red"), 422, "body.colour: Extra inputs are not permitted"),
            (event(dedup_key=""), 422, None),
            (event(occurred_at="2999-01-01T00:00:00Z"), 422, None),
            # Read as a float it would be stored as 1.2345678901234568e+29: changed.
            (
                event(details={"order_id": 123456789012345678901234567890}),
                422,
                "body.details.order_id: an integer beyond 64 bits would not be stored exactly;"
                " send it as a string",
            ),
            (event(details={"debt": -(2**63) - 1}), 422, None),
        ]:
            headers = signed_headers(secret, body, "ci-checks")
            assert_problem(post(anonymous, body, headers), status, detail)
    assert store_of(client).head_position() == 0


def test_the_cli_creates_lists_and_revokes_integrations(
    anonymous: TestClient, client: TestClient, app_settings: Settings
) -> None:
    runner = CliRunner()
    url = ["--database-url", app_settings.database_url]
    created = runner.invoke(
        cli, ["integrations", "create", "nightly", "--kind", "generic", "--service", "batch", *url]
    )
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip().splitlines()[-1]
    pager = runner.invoke(cli, ["integrations", "create", "am", "--kind", "pagerduty", *url])
    routing_key = pager.stdout.strip().splitlines()[-1]
    assert len(routing_key) == 32

    body = event(dedup_key="nightly-job")
    incident = only_incident(ok(post(anonymous, body, signed_headers(secret, body, "nightly"))))
    assert ok(client.get(f"/incidents/{incident['id']}"))["services"] == ["batch"]

    listed = runner.invoke(cli, ["integrations", "list", *url])
    assert "nightly" in listed.stdout
    assert "pagerduty" in listed.stdout
    assert secret not in listed.stdout
    assert routing_key not in listed.stdout
    assert (
        runner.invoke(cli, ["integrations", "create", "am", "--kind", "generic", *url]).exit_code
        == 1
    )
    assert runner.invoke(cli, ["integrations", "revoke", "nightly", *url]).exit_code == 0
    assert runner.invoke(cli, ["integrations", "revoke", "nightly", *url]).exit_code == 1
    store: IntegrationStore = client.app.state.integrations  # type: ignore[attr-defined]
    store.cache_seconds = 0  # running servers notice a revocation within their cache time
    with nothing_stored(client):
        assert_problem(post(anonymous, body, signed_headers(secret, body, "nightly")), 401)


def test_an_unknown_integration_and_a_bad_signature_get_the_same_answer(
    anonymous: TestClient, client: TestClient, secret: str
) -> None:
    body = event()
    with nothing_stored(client):
        unknown = post(anonymous, body, signed_headers(secret, body, "nobody"))
        forged = post(anonymous, body, signed_headers("wrong-secret", body, "ci-checks"))
    for response in (unknown, forged):
        assert_problem(response, 401, REFUSED)
    assert unknown.json() == forged.json()
    assert unknown.headers["www-authenticate"] == forged.headers["www-authenticate"]


def test_an_unknown_severity_is_refused_listing_the_accepted_ones(
    anonymous: TestClient, client: TestClient, secret: str
) -> None:
    body = event(severity="disaster")
    with nothing_stored(client):
        problem = assert_problem(
            post(anonymous, body, signed_headers(secret, body, "ci-checks")), 422
        )
    [error] = problem["errors"]
    accepted = "critical, error, high, warning, info, none, SEV1, SEV2, SEV3, SEV4, SEV5"
    assert error == {
        "location": ["body", "severity"],
        "message": f"unknown severity 'disaster'; use one of {accepted}",
        "type": "value_error",
    }


@pytest.mark.parametrize("status", ["firing", "resolved"])
def test_a_future_occurred_at_is_refused_under_its_own_name(
    anonymous: TestClient, client: TestClient, secret: str, status: str
) -> None:
    body = event(status=status, occurred_at="2999-01-01T00:00:00Z")
    with nothing_stored(client):
        problem = assert_problem(
            post(anonymous, body, signed_headers(secret, body, "ci-checks")), 422
        )
    [error] = problem["errors"]
    assert error["location"] == ["body", "occurred_at"]
    assert error["message"].startswith("2999-01-01T00:00:00+00:00 lies in the future"), error
    assert "startsAt" not in problem["detail"]
