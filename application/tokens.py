"""API tokens: random, shown once, stored only as a SHA-256 hash, each with scopes."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from uuid import UUID, uuid4

from sqlalchemy import Column, Engine, String, Table, Uuid, select
from sqlalchemy.exc import IntegrityError

from application.credential_names import check_name
from application.credential_store import LookupCache, revoke_named
from eventstore.schema import metadata
from eventstore.types import UtcDateTime

TOKEN_PREFIX = "il_"  # noqa: S105 - marks a string as one of our tokens; not a secret


class Scope(StrEnum):
    READ = "read"
    WRITE = "write"
    INGEST = "ingest"
    ADMIN = "admin"


api_tokens = Table(
    "api_tokens",
    metadata,
    Column("token_id", Uuid(), primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("scopes", String(100), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("revoked_at", UtcDateTime()),
)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts as: the token's name is the actor recorded in events."""

    name: str
    scopes: frozenset[Scope]

    def allows(self, scope: Scope) -> bool:
        return Scope.ADMIN in self.scopes or scope in self.scopes


@dataclass(frozen=True, slots=True)
class TokenInfo:
    token_id: UUID
    name: str
    scopes: tuple[Scope, ...]
    created_at: datetime
    revoked_at: datetime | None


class TokenExists(Exception):
    """A token with this name exists already, live or revoked: names are never reused."""


def digest_of(token: str) -> str:
    """What the store keeps of a token, and what a browser session holds instead of it."""
    return hashlib.sha256(token.encode()).hexdigest()


_hash = digest_of


class TokenStore:
    """Creates, lists, revokes and checks tokens; lookups are cached for a few seconds."""

    def __init__(self, engine: Engine, cache_seconds: float = 5.0) -> None:
        self.engine = engine
        self.cache_seconds = cache_seconds
        self._cache: LookupCache[str, Principal | None] = LookupCache()

    def create(self, name: str, scopes: set[Scope], token: str | None = None) -> str:
        """A new token (returned once, never stored in clear).

        Raises InvalidName for a name that breaks the rule (application.credential_names) and
        TokenExists when the name is taken, by a live token or a revoked one.
        """
        check_name(name, "token")
        token = token or TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = {
            "token_id": uuid4(),
            "name": name,
            "scopes": ",".join(sorted(s.value for s in scopes)),
            "token_hash": _hash(token),
            "created_at": datetime.now(UTC),
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(api_tokens.insert(), row)
        except IntegrityError as exc:
            raise TokenExists(self._taken(name)) from exc
        return token

    def _taken(self, name: str) -> str:
        with self.engine.connect() as conn:
            revoked_at = conn.execute(
                select(api_tokens.c.revoked_at).where(api_tokens.c.name == name)
            ).scalar_one_or_none()
        if revoked_at is not None:
            # Events keep naming the revoked token as their actor: a new token under the
            # same name would be indistinguishable from it in every history.
            return (
                f"a token named {name!r} was revoked on {revoked_at:%Y-%m-%d %H:%M} UTC;"
                " names are not reused: choose another name"
            )
        return f"a token named {name!r} exists already"

    def ensure(self, name: str, scopes: set[Scope], token: str) -> None:
        """Make sure this exact token exists (seeding from the environment); idempotent."""
        with self.engine.connect() as conn:
            found = conn.execute(
                select(api_tokens.c.token_id).where(api_tokens.c.token_hash == _hash(token))
            ).first()
        if found is None:
            with contextlib.suppress(TokenExists):
                self.create(name, scopes, token)

    def list(self) -> list[TokenInfo]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(api_tokens).order_by(api_tokens.c.created_at)).all()
        return [
            TokenInfo(
                r.token_id,
                r.name,
                tuple(Scope(s) for s in r.scopes.split(",") if s),
                r.created_at,
                r.revoked_at,
            )
            for r in rows
        ]

    def revoke(self, name: str) -> bool:
        """Revoke a token by name; False when there is no such live token."""
        revoked = revoke_named(self.engine, api_tokens, name)
        self._cache.clear()
        return revoked

    def cached(self, token: str) -> tuple[bool, Principal | None]:
        """``(True, principal or None)`` when the token was checked recently, without I/O;
        ``(False, None)`` when only ``authenticate`` can tell."""
        return self._cache.fresh(_hash(token), self.cache_seconds)

    def authenticate(self, token: str) -> Principal | None:
        """The principal of a live token, or None."""
        return self.authenticate_digest(_hash(token))

    def cached_digest(self, digest: str) -> tuple[bool, Principal | None]:
        """``cached`` for a token known by its digest (a browser session's)."""
        return self._cache.fresh(digest, self.cache_seconds)

    def authenticate_digest(self, digest: str) -> Principal | None:
        """The principal of the live token with this digest, or None; shares the cache
        (and so the few seconds a revocation takes to be seen) with ``authenticate``."""
        known, principal = self.cached_digest(digest)
        if known:
            return principal
        now = time.monotonic()
        with self.engine.connect() as conn:
            row = conn.execute(select(api_tokens).where(api_tokens.c.token_hash == digest)).first()
        principal = None
        if (
            row is not None
            and row.revoked_at is None
            and hmac.compare_digest(row.token_hash, digest)
        ):
            principal = Principal(row.name, frozenset(Scope(s) for s in row.scopes.split(",") if s))
        self._cache.put(digest, principal, now)
        return principal
