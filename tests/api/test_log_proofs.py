"""``GET /log/checkpoint`` and ``GET /log/public-key`` on SQLite and PostgreSQL: a checkpoint
names the log's head and its chain hash, and its signature verifies with the published key
and no code of the service."""

from __future__ import annotations

import base64

import orjson
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from eventstore.chain import last_link


def _declare(client: TestClient) -> None:
    body = {"title": "Checkout returns 502", "severity": "SEV2", "services": ["checkout"]}
    client.post("/incidents", json=body).raise_for_status()


def test_a_checkpoint_names_the_head_and_verifies_with_the_published_key(
    client: TestClient, engine: Engine
) -> None:
    _declare(client)
    _declare(client)
    answer = client.get("/log/checkpoint")
    assert answer.status_code == 200
    checkpoint = answer.json()
    with engine.connect() as conn:
        position, digest = last_link(conn)
    assert (checkpoint["position"], checkpoint["chain_hash"]) == (position, digest.hex())
    assert checkpoint["algorithm"] == "Ed25519"

    pem = client.get("/log/public-key")
    assert pem.headers["content-type"].startswith("application/x-pem-file")
    key = serialization.load_pem_public_key(pem.content)
    assert isinstance(key, Ed25519PublicKey)
    signed = {k: checkpoint[k] for k in ("chain_hash", "position", "signed_at")}
    message = orjson.dumps(signed, option=orjson.OPT_SORT_KEYS)
    key.verify(base64.b64decode(checkpoint["signature"]), message)
    forged = orjson.dumps({**signed, "position": position - 1}, option=orjson.OPT_SORT_KEYS)
    with pytest.raises(InvalidSignature):
        key.verify(base64.b64decode(checkpoint["signature"]), forged)


def test_the_proofs_need_a_token(client: TestClient) -> None:
    del client.headers["Authorization"]
    assert client.get("/log/checkpoint").status_code == 401
    assert client.get("/log/public-key").status_code == 401
