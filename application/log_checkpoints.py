"""Signed checkpoints of the log: ``{position, chain_hash, signed_at}`` signed with the
service's Ed25519 key, for auditors to keep outside the service.

A checkpoint kept elsewhere is what detects a log rewritten from the start: whoever
holds one can ask the log (or an export of it) to recompute the chain up to its
position and find the same hash. The signed message is the checkpoint's three fields as
canonical JSON (keys sorted, no spaces, UTF-8):

    {"chain_hash":"9f2c…","position":48213,"signed_at":"2026-12-04T10:15:02Z"}

The private key lives in ``INCIDENTS_LOG_SIGNING_KEY_FILE`` (PEM, PKCS #8, made on first
use with mode 0600); the public key is served at ``GET /log/public-key`` as PEM.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Engine

from eventstore.chain import last_link

SIGNED_AT_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
"""How ``signed_at`` is written: UTC, to the second."""


class CheckpointError(ValueError):
    """A checkpoint that cannot be read, or whose signature does not verify."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    position: int
    chain_hash: str
    signed_at: str
    signature: str = ""
    key_id: str = ""

    def message(self) -> bytes:
        """The bytes the signature covers."""
        fields = {
            "chain_hash": self.chain_hash,
            "position": self.position,
            "signed_at": self.signed_at,
        }
        return orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)

    def document(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "chain_hash": self.chain_hash,
            "signed_at": self.signed_at,
            "signature": self.signature,
            "key_id": self.key_id,
            "algorithm": "Ed25519",
        }


def checkpoint_of(document: Any) -> Checkpoint:
    """A checkpoint from its JSON document (as ``GET /log/checkpoint`` answers).

    Read strictly, field by field, as the service writes them: a position that is text
    or a fraction, or a hash in capitals, is a copy someone changed, not one to accept
    as the value it resembles. Fields other than these (``algorithm``, a stored
    checkpoint's ``id``) are left to the reader.
    """
    if not isinstance(document, dict):
        raise CheckpointError(f"not a checkpoint: a JSON object was expected, not {document!r:.40}")
    try:
        position = document["position"]
        if type(position) is not int or position < 0:
            raise CheckpointError(f"position must be a whole number >= 0, not {position!r:.40}")
        chain_hash = document["chain_hash"]
        if type(chain_hash) is not str or not _is_hash(chain_hash):
            raise CheckpointError("chain_hash must be 64 lowercase hexadecimal digits")
        return Checkpoint(
            position=position,
            chain_hash=chain_hash,
            signed_at=_text(document["signed_at"], "signed_at"),
            signature=_text(document["signature"], "signature"),
            key_id=_text(document.get("key_id", ""), "key_id", empty=True),
        )
    except KeyError as error:
        raise CheckpointError(f"not a checkpoint: it has no {error.args[0]}") from error


_HEX = frozenset("0123456789abcdef")


def _is_hash(text: str) -> bool:
    return len(text) == 64 and _HEX.issuperset(text)


def _text(value: Any, name: str, *, empty: bool = False) -> str:
    if type(value) is not str or not (value or empty) or len(value) > 200:
        least = 0 if empty else 1
        raise CheckpointError(f"{name} must be a string of {least} to 200 characters")
    return value


def key_id(public: Ed25519PublicKey) -> str:
    """The first 16 hex digits of SHA-256 over the raw public key: which key signed."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_pem(public: Ed25519PublicKey) -> str:
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError as error:
        raise CheckpointError("the public key is not a PEM Ed25519 key") from error
    if not isinstance(key, Ed25519PublicKey):
        raise CheckpointError("the public key is not an Ed25519 key")
    return key


def verify_signature(checkpoint: Checkpoint, public: Ed25519PublicKey) -> None:
    """Raise CheckpointError unless ``public`` signed ``checkpoint``."""
    try:
        public.verify(base64.b64decode(checkpoint.signature, validate=True), checkpoint.message())
    except (InvalidSignature, ValueError) as error:
        raise CheckpointError(
            f"the checkpoint at position {checkpoint.position} is not signed by this key"
        ) from error


class LogSigner:
    """Signs checkpoints of the log with the key in ``key_file`` (made on first use)."""

    def __init__(self, engine: Engine, key_file: Path) -> None:
        self.engine = engine
        self.key_file = key_file
        self._private: Ed25519PrivateKey | None = None

    def __repr__(self) -> str:
        return f"LogSigner(key_file={str(self.key_file)!r})"

    @property
    def private_key(self) -> Ed25519PrivateKey:
        if self._private is None:
            self._private = _load_or_create(self.key_file)
        return self._private

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    def checkpoint(self, now: datetime | None = None) -> Checkpoint:
        """The log's head now, signed."""
        with self.engine.connect() as conn:
            position, digest = last_link(conn)
        return self.sign(position, digest, now)

    def sign(self, position: int, digest: bytes, now: datetime | None = None) -> Checkpoint:
        """The chain's hash ``digest`` at ``position``, signed at ``now`` (to the second)."""
        signed_at = (now or datetime.now(UTC)).strftime(SIGNED_AT_FORMAT)
        unsigned = Checkpoint(position, digest.hex(), signed_at)
        signature = base64.b64encode(self.private_key.sign(unsigned.message())).decode()
        return Checkpoint(position, digest.hex(), signed_at, signature, key_id(self.public_key))


def _load_or_create(key_file: Path) -> Ed25519PrivateKey:
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        temporary = key_file.with_name(f".{key_file.name}.{os.getpid()}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            out.write(pem)
        try:
            os.link(temporary, key_file)  # the first process to make it wins
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise CheckpointError(f"{key_file} does not hold an Ed25519 private key")
    return key
