"""Bearer tokens and scopes on every operation, revocation, the recorded actor, the CLI.

Every operation in the OpenAPI document is walked: without a token it answers 401, with
a token that lacks the needed scope 403 (reads need ``read``, everything else ``write``),
and only /healthz answers without a token. The walk is driven by ``app.openapi()``, so a
route added later is covered without touching this file.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterator
from typing import Any
from uuid import UUID, uuid4

import pytest
import structlog
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from application.tokens import Scope, TokenStore
from cli.main import app as cli
from domain.values import stream_id_for
from eventstore import EventStore
from eventstore.engine import create_engine
from tests.api.conftest import ADMIN_TOKEN
from tests.api.helpers import PROBLEM_JSON, api_routes, assert_problem, declare, nothing_stored, ok

PUBLIC = {("GET", "/healthz"), ("GET", "/readyz")}
"""The operations that answer without any credentials: the probes (and /docs, not listed)."""

OWN_CREDENTIALS = {("POST", "/hooks/generic"), ("POST", "/hooks/pagerduty/v2/enqueue")}
"""Authenticated by an HMAC signature or a routing key instead of a token (when present)."""

SCOPES = {
    ("POST", "/hooks/alertmanager"): Scope.INGEST,
    ("POST", "/hooks/grafana"): Scope.INGEST,
    ("GET", "/integrations"): Scope.ADMIN,
    ("POST", "/integrations"): Scope.ADMIN,
    ("DELETE", "/integrations/{name}"): Scope.ADMIN,
    ("GET", "/webhooks"): Scope.ADMIN,
    ("POST", "/webhooks"): Scope.ADMIN,
    ("GET", "/webhooks/{subscription_id}"): Scope.ADMIN,
    ("PATCH", "/webhooks/{subscription_id}"): Scope.ADMIN,
    ("DELETE", "/webhooks/{subscription_id}"): Scope.ADMIN,
    ("POST", "/webhooks/{subscription_id}/rotate-secret"): Scope.ADMIN,
    ("GET", "/webhooks/{subscription_id}/deliveries"): Scope.ADMIN,
    ("POST", "/webhooks/{subscription_id}/deliveries/{event_id}/redeliver"): Scope.ADMIN,
    ("POST", "/webhooks/{subscription_id}/test"): Scope.ADMIN,
}
"""Operations that need another scope than the rule: reads ``read``, the rest ``write``.

An operation whose authentication departs from the rule belongs here (or above) on
purpose; any other operation is held to the rule.
"""

LACKING = {
    Scope.READ: {Scope.INGEST},
    Scope.WRITE: {Scope.READ},
    Scope.INGEST: {Scope.READ, Scope.WRITE},
    Scope.ADMIN: {Scope.READ, Scope.WRITE, Scope.INGEST},
}
"""For each needed scope, the scopes of a token that lacks it."""


def needed_scope(method: str, path: str) -> Scope:
    return SCOPES.get((method, path), Scope.READ if method in {"GET", "HEAD"} else Scope.WRITE)


PATH_VALUES = {"section": "summary", "name": "alertmanager-prod"}
"""Path parameters that are not ids; every other one gets a random UUID."""

WWW_AUTHENTICATE = 'Bearer realm="incident-ledger"'


def operations(client: TestClient) -> list[tuple[str, str]]:
    """Every (METHOD, path template) of the application's OpenAPI document."""
    document: dict[str, Any] = client.app.openapi()  # type: ignore[attr-defined]
    found = [
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in {"get", "put", "post", "patch", "delete", "head", "options"}
    ]
    assert len(found) > 20, found
    return found


def concrete(path: str) -> str:
    """The template with its parameters filled in."""
    return re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES.get(m.group(1), str(uuid4())), path)


def as_token(client: TestClient, token: str | None) -> TestClient:
    """A client of the same application that sends ``token`` (or no Authorization at all)."""
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    return TestClient(client.app, headers=headers)


def assert_unauthorized(response: Any, detail: str) -> None:
    assert_problem(response, 401, detail)
    assert response.headers["www-authenticate"] == WWW_AUTHENTICATE


@pytest.fixture
def tokens(client: TestClient) -> TokenStore:
    store: TokenStore = client.app.state.tokens  # type: ignore[attr-defined]
    return store


@pytest.fixture
def anonymous(client: TestClient) -> Iterator[TestClient]:
    with as_token(client, None) as anonymous:
        yield anonymous


# --- every operation -----------------------------------------------------------------------


def test_no_api_route_escapes_the_walk(client: TestClient) -> None:
    """An API route left out of the OpenAPI document would escape every walk below."""
    routed = {
        (method, route.path_format)  # as OpenAPI writes it: "{name}", not "{name:path}"
        for route in api_routes(client.app.routes)  # type: ignore[attr-defined]
        for method in route.methods or ()
    }
    assert routed == set(operations(client))


def test_every_operation_but_the_probes_needs_a_token(
    client: TestClient, anonymous: TestClient
) -> None:
    failures = []
    for method, path in operations(client):
        response = anonymous.request(method, concrete(path))
        if (method, path) in PUBLIC:
            if response.status_code != 200:
                failures.append(f"{method} {path}: {response.status_code}, want 200")
        elif (method, path) in OWN_CREDENTIALS:
            if response.status_code < 400 or response.status_code >= 500:
                failures.append(f"{method} {path}: {response.status_code} without credentials")
        elif (
            response.status_code != 401
            or response.headers.get("www-authenticate") != WWW_AUTHENTICATE
            or response.headers.get("content-type") != PROBLEM_JSON
            or response.json().get("detail") != "a bearer token is required"
        ):
            failures.append(f"{method} {path}: {response.status_code} {response.text[:120]}")
    assert failures == []


def test_every_operation_refuses_a_token_without_its_scope(
    client: TestClient, tokens: TokenStore
) -> None:
    """Reads refuse an ingest-only token, writes a read-only one, and so on (LACKING)."""
    lacking = {
        needed: (
            f"lacks-{needed.value}",
            as_token(client, tokens.create(f"lacks-{needed.value}", scopes)),
        )
        for needed, scopes in LACKING.items()
    }
    failures = []
    for method, path in operations(client):
        if (method, path) in PUBLIC | OWN_CREDENTIALS:
            continue
        needed = needed_scope(method, path)
        name, holder = lacking[needed]
        response = holder.request(method, concrete(path))
        detail = f"token {name!r} lacks the {needed.value!r} scope for this route"
        if (
            response.status_code != 403
            or response.headers.get("content-type") != PROBLEM_JSON
            or response.json().get("detail") != detail
        ):
            failures.append(f"{method} {path}: {response.status_code} {response.text[:120]}")
    assert failures == []


def test_every_operation_accepts_a_token_with_just_its_scope(
    client: TestClient, tokens: TokenStore
) -> None:
    """The other half of the walk: the one needed scope gets past authentication."""
    holders = {
        scope: as_token(client, tokens.create(f"only-{scope.value}", {scope})) for scope in Scope
    }
    failures = []
    for method, path in operations(client):
        if (method, path) in PUBLIC | OWN_CREDENTIALS:
            continue
        response = holders[needed_scope(method, path)].request(method, concrete(path))
        # Random ids: 404, no body: 422; anything but a refusal of the token will do.
        if response.status_code in (401, 403) or response.status_code >= 500:
            failures.append(f"{method} {path}: {response.status_code} {response.text[:120]}")
    assert failures == []


def test_read_and_write_scopes_are_separate_and_admin_holds_both(
    client: TestClient, tokens: TokenStore
) -> None:
    incident_id = declare(client)
    note = {"text": "Rolled back deploy 4812"}
    writer = as_token(client, tokens.create("writer", {Scope.WRITE}))
    reader = as_token(client, tokens.create("reader", {Scope.READ}))
    both = as_token(client, tokens.create("both", {Scope.READ, Scope.WRITE}))

    ok(writer.post(f"/incidents/{incident_id}/notes", json=note), 201)
    assert_problem(writer.get(f"/incidents/{incident_id}"), 403)
    ok(reader.get(f"/incidents/{incident_id}"))
    assert_problem(reader.post(f"/incidents/{incident_id}/notes", json=note), 403)
    ok(both.get(f"/incidents/{incident_id}"))
    ok(both.post(f"/incidents/{incident_id}/notes", json=note), 201)
    ok(client.get(f"/incidents/{incident_id}"))  # the admin
    ok(client.post(f"/incidents/{incident_id}/notes", json=note), 201)


def test_healthz_and_the_docs_answer_without_a_token(anonymous: TestClient) -> None:
    assert ok(anonymous.get("/healthz")) == {"status": "ok"}
    assert anonymous.get("/openapi.json").json()["info"]["title"] == "Incident Ledger"
    docs = anonymous.get("/docs")
    assert docs.status_code == 200
    assert "text/html" in docs.headers["content-type"]


# --- bad, revoked and malformed credentials ------------------------------------------------


INVALID = [
    ("Bearer il_not-a-token", "the bearer token is not valid"),
    (f"Bearer {ADMIN_TOKEN}x", "the bearer token is not valid"),
    (f"Bearer {ADMIN_TOKEN.upper()}", "the bearer token is not valid"),
    (f"Bearer {ADMIN_TOKEN} extra", "the bearer token is not valid"),
    (f"Basic {ADMIN_TOKEN}", "a bearer token is required"),
    (ADMIN_TOKEN, "a bearer token is required"),
    ("Bearer", "a bearer token is required"),
    ("Bearer ", "a bearer token is required"),
]


def test_invalid_credentials_are_401_and_store_nothing(
    client: TestClient, anonymous: TestClient
) -> None:
    for authorization, detail in INVALID:
        with nothing_stored(client):
            response = anonymous.post(
                "/incidents",
                json={"title": "x", "severity": "SEV2"},
                headers={"Authorization": authorization},
            )
        assert_unauthorized(response, detail)
        assert ADMIN_TOKEN not in response.text


def test_the_bearer_scheme_is_case_insensitive(anonymous: TestClient) -> None:
    """RFC 9110 auth schemes are case-insensitive."""
    response = anonymous.get("/incidents", headers={"Authorization": f"bearer {ADMIN_TOKEN}"})
    ok(response)


def test_who_may_ask_is_answered_before_what_was_asked(
    anonymous: TestClient, client: TestClient, tokens: TokenStore
) -> None:
    """A malformed or invalid body from a caller without the right token is 401/403, not 422."""
    malformed = {"content": b'{"title": ', "headers": {"Content-Type": "application/json"}}
    with nothing_stored(client):
        assert_unauthorized(anonymous.post("/incidents", **malformed), "a bearer token is required")  # type: ignore[arg-type]
        assert_unauthorized(
            anonymous.post("/hooks/alertmanager", **malformed), "a bearer token is required"
        )  # type: ignore[arg-type]
        reader = as_token(client, tokens.create("viewer", {Scope.READ}))
        assert_problem(
            reader.post("/incidents", json={"severity": "SEV9"}),
            403,
            "token 'viewer' lacks the 'write' scope for this route",
        )
        # With the right token the body's faults are reported as before.
        assert_problem(client.post("/incidents", **malformed), 400)  # type: ignore[arg-type]


def test_a_revoked_token_is_refused_at_once_through_the_apps_store(
    client: TestClient, tokens: TokenStore
) -> None:
    bot = as_token(client, tokens.create("pager-bridge", {Scope.READ}))
    ok(bot.get("/incidents"))  # now cached as valid
    assert tokens.revoke("pager-bridge") is True
    assert_unauthorized(bot.get("/incidents"), "the bearer token is not valid")
    assert tokens.revoke("pager-bridge") is False, "a token is revoked only once"


def test_a_token_revoked_elsewhere_stops_working_within_cache_seconds(
    client: TestClient, tokens: TokenStore, database_url: str
) -> None:
    """Another process (the CLI) revokes: the app notices once its cache entry expires."""
    tokens.cache_seconds = 0.2
    bot = as_token(client, tokens.create("pager-bridge", {Scope.READ}))
    ok(bot.get("/incidents"))
    elsewhere = create_engine(database_url)
    try:
        assert TokenStore(elsewhere).revoke("pager-bridge") is True
    finally:
        elsewhere.dispose()
    time.sleep(0.25)
    assert_unauthorized(bot.get("/incidents"), "the bearer token is not valid")


def test_a_revoked_name_can_not_be_reused_and_other_tokens_keep_working(
    client: TestClient, tokens: TokenStore
) -> None:
    tokens.create("pager-bridge", {Scope.READ})
    other = as_token(client, tokens.create("status-page", {Scope.READ}))
    tokens.revoke("pager-bridge")
    ok(other.get("/incidents"))
    ok(client.get("/incidents"))


# --- logs ----------------------------------------------------------------------------------


def test_tokens_never_appear_in_logs(client: TestClient, tokens: TokenStore) -> None:
    token = tokens.create("pager-bridge", {Scope.READ, Scope.WRITE})
    digest = hashlib.sha256(token.encode()).hexdigest()
    bot = as_token(client, token)
    with structlog.testing.capture_logs(
        processors=[structlog.contextvars.merge_contextvars]
    ) as logs:
        incident_id = ok(bot.post("/incidents", json={"title": "x", "severity": "SEV2"}), 201)["id"]
        ok(bot.get(f"/incidents/{incident_id}"))
        bot.get("/incidents", headers={"Authorization": f"Bearer {token}-wrong"})
        bot.get("/incidents", headers={"Authorization": f"Basic {token}"})
        bot.post("/incidents", json={"title": ""})  # a validation error echoes the body
        tokens.revoke("pager-bridge")
        bot.get("/incidents")
        as_token(client, ADMIN_TOKEN).get("/incidents")

    assert len(logs) >= 7
    text = repr(logs)
    for secret in (token, ADMIN_TOKEN, token.removeprefix("il_"), digest):
        assert secret not in text
    assert "authorization" not in text.lower()


def test_the_access_log_line_names_the_actor(client: TestClient, tokens: TokenStore) -> None:
    """api/middleware.py: 'The actor is bound by authentication and so appears on the access line'."""
    bot = as_token(client, tokens.create("pager-bridge", {Scope.READ}))
    with structlog.testing.capture_logs(
        processors=[structlog.contextvars.merge_contextvars]
    ) as logs:
        ok(bot.get("/incidents"))
    assert [(entry["event"], entry.get("actor")) for entry in logs] == [("request", "pager-bridge")]


# --- the actor -----------------------------------------------------------------------------


def test_the_actor_is_the_token_name_whatever_the_request_claims(
    client: TestClient, tokens: TokenStore
) -> None:
    bot = as_token(client, tokens.create("pager-bridge", {Scope.READ, Scope.WRITE}))
    spoofing = {
        "X-Actor": "mallory",
        "X-User": "mallory",
        "X-Forwarded-User": "mallory",
        "X-Remote-User": "mallory",
    }
    incident_id = ok(
        bot.post(
            "/incidents",
            json={"title": "Checkout returns 502", "severity": "SEV2"},
            headers=spoofing,
        ),
        201,
    )["id"]
    ok(bot.post(f"/incidents/{incident_id}/notes", json={"text": "hi"}, headers=spoofing), 201)

    store: EventStore = client.app.state.store  # type: ignore[attr-defined]
    recorded = store.read_stream(stream_id_for(UUID(incident_id)))
    assert [event.metadata["actor"] for event in recorded] == ["pager-bridge", "pager-bridge"]
    assert ok(bot.get(f"/incidents/{incident_id}"))["declared_by"] == "pager-bridge"
    entries = ok(bot.get(f"/incidents/{incident_id}/timeline"))["entries"]
    assert {entry["actor"] for entry in entries} == {"pager-bridge"}
    assert "mallory" not in repr([event.metadata for event in recorded])


def test_a_body_claiming_an_actor_is_refused_and_stores_nothing(
    client: TestClient, tokens: TokenStore
) -> None:
    bot = as_token(client, tokens.create("pager-bridge", {Scope.WRITE}))
    for field in ("actor", "metadata", "declared_by"):
        body = {"title": "Checkout returns 502", "severity": "SEV2", field: "mallory"}
        with nothing_stored(client):
            response = bot.post("/incidents", json=body)
        problem = assert_problem(response, 422)
        assert [error["location"] for error in problem["errors"]] == [["body", field]]


def test_the_actor_of_a_later_command_is_its_own_token(
    client: TestClient, tokens: TokenStore
) -> None:
    incident_id = declare(client)  # as admin
    bot = as_token(client, tokens.create("pager-bridge", {Scope.WRITE}))
    ok(bot.post(f"/incidents/{incident_id}/acknowledge"))
    store: EventStore = client.app.state.store  # type: ignore[attr-defined]
    actors = [e.metadata["actor"] for e in store.read_stream(stream_id_for(UUID(incident_id)))]
    assert actors == ["admin", "pager-bridge"]


# --- the command line ----------------------------------------------------------------------


def run_cli(database_url: str, *args: str) -> Any:
    return CliRunner().invoke(cli, [*args, "--database-url", database_url], env={"COLUMNS": "200"})


def table(output: str) -> dict[str, list[str]]:
    """The rows of ``tokens list`` by name: [name, scopes, created, revoked]."""
    rows = {}
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.split("\u2502")[1:-1]]
        if cells:
            rows[cells[0]] = cells
    return rows


def test_cli_creates_lists_and_revokes_tokens(client: TestClient, database_url: str) -> None:
    tokens: TokenStore = client.app.state.tokens  # type: ignore[attr-defined]
    tokens.cache_seconds = 0  # see a revocation by another process at once

    created = run_cli(database_url, "tokens", "create", "ci-bot", "-s", "read")
    assert created.exit_code == 0, created.output
    token = created.stdout.strip()
    assert token.startswith("il_")
    assert len(token) > 40
    assert created.stdout == token + "\n", "create prints the token and nothing else"

    writer = run_cli(database_url, "tokens", "create", "deployer", "-s", "read", "-s", "write")
    assert writer.exit_code == 0, writer.output
    writer_token = writer.stdout.strip()

    bot = as_token(client, token)
    ok(bot.get("/incidents"))
    assert_problem(bot.post("/incidents", json={"title": "x", "severity": "SEV2"}), 403)
    ok(
        as_token(client, writer_token).post("/incidents", json={"title": "x", "severity": "SEV2"}),
        201,
    )

    listed = run_cli(database_url, "tokens", "list")
    assert listed.exit_code == 0, listed.output
    rows = table(listed.stdout)
    assert set(rows) == {"admin", "ci-bot", "deployer"}
    assert rows["ci-bot"][1] == "read"
    assert rows["deployer"][1] == "read,write"
    assert rows["admin"][1] == "admin"
    assert all(row[3] == "" for row in rows.values())
    for secret in (token, writer_token, ADMIN_TOKEN):
        assert secret not in listed.output
        assert hashlib.sha256(secret.encode()).hexdigest() not in listed.output

    revoked = run_cli(database_url, "tokens", "revoke", "ci-bot")
    assert revoked.exit_code == 0, revoked.output
    assert_unauthorized(bot.get("/incidents"), "the bearer token is not valid")
    ok(as_token(client, writer_token).get("/incidents"))

    relisted = table(run_cli(database_url, "tokens", "list").stdout)
    assert relisted["ci-bot"][3] >= relisted["ci-bot"][2] != ""
    assert relisted["deployer"][3] == ""


def test_cli_refuses_a_duplicate_name_an_unknown_revocation_and_an_unknown_scope(
    database_url: str,
) -> None:
    assert run_cli(database_url, "tokens", "create", "ci-bot", "-s", "read").exit_code == 0

    duplicate = run_cli(database_url, "tokens", "create", "ci-bot", "-s", "write")
    assert duplicate.exit_code == 1
    assert "exists already" in duplicate.output
    assert "il_" not in duplicate.stdout

    unknown = run_cli(database_url, "tokens", "revoke", "nobody")
    assert unknown.exit_code == 1
    assert "no live token named 'nobody'" in unknown.output

    assert run_cli(database_url, "tokens", "revoke", "ci-bot").exit_code == 0
    again = run_cli(database_url, "tokens", "revoke", "ci-bot")
    assert again.exit_code == 1, "a revoked token is no longer live"

    bad_scope = run_cli(database_url, "tokens", "create", "other", "-s", "root")
    assert bad_scope.exit_code == 2
    no_scope = run_cli(database_url, "tokens", "create", "other")
    assert no_scope.exit_code == 2
