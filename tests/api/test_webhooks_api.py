"""Outbound webhook subscriptions through the HTTP API, on both backends.

Deliveries go to a real receiver: an HTTP server in a thread on 127.0.0.1, which the
settings allow (http:// and private addresses). Signatures are checked with the
``standardwebhooks`` package, as a receiver would check them. The deliverer that follows
the log is off, so every message the receiver gets was asked for by a test.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from uuid import uuid4

import pytest
import structlog
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from api.app import create_app
from application.settings import Settings
from tests.api.conftest import ADMIN_TOKEN, STREAM_SECONDS
from tests.api.helpers import as_person, assert_problem, declare, ok

SECRET_KEY = Fernet.generate_key().decode()
TYPES = ["incident.", "postmortem.published"]


# --- a receiver ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    """One request as the receiver read it."""

    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def verified_with(self, secret: str) -> Any:
        """The payload, once its signature verifies with ``secret`` (raises otherwise)."""
        return Webhook(secret).verify(self.body, self.headers)


@dataclass
class Receiver:
    url: str
    received: list[Received] = field(default_factory=list)


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    """An HTTP server on 127.0.0.1 answering every POST with 200 and keeping what it got."""
    kept: list[Received] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            kept.append(Received({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the captured output stays the service's own

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Receiver(f"http://127.0.0.1:{server.server_address[1]}/hook", kept)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


# --- the application -----------------------------------------------------------------------


def webhook_settings(database_url: str, *, allow_local: bool) -> Settings:
    return Settings(
        database_url=database_url,
        admin_token=ADMIN_TOKEN,
        events_stream_max_seconds=STREAM_SECONDS,
        secret_key=SECRET_KEY,
        webhooks_allow_http=allow_local,
        webhooks_allow_private=allow_local,
        webhooks_deliver=False,
    )


@pytest.fixture
def app_settings(database_url: str) -> Settings:
    """The API tests' settings, with deliveries to http://127.0.0.1 allowed."""
    return webhook_settings(database_url, allow_local=True)


@pytest.fixture
def strict(database_url: str) -> Iterator[TestClient]:
    """A client of an application on the same database with the default guard: https://
    and public addresses only."""
    app = create_app(webhook_settings(database_url, allow_local=False))
    with TestClient(app, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as client:
        yield client


def subscribe(client: TestClient, url: str, **fields: Any) -> dict[str, Any]:
    """A new subscription through the API; its answer (with the secret)."""
    response = client.post("/webhooks", json={"url": url, "types": TYPES, **fields})
    return ok(response, 201)


def locations(problem: dict[str, Any]) -> list[list[Any]]:
    return [error["location"] for error in problem.get("errors", [])]


def listed(client: TestClient) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = ok(client.get("/webhooks"))["items"]
    return items


# --- creating and reading ------------------------------------------------------------------


def test_the_secret_is_shown_once_and_never_again(
    caplog: pytest.LogCaptureFixture, client: TestClient, receiver: Receiver
) -> None:
    caplog.set_level(logging.DEBUG)
    head = client.app.state.store.head_position()  # type: ignore[attr-defined]
    with structlog.testing.capture_logs(
        processors=[structlog.contextvars.merge_contextvars]
    ) as logs:
        response = client.post(
            "/webhooks",
            json={
                "url": receiver.url,
                "types": TYPES,
                "description": "Paging bridge",
                "filter": {"severity": ["SEV1", "SEV2"], "services": ["checkout"]},
            },
        )
        created = ok(response, 201)
        read = client.get(response.headers["location"])
        everything = client.get("/webhooks")
        ok(client.post(f"/webhooks/{created['id']}/test"))
        rotated = ok(client.post(f"/webhooks/{created['id']}/rotate-secret"))
        ok(client.post(f"/webhooks/{created['id']}/test"))

    secret = created["secret"]
    assert secret.startswith("whsec_")
    assert response.headers["location"] == f"/webhooks/{created['id']}"
    assert created["url"] == receiver.url
    assert created["types"] == TYPES
    assert created["format"] == "standard"
    assert created["filter"] == {"severity": ["SEV1", "SEV2"], "services": ["checkout"]}
    assert created["enabled"] is True
    assert created["disabled_reason"] is None
    assert created["created_by"] == "admin"
    assert created["position"] == head
    assert created["links"] == {
        "self": f"/webhooks/{created['id']}",
        "deliveries": f"/webhooks/{created['id']}/deliveries",
    }
    for answer in (read, everything):
        assert secret not in answer.text
        assert "secret" not in answer.text.replace("previous_secret_until", "")
    assert ok(read) == {k: v for k, v in created.items() if k != "secret"}
    assert ok(everything)["items"] == [ok(read)]

    assert len(logs) >= 6  # the access lines at least
    signatures = [m.headers["webhook-signature"] for m in receiver.received]
    for kept in (secret, rotated["secret"], *signatures):
        for output in (repr(logs), caplog.text):
            assert kept not in output
            assert kept.removeprefix("whsec_") not in output


def test_a_slack_subscription_without_a_filter_hears_every_incident(
    client: TestClient, receiver: Receiver
) -> None:
    created = subscribe(client, receiver.url, format="slack")
    assert created["format"] == "slack"
    assert created["description"] == ""
    assert created["filter"] == {"severity": [], "services": []}


@pytest.mark.parametrize(
    ("body", "location", "words"),
    [
        ({"types": ["incident.nope"]}, ["body", "types", 0], "is not an event type"),
        ({"types": ["incident.declared", "incident"]}, ["body", "types", 1], "prefix ends in"),
        ({"types": ["nothing."]}, ["body", "types", 0], "no event type starts with"),
        ({"types": []}, ["body", "types"], "at least 1 item"),
        ({"filter": {"severity": ["SEV9"]}}, ["body", "filter", "severity", 0], "SEV1"),
        ({"filter": {"services": ["two words"]}}, ["body", "filter", "services", 0], "pattern"),
        ({"format": "teams"}, ["body", "format"], "'standard' or 'slack'"),
        ({"url": "ftp://127.0.0.1/hook"}, ["body", "url"], "http:// or https://"),
        ({"secret": "whsec_bWluZQ=="}, ["body", "secret"], "Extra inputs"),
    ],
)
def test_invalid_subscriptions_are_refused_naming_the_field(
    client: TestClient, receiver: Receiver, body: dict[str, Any], location: list[Any], words: str
) -> None:
    response = client.post("/webhooks", json={"url": receiver.url, "types": TYPES, **body})
    problem = assert_problem(response, 422)
    assert locations(problem) == [location]
    assert words in problem["detail"]
    assert ".".join(map(str, location)) in problem["detail"]
    assert listed(client) == []


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://127.0.0.1:9/hook", "must be https://"),
        ("https://127.0.0.1:9/hook", "127.0.0.1 is a loopback/private address"),
        ("https://[::1]:9/hook", "loopback/private"),
        ("https://169.254.169.254/latest/meta-data", "loopback/private"),
        ("https://localhost:9/hook", "resolves to"),
        ("https://user:password@127.0.0.1/hook", "user name or password"),
    ],
)
def test_unsafe_addresses_are_refused_naming_the_url(
    strict: TestClient, url: str, words: str
) -> None:
    response = strict.post("/webhooks", json={"url": url, "types": TYPES})
    problem = assert_problem(response, 422)
    assert locations(problem) == [["body", "url"]]
    assert problem["detail"].startswith("body.url: ")
    assert words in problem["detail"]
    assert listed(strict) == []


def test_the_address_is_stored_in_normal_form(client: TestClient, receiver: Receiver) -> None:
    shouted = receiver.url.replace("http://", "HTTP://")
    assert subscribe(client, shouted)["url"] == receiver.url


# --- changing ------------------------------------------------------------------------------


def test_patch_disables_and_enables(client: TestClient, receiver: Receiver) -> None:
    created = subscribe(client, receiver.url)
    path = f"/webhooks/{created['id']}"

    disabled = ok(client.patch(path, json={"enabled": False}))
    assert disabled["enabled"] is False
    assert disabled["disabled_reason"] == "disabled by an admin"
    assert ok(client.get(path))["enabled"] is False

    enabled = ok(client.patch(path, json={"enabled": True}))
    assert enabled["enabled"] is True
    assert enabled["disabled_reason"] is None
    assert enabled["updated_at"] >= disabled["updated_at"]


def test_patch_changes_only_what_it_names(client: TestClient, receiver: Receiver) -> None:
    created = subscribe(
        client, receiver.url, filter={"severity": ["SEV2"], "services": ["checkout"]}
    )
    path = f"/webhooks/{created['id']}"
    changed = ok(
        client.patch(
            path,
            json={
                "types": ["incident.declared"],
                "description": "Pager",
                "filter": {"severity": ["SEV1"]},
            },
        )
    )
    assert changed["types"] == ["incident.declared"]
    assert changed["description"] == "Pager"
    assert changed["filter"] == {"severity": ["SEV1"], "services": ["checkout"]}
    assert changed["url"] == receiver.url
    assert changed["enabled"] is True
    other = receiver.url.replace("/hook", "/other")
    assert ok(client.patch(path, json={"url": other}))["url"] == other


@pytest.mark.parametrize(
    ("body", "location"),
    [
        ({}, ["body"]),
        ({"enabled": None}, ["body"]),
        ({"secret": "whsec_bWluZQ=="}, ["body", "secret"]),
        ({"types": ["incident.nope"]}, ["body", "types", 0]),
        ({"filter": {"severity": ["SEV0"]}}, ["body", "filter", "severity", 0]),
        ({"url": "ftp://127.0.0.1/hook"}, ["body", "url"]),
    ],
)
def test_invalid_patches_are_refused_and_change_nothing(
    client: TestClient, receiver: Receiver, body: dict[str, Any], location: list[Any]
) -> None:
    created = subscribe(client, receiver.url)
    path = f"/webhooks/{created['id']}"
    before = ok(client.get(path))
    problem = assert_problem(client.patch(path, json=body), 422)
    assert locations(problem) == [location]
    assert ok(client.get(path)) == before


def test_patch_to_an_unsafe_address_is_refused(
    client: TestClient, strict: TestClient, receiver: Receiver
) -> None:
    created = subscribe(client, receiver.url)
    path = f"/webhooks/{created['id']}"
    problem = assert_problem(strict.patch(path, json={"url": "https://10.0.0.7/hook"}), 422)
    assert locations(problem) == [["body", "url"]]
    assert ok(client.get(path))["url"] == receiver.url


def test_rotation_gives_a_new_secret_and_keeps_the_old_one_for_a_day(
    client: TestClient, receiver: Receiver
) -> None:
    created = subscribe(client, receiver.url)
    old = created["secret"]
    rotated = ok(client.post(f"/webhooks/{created['id']}/rotate-secret"))
    new = rotated["secret"]
    assert new.startswith("whsec_")
    assert new != old
    until = datetime.fromisoformat(rotated["previous_secret_until"])
    expected = datetime.now(UTC) + timedelta(hours=24)
    assert abs(until - expected) < timedelta(minutes=1)
    assert rotated["id"] == created["id"]
    read = client.get(f"/webhooks/{created['id']}")
    assert new not in read.text
    assert old not in read.text
    assert ok(read)["previous_secret_until"] == rotated["previous_secret_until"]

    # During the overlap a message verifies under either secret.
    ok(client.post(f"/webhooks/{created['id']}/test"))
    (message,) = receiver.received
    assert len(message.headers["webhook-signature"].split()) == 2
    assert message.verified_with(new)["type"] == "webhook.test"
    assert message.verified_with(old)["type"] == "webhook.test"


def test_delete(client: TestClient, receiver: Receiver) -> None:
    created = subscribe(client, receiver.url)
    kept = subscribe(client, receiver.url)
    path = f"/webhooks/{created['id']}"
    ok(client.post(f"{path}/test"))
    response = client.delete(path)
    assert response.status_code == 204, response.text
    assert response.content == b""
    assert_problem(client.get(path), 404)
    assert_problem(client.delete(path), 404)
    assert [found["id"] for found in listed(client)] == [kept["id"]]


# --- who may, and what is not there --------------------------------------------------------


def test_only_admins_reach_webhooks(client: TestClient, receiver: Receiver) -> None:
    created = subscribe(client, receiver.url)
    path = f"/webhooks/{created['id']}"
    person = as_person(client, "alice")
    event_id = uuid4()
    asked = [
        person.post("/webhooks", json={"url": receiver.url, "types": TYPES}),
        person.get("/webhooks"),
        person.get(path),
        person.patch(path, json={"enabled": False}),
        person.delete(path),
        person.post(f"{path}/rotate-secret"),
        person.get(f"{path}/deliveries"),
        person.post(f"{path}/deliveries/{event_id}/redeliver"),
        person.post(f"{path}/test"),
    ]
    for response in asked:
        problem = assert_problem(response, 403)
        assert "'admin'" in problem["detail"]
    assert [found["id"] for found in listed(client)] == [created["id"]]
    assert ok(client.get(path))["enabled"] is True
    assert receiver.received == []


def test_unknown_subscriptions_are_404(client: TestClient) -> None:
    path = f"/webhooks/{uuid4()}"
    answers = [
        client.get(path),
        client.patch(path, json={"enabled": False}),
        client.delete(path),
        client.post(f"{path}/rotate-secret"),
        client.get(f"{path}/deliveries"),
        client.post(f"{path}/deliveries/{uuid4()}/redeliver"),
        client.post(f"{path}/test"),
    ]
    for response in answers:
        problem = assert_problem(response, 404)
        assert "no webhook subscription" in problem["detail"]


def test_a_malformed_subscription_id_is_422(client: TestClient) -> None:
    problem = assert_problem(client.get("/webhooks/not-an-id"), 422)
    assert locations(problem) == [["path", "subscription_id"]]


# --- deliveries ----------------------------------------------------------------------------


def test_a_test_message_reaches_the_receiver_signed(client: TestClient, receiver: Receiver) -> None:
    created = subscribe(client, receiver.url)
    record = ok(client.post(f"/webhooks/{created['id']}/test"))
    assert record["status_code"] == 200
    assert record["succeeded"] is True
    assert record["trigger"] == "test"
    assert record["event_type"] == "webhook.test"
    assert record["position"] is None
    assert record["error"] is None

    (message,) = receiver.received
    assert message.json()["type"] == "webhook.test"
    assert message.headers["webhook-id"] == record["message_id"]
    assert message.verified_with(created["secret"])["type"] == "webhook.test"
    with pytest.raises(WebhookVerificationError, match="No matching signature"):
        message.verified_with(ok(client.post(f"/webhooks/{created['id']}/rotate-secret"))["secret"])

    page = ok(client.get(f"/webhooks/{created['id']}/deliveries"))
    assert page == {"items": [record], "next_before": None}


def test_an_event_is_redelivered_with_its_own_id(client: TestClient, receiver: Receiver) -> None:
    created = subscribe(client, receiver.url)
    incident_id = declare(client, title="Checkout returns 502")
    events = ok(client.get("/events", params={"after": 0}))["events"]
    (declared,) = [e for e in events if e["type"] == "incident.declared"]
    assert incident_id in declared["stream_id"]

    path = f"/webhooks/{created['id']}/deliveries/{declared['event_id']}/redeliver"
    record = ok(client.post(path))
    assert record["trigger"] == "redeliver"
    assert record["message_id"] == declared["event_id"]
    assert record["event_type"] == "incident.declared"
    assert record["position"] == declared["position"]
    assert record["succeeded"] is True

    (message,) = receiver.received
    assert message.headers["webhook-id"] == declared["event_id"]
    payload = message.verified_with(created["secret"])
    assert payload["type"] == "incident.declared"
    assert payload["data"]["incident_id"] == incident_id
    # A redelivery leaves the subscription's checkpoint alone.
    assert ok(client.get(f"/webhooks/{created['id']}"))["position"] == created["position"]


def test_redelivering_what_the_log_does_not_hold(client: TestClient, receiver: Receiver) -> None:
    created = subscribe(client, receiver.url)
    path = f"/webhooks/{created['id']}/deliveries"
    unknown = assert_problem(client.post(f"{path}/{uuid4()}/redeliver"), 404)
    assert "no event" in unknown["detail"]
    malformed = assert_problem(client.post(f"{path}/not-an-event/redeliver"), 422)
    assert locations(malformed) == [["path", "event_id"]]
    assert receiver.received == []
    assert ok(client.get(path))["items"] == []


def test_the_delivery_log_pages_newest_first(client: TestClient, receiver: Receiver) -> None:
    created = subscribe(client, receiver.url)
    path = f"/webhooks/{created['id']}"
    sent = [ok(client.post(f"{path}/test"))["delivery_id"] for _ in range(5)]
    other = subscribe(client, receiver.url)
    ok(client.post(f"/webhooks/{other['id']}/test"))  # not in the first one's log

    seen: list[int] = []
    pages = 0
    params: dict[str, Any] = {"limit": 2}
    while True:
        page = ok(client.get(f"{path}/deliveries", params=params))
        pages += 1
        assert len(page["items"]) <= 2
        seen += [item["delivery_id"] for item in page["items"]]
        if page["next_before"] is None:
            break
        assert page["next_before"] == seen[-1]
        params["before"] = page["next_before"]
    assert seen == sorted(sent, reverse=True)
    assert pages == 3

    everything = ok(client.get(f"{path}/deliveries"))
    assert [item["delivery_id"] for item in everything["items"]] == seen
    assert everything["next_before"] is None
    exact = ok(client.get(f"{path}/deliveries", params={"limit": 5}))
    assert exact["next_before"] is None  # no empty page after the last one


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"before": 0}, "before"),
        ({"before": 2**63}, "before"),  # beyond the database's integers
    ],
)
def test_delivery_log_parameters_are_checked(
    client: TestClient, receiver: Receiver, params: dict[str, Any], name: str
) -> None:
    created = subscribe(client, receiver.url)
    problem = assert_problem(
        client.get(f"/webhooks/{created['id']}/deliveries", params=params), 422
    )
    assert locations(problem) == [["query", name]]
