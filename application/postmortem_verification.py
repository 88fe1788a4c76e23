"""Checking a downloaded postmortem JSON document against its publication proof and the log.

In order: the document's published members still hash to the proof's ``document_sha256``
(else the document was edited); the proof's checkpoint is signed by the key; the log,
walked from its first event, still yields the checkpoint's chain hash at its position
(else the log was rewritten); the log holds the revision's publication at or before that
position; and the revision replayed from that log hashes to ``document_sha256`` too, so a
document edited together with the hash in its proof is caught as well.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection

from application.log_checkpoints import Checkpoint, CheckpointError, checkpoint_of, verify_signature
from application.postmortem_digest import NotAPostmortem, document_sha256
from application.publication_proofs import PUBLISHED, Publication, published_sha256
from eventstore.chain_verify import verify_chain
from projections.errors import NotFound
from projections.postmortem_audit import postmortem_log_of


class Mismatch(Exception):
    """The document, its proof and the log do not agree; the message says where."""


@dataclass(frozen=True, slots=True)
class Verified:
    incident_id: UUID
    revision: int
    document_sha256: str
    published_position: int
    checkpoint: Checkpoint


def identity(document: Any) -> tuple[UUID, int]:
    """The incident and revision a document is of; NotAPostmortem when it is none."""
    if not isinstance(document, Mapping):
        raise NotAPostmortem("not a postmortem document: not a JSON object")
    try:
        return UUID(str(document["incident_id"])), int(document["revision"])
    except (KeyError, TypeError, ValueError) as error:
        raise NotAPostmortem(f"not a postmortem document: {error}") from error


def verify_document(
    conn: Connection, document: Mapping[str, Any], key: Ed25519PublicKey
) -> Verified:
    """``document`` checked as the module says; Mismatch naming the first disagreement,
    NotAPostmortem when it is not a postmortem document at all."""
    incident_id, revision = identity(document)
    computed = document_sha256(document)
    proof = document.get("proof")
    if not isinstance(proof, Mapping):
        raise Mismatch(
            f"revision {revision} carries no publication proof (not published, or published"
            " before the service kept proofs)"
        )
    try:
        checkpoint = checkpoint_of(proof)
    except CheckpointError as error:
        raise Mismatch(f"the proof is not one the service writes: {error}") from error
    claimed = str(proof.get("document_sha256", ""))
    if computed != claimed:
        raise Mismatch(
            f"the document was edited after publication: its SHA-256 is {computed},"
            f" the proof says {claimed}"
        )
    try:
        verify_signature(checkpoint, key)
    except CheckpointError as error:
        raise Mismatch(f"the proof's signature is invalid: {error}") from error
    _log_contains(conn, checkpoint)
    publication = _publication(conn, incident_id, revision, checkpoint.position)
    replayed = published_sha256(conn, publication, datetime.now(UTC))
    if replayed != claimed:
        raise Mismatch(
            f"the log's revision {revision} hashes to {replayed}, not to the proof's"
            f" {claimed}: the document and its proof were edited together"
        )
    return Verified(incident_id, revision, claimed, publication.position, checkpoint)


def _log_contains(conn: Connection, checkpoint: Checkpoint) -> None:
    verdict = verify_chain(conn, positions={checkpoint.position})
    if not verdict.ok:
        raise Mismatch(
            f"the log was rewritten: its chain breaks at position {verdict.bad_position}"
            f" ({verdict.reason})"
        )
    found = verdict.at.get(checkpoint.position)
    if found is None or found.hex() != checkpoint.chain_hash:
        raise Mismatch(
            f"the log was rewritten: the chain up to position {checkpoint.position} no longer"
            f" yields the signed hash {checkpoint.chain_hash} (signed {checkpoint.signed_at})"
        )


def _publication(conn: Connection, incident_id: UUID, revision: int, until: int) -> Publication:
    try:
        audited = postmortem_log_of(conn, incident_id)
    except NotFound:
        raise Mismatch(f"the log holds no incident {incident_id}") from None
    for env in audited:
        recorded = env.recorded
        if (
            recorded.type == PUBLISHED
            and recorded.data.get("revision") == revision
            and recorded.position <= until
        ):
            return Publication(incident_id, revision, recorded.position)
    raise Mismatch(
        f"the log holds no publication of revision {revision} at or before position {until}"
    )
