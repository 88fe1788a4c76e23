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
