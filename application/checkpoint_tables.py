"""Tables of stored checkpoints and publication proofs, on the service's one MetaData
(migration 0013 creates them, append-only like ``events``).

``signed_at`` is kept as the exact text that was signed: the signature covers that text,
so a stored checkpoint verifies without re-formatting a time.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Identity, Integer, String, Table, Uuid

from eventstore.schema import metadata

log_checkpoints = Table(
    "log_checkpoints",
    metadata,
    Column(
        "id",
        BigInteger().with_variant(Integer(), "sqlite"),
        Identity(always=False),
        primary_key=True,
    ),
    Column("position", BigInteger, nullable=False),
    Column("chain_hash", String(64), nullable=False),
    Column("signed_at", String(32), nullable=False),
    Column("key_id", String(64), nullable=False),
    Column("signature", String(200), nullable=False),
    Column("reason", String(20), nullable=False),  # scheduled | publication
    sqlite_autoincrement=True,
)

postmortem_publication_proofs = Table(
    "postmortem_publication_proofs",
    metadata,
    Column("incident_id", Uuid(), primary_key=True),
    Column("revision", Integer, primary_key=True, autoincrement=False),
    Column("published_position", BigInteger, nullable=False),  # the publish event's
    Column("checkpoint_id", BigInteger, nullable=False),  # a log_checkpoints row
    Column("document_sha256", String(64), nullable=False),
)
