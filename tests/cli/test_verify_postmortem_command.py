"""``incidents verify-postmortem FILE`` on SQLite and PostgreSQL: OK on a published revision's
document as downloaded; exit 1 when a byte of a section is changed in the file, when the
document and its proof's hash are changed together, when the log was rewritten behind
the triggers' back, or when another key is given; exit 2 for a file that cannot be read."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.app import create_app
from application.log_checkpoints import public_pem
from application.postmortem_digest import document_sha256
from application.settings import Settings
from tests.api.helpers import declare, ok, review_and_approve
from tests.cli.runner import run_cli
from tests.eventstore.test_hash_chain import unguarded

ADMIN_TOKEN = "il_verify-postmortem-admin"
RESOLUTION = "Rolled back deploy 4812."
SECTIONS = {
    "summary": "Checkout failed for 42 minutes.",
    "root_cause": "The payments pool ran dry.",
    "resolution": RESOLUTION,
}


@pytest.fixture
def key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "log-signing.key"
    monkeypatch.setenv("INCIDENTS_LOG_SIGNING_KEY_FILE", str(path))
    return path


@pytest.fixture
def client(database_url: str, key_file: Path) -> Iterator[TestClient]:
    settings = Settings(
        database_url=database_url, admin_token=ADMIN_TOKEN, log_signing_key_file=str(key_file)
    )
    with TestClient(create_app(settings)) as client:
        client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        yield client


def published(client: TestClient) -> str:
    incident_id = declare(client)
    ok(client.post(f"/incidents/{incident_id}/status", json={"status": "resolved"}))
    for section, words in SECTIONS.items():
        url = f"/incidents/{incident_id}/postmortem/sections/{section}"
        ok(client.put(url, json={"text": words}))
    review_and_approve(client, incident_id)
    ok(client.post(f"/incidents/{incident_id}/postmortem/publish"))
    return incident_id


def downloaded(client: TestClient, incident_id: str, tmp_path: Path) -> Path:
    """The revision's JSON document saved exactly as served."""
    answer = client.get(f"/incidents/{incident_id}/postmortem", params={"revision": 1})
    assert answer.status_code == 200
    path = tmp_path / "postmortem.json"
    path.write_bytes(answer.content)
    return path


def verify(database_url: str, *args: str) -> tuple[int, str]:
    done = run_cli("verify-postmortem", *args, "--database-url", database_url)
    return done.exit_code, done.stdout + done.stderr


def test_an_untouched_document_verifies(
    client: TestClient, database_url: str, tmp_path: Path
) -> None:
    incident_id = published(client)
    ok(client.post(f"/incidents/{incident_id}/notes", json={"text": "Found later."}), 201)
    path = downloaded(client, incident_id, tmp_path)
    proof: dict[str, Any] = orjson.loads(path.read_bytes())["proof"]
    key = tmp_path / "public.pem"
    key.write_bytes(client.get("/log/public-key").content)
    code, out = verify(database_url, str(path), "--public-key", str(key))
    assert code == 0, out
    assert f"OK revision 1 of incident {incident_id}" in out
    assert proof["document_sha256"] in out
    assert f"checkpoint at position {proof['position']} (chain {proof['chain_hash']}" in out
    code, out = verify(database_url, str(path))  # the service's own key
    assert code == 0, out


def test_one_byte_changed_in_a_section_fails(
    client: TestClient, database_url: str, tmp_path: Path
) -> None:
    path = downloaded(client, published(client), tmp_path)
    original = path.read_bytes()
    assert original.count(RESOLUTION.encode()) == 1
    path.write_bytes(original.replace(b"Rolled back", b"Rolled bask"))
    code, out = verify(database_url, str(path))
    assert code == 1
    assert "FAILED: the document was edited after publication" in out


def test_a_document_edited_with_its_proofs_hash_fails(
    client: TestClient, database_url: str, tmp_path: Path
) -> None:
    path = downloaded(client, published(client), tmp_path)
    document = orjson.loads(path.read_bytes())
    document["sections"]["resolution"] = "Nothing needed fixing."
    document["proof"]["document_sha256"] = document_sha256(document)
    path.write_bytes(orjson.dumps(document))
    code, out = verify(database_url, str(path))
    assert code == 1
    assert "the document and its proof were edited together" in out


def test_a_rewritten_log_fails(
    client: TestClient, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    incident_id = published(client)
    path = downloaded(client, incident_id, tmp_path)
    # The database's owner rewrites what the resolution said, behind the triggers' back.
    rewrite = (
        "UPDATE events SET data = json_set(data, '$.text', 'Nothing needed fixing.')"
        if engine.dialect.name == "sqlite"
        else "UPDATE events SET data = jsonb_set(data, '{text}', '\"Nothing needed fixing.\"')"
    )
    with unguarded(engine), engine.begin() as conn:
        changed = conn.execute(
            text(
                f"{rewrite} WHERE type = 'postmortem.section_edited' AND stream_id = :stream"
                " AND position = (SELECT max(position) FROM events"
                " WHERE type = 'postmortem.section_edited' AND stream_id = :stream)"
            ),
            {"stream": f"incident-{incident_id}"},
        )
        assert changed.rowcount == 1
    code, out = verify(database_url, str(path))
    assert code == 1
    assert "FAILED: the log was rewritten" in out


def test_another_key_fails_and_a_draft_has_nothing_to_verify(
    client: TestClient, database_url: str, tmp_path: Path
) -> None:
    path = downloaded(client, published(client), tmp_path)
    other = tmp_path / "other.pem"
    other.write_text(public_pem(Ed25519PrivateKey.generate().public_key()))
    code, out = verify(database_url, str(path), "--public-key", str(other))
    assert code == 1
    assert "signature is invalid" in out

    draft = tmp_path / "draft.json"
    draft.write_bytes(client.get(f"/incidents/{declare(client)}/postmortem").content)
    code, out = verify(database_url, str(draft))
    assert code == 1
    assert "carries no publication proof" in out


@pytest.mark.parametrize(
    "content", [None, b"{not json", b"[1, 2]", b'{"incident_id": "x", "revision": 1}']
)
def test_an_unreadable_file_exits_2(
    content: bytes | None, database_url: str, key_file: Path, tmp_path: Path
) -> None:
    path = tmp_path / "postmortem.json"
    if content is not None:
        path.write_bytes(content)
    code, out = verify(database_url, str(path))
    assert code == 2, out
    assert "cannot read" in out
