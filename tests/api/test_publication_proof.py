"""Publication proofs through the API on SQLite and PostgreSQL: publishing a revision stores a
signed checkpoint covering it, whose signature verifies with GET /log/public-key, and the
revision's JSON document carries it with a hash that anyone can recompute from the
document (here with the standard library, not the service's code); the Markdown prints
it; later changes to the incident leave the proven revision's hash as it was."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.api.helpers import assert_problem, declare, ok, review_and_approve, use_clock
from tests.clocks import FakeClock

SECTIONS = {
    "summary": "Checkout failed for 42 minutes after deploy 4812.",
    "root_cause": "Deploy 4812 halved the payments connection pool — „ü“.",
    "resolution": "Rolled back deploy 4812.",
}
PROVEN = (
    "incident_id",
    "revision",
    "status",
    "published_at",
    "published_by",
    "review_requested_at",
    "reviewers",
    "verdicts",
    "sections",
)
"""The members the proof's hash covers, as the README defines them."""


def publish(client: TestClient, reviewer: str = "reviewer") -> str:
    incident_id = declare(client)
    ok(client.post(f"/incidents/{incident_id}/status", json={"status": "resolved"}))
    for section, words in SECTIONS.items():
        url = f"/incidents/{incident_id}/postmortem/sections/{section}"
        ok(client.put(url, json={"text": words}))
    review_and_approve(client, incident_id, reviewer)
    ok(client.post(f"/incidents/{incident_id}/postmortem/publish"))
    return incident_id


def recomputed_sha256(document: dict[str, Any]) -> str:
    """The README's definition, written with the standard library alone."""
    proven = {name: document[name] for name in PROVEN}
    canonical = json.dumps(proven, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def public_key(client: TestClient) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(client.get("/log/public-key").content)
    assert isinstance(key, Ed25519PublicKey)
    return key


def published_position(client: TestClient, incident_id: str) -> int:
    page = ok(client.get("/events", params={"stream": incident_id, "type": "postmortem.published"}))
    position: int = page["events"][-1]["position"]
    return position


def test_a_published_revision_carries_a_proof_that_verifies(
    client: TestClient, engine: Engine
) -> None:
    incident_id = publish(client)
    document = ok(client.get(f"/incidents/{incident_id}/postmortem"))
    proof = document["proof"]
    assert proof is not None
    assert proof["document_sha256"] == recomputed_sha256(document)
    assert proof["published_position"] == published_position(client, incident_id)
    assert proof["position"] >= proof["published_position"]
    with engine.connect() as conn:
        chained = conn.execute(
            text("SELECT chain_hash FROM events WHERE position = :p"),
            {"p": proof["position"]},
        ).scalar_one()
    assert proof["chain_hash"] == chained
    signed = {name: proof[name] for name in ("chain_hash", "position", "signed_at")}
    public_key(client).verify(
        base64.b64decode(proof["signature"]), orjson.dumps(signed, option=orjson.OPT_SORT_KEYS)
    )

    stored = ok(client.get("/log/checkpoints"))["checkpoints"]
    assert [(c["position"], c["reason"]) for c in stored] == [(proof["position"], "publication")]
    assert stored[0]["signature"] == proof["signature"]


def test_the_markdown_prints_the_proof(client: TestClient) -> None:
    incident_id = publish(client)
    proof = ok(client.get(f"/incidents/{incident_id}/postmortem"))["proof"]
    markdown = client.get(
        f"/incidents/{incident_id}/postmortem", headers={"Accept": "text/markdown"}
    ).text
    assert (
        f"Published as of log position {proof['position']}, chain {proof['chain_hash']},"
        f" signed {proof['signed_at']} (key {proof['key_id']}); document SHA-256"
        f" {proof['document_sha256']}"
    ) in markdown


def test_later_changes_leave_the_proven_revision_hashing_the_same(client: TestClient) -> None:
    incident_id = publish(client)
    before = ok(client.get(f"/incidents/{incident_id}/postmortem"))
    ok(client.post(f"/incidents/{incident_id}/notes", json={"text": "Found later."}), 201)
    ok(
        client.put(
            f"/incidents/{incident_id}/postmortem/sections/summary",
            json={"text": "Revision 2 starts here."},
        )
    )
    after = ok(client.get(f"/incidents/{incident_id}/postmortem", params={"revision": 1}))
    assert after["timeline"] != before["timeline"]
    assert after["latest_revision"] == 2
    assert after["proof"] == before["proof"]
    assert recomputed_sha256(after) == before["proof"]["document_sha256"]

    draft = ok(client.get(f"/incidents/{incident_id}/postmortem"))
    assert (draft["revision"], draft["proof"]) == (2, None)
    markdown = client.get(
        f"/incidents/{incident_id}/postmortem", headers={"Accept": "text/markdown"}
    ).text
    assert "Published as of log position" not in markdown


def test_a_revision_published_without_a_proof_says_nothing_of_one(client: TestClient) -> None:
    # A service that does not prove publications, as before proofs were kept.
    use_clock(client, FakeClock(datetime.now(UTC)))
    incident_id = publish(client)
    document = ok(client.get(f"/incidents/{incident_id}/postmortem"))
    assert (document["status"], document["proof"]) == ("published", None)
    markdown = client.get(
        f"/incidents/{incident_id}/postmortem", headers={"Accept": "text/markdown"}
    ).text
    assert "revision 1" in markdown.lower()
    assert "Published as of log position" not in markdown


def test_stored_checkpoints_are_paged_oldest_first(client: TestClient) -> None:
    first, second = publish(client), publish(client, reviewer="second-reviewer")
    page = ok(client.get("/log/checkpoints", params={"limit": 1}))
    assert len(page["checkpoints"]) == 1
    assert page["next_url"].endswith(f"after={page['next_after']}")
    rest = ok(client.get("/log/checkpoints", params={"after": page["next_after"]}))
    positions = [c["position"] for c in page["checkpoints"] + rest["checkpoints"]]
    assert positions == sorted(positions)
    assert positions[0] >= published_position(client, first)
    assert positions[1] >= published_position(client, second)
    empty = ok(client.get("/log/checkpoints", params={"after": rest["next_after"]}))
    assert (empty["checkpoints"], empty["next_after"]) == ([], rest["next_after"])


def test_bad_paging_is_refused_naming_the_field(client: TestClient) -> None:
    body = assert_problem(client.get("/log/checkpoints", params={"limit": 0}), 422)
    assert "limit" in json.dumps(body)
    body = assert_problem(client.get("/log/checkpoints", params={"after": "x"}), 422)
    assert "after" in json.dumps(body)
    del client.headers["Authorization"]
    assert client.get("/log/checkpoints").status_code == 401
