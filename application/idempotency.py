"""Idempotency keys: a retried command returns its original result and writes nothing.

The key's row is inserted in the same transaction as the command's events, so either
both exist or neither: a retry can never find events without their key, or the reverse,
and of two concurrent requests with one key exactly one appends.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    delete,
    select,
)

from domain.values import incident_id_of
from eventstore import AppendResult
from eventstore.schema import metadata
from eventstore.types import UtcDateTime, json_document

RETENTION = timedelta(hours=24)
PURGE_INTERVAL = timedelta(minutes=10)
"""How often, at most, a process deletes expired keys (see ``IncidentService``)."""

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("principal", String(200), nullable=False),
    Column("key", String(200), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("stream_id", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("positions", json_document(), nullable=False),
    Column("first_position", BigInteger, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    PrimaryKeyConstraint("principal", "key", name="pk_idempotency_keys"),
    Index("ix_idempotency_keys_created_at", "created_at"),
)


class IdempotencyMismatch(Exception):
    """The key was used before for a different request."""


@dataclass(frozen=True, slots=True)
class IdempotencyRequest:
    principal: str
    key: str
    request_hash: str


def request_hash(method: str, path: str, body: bytes) -> str:
    """The request's fingerprint: method, path and body, a JSON body by its meaning.

    A JSON body is hashed in a canonical form (keys sorted, no insignificant whitespace),
    so a retry that serialises the same document differently is still the same request;
    a different value is not. Any other body is hashed as its bytes (a canonical form is
    itself valid JSON, so it can never equal a body that did not parse).
    """
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, RecursionError):  # not JSON, not UTF-8, too deep: the bytes count
        canonical = body
    return hashlib.sha256(b"\x00".join([method.encode(), path.encode(), canonical])).hexdigest()


def find(
    conn: Connection, request: IdempotencyRequest, now: datetime | None = None
) -> AppendResult | None:
    """The original result for this key, or None; IdempotencyMismatch for another request."""
    now = now or datetime.now(UTC)
    t = idempotency_keys
    row = conn.execute(
        select(t).where(t.c.principal == request.principal, t.c.key == request.key)
    ).first()
    if row is None or row.created_at < now - RETENTION:
        return None
    if row.request_hash != request.request_hash:
        raise IdempotencyMismatch(
            f"Idempotency-Key {request.key!r} was used for a different request;"
            " use a new key for a new request"
        )
    return AppendResult(row.stream_id, row.version, tuple(row.positions))


def remember(
    conn: Connection,
    request: IdempotencyRequest,
    result: AppendResult,
    now: datetime | None = None,
) -> None:
    """Store the key with its result (inside the append transaction)."""
    t = idempotency_keys
    now = now or datetime.now(UTC)
    # A key past retention may be reused: replace it rather than collide with it.
    conn.execute(
        delete(t).where(
            t.c.principal == request.principal,
            t.c.key == request.key,
            t.c.created_at < now - RETENTION,
        )
    )
    conn.execute(
        t.insert().values(
            principal=request.principal,
            key=request.key,
            request_hash=request.request_hash,
            stream_id=result.stream_id,
            version=result.version,
            positions=list(result.positions),
            first_position=result.positions[0],
            created_at=now,
        )
    )


def forget_expired(conn: Connection, now: datetime | None = None) -> int:
    """Delete keys older than the retention period; how many went."""
    cutoff = (now or datetime.now(UTC)) - RETENTION
    return conn.execute(
        delete(idempotency_keys).where(idempotency_keys.c.created_at < cutoff)
    ).rowcount


def incident_of(result: AppendResult) -> UUID:
    """The incident the remembered command wrote to."""
    return incident_id_of(result.stream_id)
