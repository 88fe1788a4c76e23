"""The answers of the log's proofs: a signed checkpoint."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from api.schemas.common import examples

CHECKPOINT_EXAMPLE = {
    "position": 48213,
    "chain_hash": "9f2c6e0b2f8d4c51a3e7b6d9c0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3",
    "signed_at": "2026-12-04T10:15:02Z",
    "signature": "q5Yb0m3v1C1Jc3k0nS7v8Yq2bXcO0m1pQe6h2rW9uA4sT7yZ1xV3dF5gH8jK0lMnPqRsTuVwXyZaBcDeFgHiJg==",
    "key_id": "3b1f0c9e7d2a4b68",
    "algorithm": "Ed25519",
}


class LogCheckpoint(BaseModel):
    """The log's head, signed: keep it outside the service and verify it later."""

    model_config = examples(CHECKPOINT_EXAMPLE)

    position: int = Field(description="The log position of the newest chained event (0: empty).")
    chain_hash: str = Field(description="The chain's hash at that position, 64 hex digits.")
    signed_at: str = Field(description="When it was signed, UTC, to the second.")
    signature: str = Field(
        description='Base64 Ed25519 signature of {"chain_hash","position","signed_at"} as'
        " canonical JSON (keys sorted, no spaces)."
    )
    key_id: str = Field(description="First 16 hex digits of SHA-256 of the raw public key.")
    algorithm: Literal["Ed25519"] = Field(description="The signature's algorithm.")


STORED_EXAMPLE = {"id": 311, **CHECKPOINT_EXAMPLE, "reason": "scheduled"}
PAGE_EXAMPLE = {
    "checkpoints": [STORED_EXAMPLE],
    "next_after": 311,
    "next_url": "https://incidents.example.com/log/checkpoints?limit=1&after=311",
}


class StoredLogCheckpoint(LogCheckpoint):
    """A checkpoint the service stored: on its schedule, or right after a publication."""

    model_config = examples(STORED_EXAMPLE)

    id: int = Field(description="Its place among stored checkpoints: page with ``after``.")
    reason: Literal["scheduled", "publication"] = Field(
        description="scheduled (every INCIDENTS_CHECKPOINT_MINUTES while the log moves) or"
        " publication (right after a postmortem revision was published)."
    )


class CheckpointPage(BaseModel):
    """Stored checkpoints, oldest first; ask for ``next_url`` (``after=next_after``) for more."""

    model_config = examples(PAGE_EXAMPLE)

    checkpoints: list[StoredLogCheckpoint] = Field(description="This page's checkpoints.")
    next_after: int = Field(
        description="The id of the last checkpoint on this page (``after`` when it is empty):"
        " pass it as ``after`` next; an empty page means none newer yet."
    )
    next_url: str = Field(description="This request with ``after`` set to ``next_after``.")
