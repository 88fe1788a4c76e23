"""A database moved with export, import and ``credentials copy`` keeps its credentials working.

The log's export holds events only (no secret, no hash); tokens and integrations go
database to database. After the move the old API token authenticates, the PagerDuty
routing key and the generic integration's HMAC secret are accepted, and what was
revoked stays revoked, with its name still taken.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from application.integrations import IntegrationKind, IntegrationStore
from application.settings import Settings
from application.tokens import Scope, TokenStore
from eventstore.engine import create_engine
from tests.api.hooks_support import signed_headers
from tests.cli.runner import run_cli
from tests.conftest import unmigrated_postgres

ROUTING_KEY = "R0ut1ngKeyOfTheOldDatabase000000"


@pytest.fixture
def empty_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """Where the log moves to: no database yet (SQLite) or a new, unmigrated one."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path}/moved/incidents.db"
        return
    with unmigrated_postgres("incidents_moved") as url:
        yield url


def old_database(url: str) -> dict[str, str]:
    """Credentials of every kind, one revoked, and an incident declared with the token."""
    engine = create_engine(url)
    tokens = TokenStore(engine)
    credentials = {
        "token": tokens.create("deployer", {Scope.READ, Scope.WRITE}),
        "revoked": tokens.create("ex-bot", {Scope.READ}),
    }
    tokens.revoke("ex-bot")
    found = IntegrationStore(engine)
    found.create("prod-pd", IntegrationKind.PAGERDUTY, "storage", routing_key=ROUTING_KEY)
    credentials["secret"] = found.create(
        "ci-checks", IntegrationKind.GENERIC, "checkout"
    ).credential
    engine.dispose()
    with served(url) as client:
        declared = client.post(
            "/incidents",
            json={"title": "Checkout returns 502", "severity": "SEV2", "services": ["checkout"]},
            headers={"Authorization": f"Bearer {credentials['token']}"},
        )
        assert declared.status_code == 201, declared.text
        credentials["incident"] = declared.json()["id"]
    return credentials


def served(url: str) -> TestClient:
    return TestClient(create_app(Settings(database_url=url)))


def test_tokens_and_integrations_work_after_export_import_and_copy(
    database_url: str, empty_url: str, tmp_path: Path
) -> None:
    old = old_database(database_url)
    exported = tmp_path / "log.jsonl"
    assert run_cli("export", str(exported), "--database-url", database_url).exit_code == 0
    for secret in (old["token"], old["revoked"], old["secret"], ROUTING_KEY):
        assert secret.encode() not in exported.read_bytes()

    imported = run_cli("import", str(exported), "--database-url", empty_url)
    assert imported.exit_code == 0, imported.output
    copied = run_cli("credentials", "copy", "--from", database_url, "--database-url", empty_url)
    assert copied.exit_code == 0, copied.output
    assert "copied 2 tokens and 2 integrations (0 already there)" in copied.stderr
    again = run_cli("credentials", "copy", "--from", database_url, "--database-url", empty_url)
    assert "copied 0 tokens and 0 integrations (4 already there)" in again.stderr

    with served(empty_url) as client:
        bearer = {"Authorization": f"Bearer {old['token']}"}
        read = client.get(f"/incidents/{old['incident']}", headers=bearer)
        assert read.status_code == 200, read.text
        assert read.json()["title"] == "Checkout returns 502"
        revoked = client.get("/incidents", headers={"Authorization": f"Bearer {old['revoked']}"})
        assert revoked.status_code == 401

        paged = client.post(
            "/hooks/pagerduty/v2/enqueue",
            json={
                "routing_key": ROUTING_KEY,
                "event_action": "trigger",
                "payload": {"summary": "Disk full", "source": "db-01", "severity": "error"},
            },
        )
        assert paged.status_code == 202, paged.text
        body = json.dumps(
            {
                "title": "Latency above 2s",
                "severity": "critical",
                "dedup_key": "lat",
                "status": "firing",
            }
        ).encode()
        signed = client.post(
            "/hooks/generic", content=body, headers=signed_headers(old["secret"], body, "ci-checks")
        )
        assert signed.status_code == 200, signed.text

    reused = run_cli("tokens", "create", "ex-bot", "-s", "read", "--database-url", empty_url)
    assert reused.exit_code == 1
    assert "a token named 'ex-bot' was revoked on " in reused.stderr


def test_a_clashing_credential_copies_nothing(
    database_url: str, empty_url: str, tmp_path: Path
) -> None:
    old_database(database_url)
    exported = tmp_path / "log.jsonl"
    assert run_cli("export", str(exported), "--database-url", database_url).exit_code == 0
    assert run_cli("import", str(exported), "--database-url", empty_url).exit_code == 0
    made = run_cli("tokens", "create", "deployer", "-s", "admin", "--database-url", empty_url)
    assert made.exit_code == 0

    clash = run_cli("credentials", "copy", "--from", database_url, "--database-url", empty_url)

    assert clash.exit_code == 1
    assert clash.stderr.splitlines() == [
        "the target already has another token named 'deployer': nothing was copied"
    ]
    listed = run_cli("integrations", "list", "--database-url", empty_url)
    assert "prod-pd" not in listed.stdout
