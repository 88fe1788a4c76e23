"""Proofs of postmortem publication: right after a publish event commits, a signed checkpoint
of the log that covers it (stored with reason "publication") and the SHA-256 of what the
publication fixed (application/postmortem_digest.py), kept in
``postmortem_publication_proofs`` and served with the revision's document.

The hash is computed from the log replayed up to the publish event, not from the read
models, so it is the same whether projections run inline or in workers, and a verifier
holding the log can recompute it the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

import structlog
from sqlalchemy import Connection, Engine, insert, select

from application.checkpoint_tables import log_checkpoints, postmortem_publication_proofs
from application.log_checkpoints import LogSigner
from application.postmortem_digest import document_sha256
from application.stored_checkpoints import StoredCheckpoint, store_checkpoint, under_append_lock
from domain.values import PostmortemStatus, incident_id_of
from eventstore.chain import last_link
from eventstore.records import RecordedEvent
from projections.as_of import parse_as_of
from projections.documents.postmortem import PostmortemDocument, postmortem_document
from projections.documents.publication_proof import PublicationProof

_log = structlog.get_logger()

PUBLISHED = "postmortem.published"


@dataclass(frozen=True, slots=True)
class Publication:
    """One publish event: which revision of which incident's postmortem, and where."""

    incident_id: UUID
    revision: int
    position: int


def publications_in(recorded: Sequence[RecordedEvent]) -> list[Publication]:
    return [
        Publication(incident_id_of(r.stream_id), int(r.data["revision"]), r.position)
        for r in recorded
        if r.type == PUBLISHED
    ]


def published_sha256(conn: Connection, publication: Publication, now: datetime) -> str:
    """``document_sha256`` of the revision's document as the log stood at its publication."""
    as_of = parse_as_of(str(publication.position))
    assert as_of is not None  # a position always parses
    doc = postmortem_document(conn, publication.incident_id, publication.revision, now, as_of)
    return document_sha256(doc.model_dump(mode="json"))


class PublicationProver:
    """Takes the proof of each publication an append committed (``after_commit``)."""

    def __init__(
        self, engine: Engine, signer: LogSigner, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.engine = engine
        self.signer = signer
        self.clock = clock or (lambda: datetime.now(UTC))

    def after_commit(self, recorded: Sequence[RecordedEvent]) -> None:
        """Prove the publications among ``recorded``, just committed. A failure is logged and
        leaves the revision without a proof: the publication itself stands."""
        publications = publications_in(recorded)
        if not publications:
            return
        try:
            self.prove(publications)
        except Exception:
            _log.error(
                "postmortem.publication_proof_failed",
                incidents=[str(p.incident_id) for p in publications],
                exc_info=True,
            )

    def prove(self, publications: Sequence[Publication]) -> StoredCheckpoint | None:
        """One signed checkpoint covering ``publications`` and a proof row for each revision
        not proven yet; the checkpoint, or None when every one was proven already."""
        now = self.clock()
        with self.engine.connect() as conn:
            digests = {
                (p.incident_id, p.revision): published_sha256(conn, p, now) for p in publications
            }
        with under_append_lock(self.engine) as conn:
            fresh = [p for p in publications if proof_of(conn, p.incident_id, p.revision) is None]
            if not fresh:
                return None
            position, digest = last_link(conn)  # committed, so at or after every publication
            stored = store_checkpoint(conn, self.signer.sign(position, digest, now), "publication")
            conn.execute(
                insert(postmortem_publication_proofs),
                [
                    {
                        "incident_id": p.incident_id,
                        "revision": p.revision,
                        "published_position": p.position,
                        "checkpoint_id": stored.id,
                        "document_sha256": digests[(p.incident_id, p.revision)],
                    }
                    for p in fresh
                ],
            )
        for p in fresh:
            _log.info(
                "postmortem.publication_proven",
                incident_id=str(p.incident_id),
                revision=p.revision,
                checkpoint_position=position,
            )
        return stored


def proof_of(conn: Connection, incident_id: UUID, revision: int) -> PublicationProof | None:
    """The proof of the revision's publication; None when it has none."""
    proofs, checkpoints = postmortem_publication_proofs, log_checkpoints
    row = conn.execute(
        select(proofs, checkpoints)
        .join(checkpoints, checkpoints.c.id == proofs.c.checkpoint_id)
        .where(proofs.c.incident_id == incident_id, proofs.c.revision == revision)
    ).first()
    if row is None:
        return None
    return PublicationProof(
        position=row.position,
        chain_hash=row.chain_hash,
        signed_at=row.signed_at,
        signature=row.signature,
        key_id=row.key_id,
        document_sha256=row.document_sha256,
        published_position=row.published_position,
    )


def with_proof(conn: Connection, doc: PostmortemDocument) -> PostmortemDocument:
    """``doc`` with the proof of its revision's publication, when it is published and proven."""
    if doc.status is not PostmortemStatus.PUBLISHED:
        return doc
    proof = proof_of(conn, doc.incident_id, doc.revision)
    return doc if proof is None else doc.model_copy(update={"proof": proof})
