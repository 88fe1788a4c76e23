"""Token and integration names follow one rule on the command line and over HTTP.

The rule itself is tested in tests/unit/test_credential_names.py; here: every way in
applies it, refuses before storing anything, and a revoked name says it is revoked.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from application.integrations import integrations
from application.tokens import api_tokens
from cli.main import app as cli
from eventstore.engine import create_engine
from tests.api.helpers import assert_problem, ok

BAD_NAMES = {
    "empty": "",
    "a space": "ci bot",
    "a newline": "ci\nbot",
    "an escape": "ci\x1bbot",
    "zero-width space": "ci\u200bbot",
    "101 characters": "x" * 101,
}


def run_cli(database_url: str, *args: str) -> Any:
    return CliRunner().invoke(cli, [*args, "--database-url", database_url], env={"COLUMNS": "200"})


def rows(engine: Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        tokens = conn.execute(select(func.count()).select_from(api_tokens)).scalar_one()
        found = conn.execute(select(func.count()).select_from(integrations)).scalar_one()
    return int(tokens), int(found)


@pytest.fixture
def db(database_url: str) -> Any:
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


@pytest.mark.parametrize("name", list(BAD_NAMES.values()), ids=list(BAD_NAMES))
def test_the_cli_refuses_a_bad_token_or_integration_name_and_stores_nothing(
    database_url: str, db: Engine, name: str
) -> None:
    before = rows(db)

    token = run_cli(database_url, "tokens", "create", name, "--scope", "read")
    integration = run_cli(database_url, "integrations", "create", name, "--kind", "generic")

    assert token.exit_code == 1, token.output
    assert "token name" in token.stderr
    assert "refused" in token.stderr
    assert token.stdout == ""
    assert integration.exit_code == 1, integration.output
    assert "integration name" in integration.stderr
    assert integration.stdout == ""
    assert rows(db) == before


def test_the_cli_accepts_a_name_at_the_limit(database_url: str) -> None:
    name = "a/" + "x" * 98
    created = run_cli(database_url, "tokens", "create", name, "--scope", "read")
    assert created.exit_code == 0, created.output
    assert created.stdout.startswith("il_")


@pytest.mark.parametrize("name", list(BAD_NAMES.values()), ids=list(BAD_NAMES))
def test_http_refuses_a_bad_integration_name_naming_the_field(
    client: TestClient, db: Engine, name: str
) -> None:
    before = rows(db)

    problem = assert_problem(
        client.post("/integrations", json={"name": name, "kind": "generic"}), 422
    )

    assert [error["location"] for error in problem["errors"]] == [["body", "name"]]
    assert rows(db) == before


def test_http_keeps_a_name_as_given_instead_of_trimming_it(client: TestClient) -> None:
    problem = assert_problem(
        client.post("/integrations", json={"name": " prod-am", "kind": "generic"}), 422
    )
    assert "a space at character 1" in problem["detail"]
    listed = ok(client.get("/integrations"))
    assert all(found["name"] != "prod-am" for found in listed)


def test_a_revoked_token_name_says_it_is_revoked(database_url: str) -> None:
    assert run_cli(database_url, "tokens", "create", "ci-bot", "-s", "read").exit_code == 0
    live = run_cli(database_url, "tokens", "create", "ci-bot", "-s", "read")
    assert live.exit_code == 1
    assert "a token named 'ci-bot' exists already" in live.stderr
    assert run_cli(database_url, "tokens", "revoke", "ci-bot").exit_code == 0

    again = run_cli(database_url, "tokens", "create", "ci-bot", "-s", "read")

    assert again.exit_code == 1
    assert "a token named 'ci-bot' was revoked on " in again.stderr
    assert "names are not reused: choose another name" in again.stderr
    assert again.stdout == ""


def test_a_revoked_integration_name_says_it_is_revoked(client: TestClient) -> None:
    ok(client.post("/integrations", json={"name": "prod-am", "kind": "generic"}), 201)
    live = assert_problem(
        client.post("/integrations", json={"name": "prod-am", "kind": "generic"}), 409
    )
    assert live["detail"] == "an integration named 'prod-am' exists already"
    assert client.delete("/integrations/prod-am").status_code == 204

    again = assert_problem(
        client.post("/integrations", json={"name": "prod-am", "kind": "pagerduty"}), 409
    )

    assert "an integration named 'prod-am' was revoked on " in again["detail"]
    assert again["detail"].endswith("names are not reused: choose another name")


def test_the_openapi_document_publishes_the_rule(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()["components"]["schemas"]["IntegrationRequest"]
    name = schema["properties"]["name"]
    assert (name["minLength"], name["maxLength"]) == (1, 100)
    assert name["pattern"].startswith("^[^\\s\\x00-\\x1f")
