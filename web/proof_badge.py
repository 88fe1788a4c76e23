"""What the postmortem page's "Verified" badge shows of a published revision's proof: the
log position, the chain hash shortened to read at a glance (whole in the tooltip) and the
signing time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from application.log_checkpoints import SIGNED_AT_FORMAT
from projections.documents.publication_proof import PublicationProof

SHORT_HASH = 12
"""Hex digits of the chain hash the badge shows; enough to tell two checkpoints apart."""


@dataclass(frozen=True, slots=True)
class ProofBadge:
    position: int
    short_hash: str
    signed_at: datetime
    tooltip: str


def proof_badge(proof: PublicationProof | None) -> ProofBadge | None:
    """The badge of ``proof``; None (no badge) for a revision without one."""
    if proof is None:
        return None
    return ProofBadge(
        position=proof.position,
        short_hash=proof.chain_hash[:SHORT_HASH],
        signed_at=datetime.strptime(proof.signed_at, SIGNED_AT_FORMAT).replace(tzinfo=UTC),
        tooltip=(
            f"Published as of log position {proof.position}, chain {proof.chain_hash},"
            f" signed {proof.signed_at} by key {proof.key_id}; document SHA-256"
            f" {proof.document_sha256}. Check a downloaded copy with"
            " incidents verify-postmortem FILE."
        ),
    )
