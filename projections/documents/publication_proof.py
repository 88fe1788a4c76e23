"""The proof a published postmortem revision carries: the signed checkpoint of the log taken
right after its publication, and the SHA-256 of what publishing fixed (application/
postmortem_digest.py defines the bytes)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

PROOF_EXAMPLE: dict[str, Any] = {
    "position": 48213,
    "chain_hash": "9f2c6e0b2f8d4c51a3e7b6d9c0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3",
    "signed_at": "2026-12-04T10:15:02Z",
    "signature": "q5Yb0m3v1C1Jc3k0nS7v8Yq2bXcO0m1pQe6h2rW9uA4sT7yZ1xV3dF5gH8jK0lMnPqRsTuVwXyZaBcDeFgHiJg==",
    "key_id": "3b1f0c9e7d2a4b68",
    "algorithm": "Ed25519",
    "document_sha256": "5d41402abc4b2a76b9719d911017c592ae2f1f0e4c8d2b7a9e6f3c1d0b8a7e6f",
    "published_position": 48212,
}


class PublicationProof(BaseModel):
    """Where the log stood, signed, right after this revision was published, and the hash of
    the document's published members. ``incidents verify-postmortem FILE`` checks it."""

    model_config = ConfigDict(frozen=True, json_schema_extra={"examples": [PROOF_EXAMPLE]})

    position: int = Field(description="The log position the checkpoint vouches for.")
    chain_hash: str = Field(description="The hash chain's value at that position, 64 hex digits.")
    signed_at: str = Field(description="When the checkpoint was signed, UTC, to the second.")
    signature: str = Field(
        description='Base64 Ed25519 signature of {"chain_hash","position","signed_at"} as'
        " canonical JSON (keys sorted, no spaces), verified with GET /log/public-key."
    )
    key_id: str = Field(description="First 16 hex digits of SHA-256 of the raw public key.")
    algorithm: str = Field(default="Ed25519", description="The signature's algorithm.")
    document_sha256: str = Field(
        description="SHA-256 of the document's published members (incident_id, revision,"
        " status, published_at, published_by, review_requested_at, reviewers, verdicts,"
        " sections) as canonical JSON: keys sorted, no whitespace, UTF-8."
    )
    published_position: int = Field(description="The log position of the publication event.")
