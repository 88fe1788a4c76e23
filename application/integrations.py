"""Integrations: the credentials monitoring systems send alerts with, besides API tokens.

A ``pagerduty`` integration has a 32-character routing key, the only credential of the
PagerDuty Events API v2; it is stored as a SHA-256 hash, like API tokens. A ``generic``
integration has an HMAC secret, which the service needs in clear to check signatures.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from uuid import UUID, uuid4

from sqlalchemy import Column, Engine, String, select
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError

from application.credential_names import check_name
from application.credential_store import LookupCache, credential_table, revoke_named

ROUTING_KEY = re.compile(r"^[A-Za-z0-9]{32}$")
SERVICE = re.compile(r"^[^\s,]{1,100}$")


class IntegrationKind(StrEnum):
    """What an integration sends: PagerDuty Events API v2, or the signed generic hook."""

    PAGERDUTY = "pagerduty"
    GENERIC = "generic"


integrations = credential_table(
    "integrations",
    "integration_id",
    Column("kind", String(20), nullable=False),
    Column("service", String(100)),  # the service of its incidents unless an alert names one
    Column("routing_key_hash", String(64), unique=True),  # pagerduty: SHA-256 of the key
    Column("secret", String(100)),  # generic: the HMAC secret
)


@dataclass(frozen=True, slots=True)
class Integration:
    integration_id: UUID
    name: str
    kind: IntegrationKind
    service: str | None
    created_at: datetime
    revoked_at: datetime | None = None
    secret: str | None = field(default=None, repr=False)

    @property
    def actor(self) -> str:
        """Who the events it sends are recorded as."""
        return f"integration:{self.name}"


@dataclass(frozen=True, slots=True)
class NewIntegration:
    integration: Integration
    credential: str
    """The routing key (pagerduty) or the HMAC secret (generic): shown once."""


class IntegrationExists(Exception):
    """An integration with this name (or this routing key) exists already."""


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _integration(row: Row[tuple[object, ...]]) -> Integration:
    m = row._mapping
    return Integration(
        integration_id=m["integration_id"],
        name=m["name"],
        kind=IntegrationKind(m["kind"]),
        service=m["service"],
        created_at=m["created_at"],
        revoked_at=m["revoked_at"],
        secret=m["secret"],
    )


class IntegrationStore:
    """Creates, lists and revokes integrations; lookups are cached for a few seconds."""

    def __init__(self, engine: Engine, cache_seconds: float = 5.0) -> None:
        self.engine = engine
        self.cache_seconds = cache_seconds
        self._cache: LookupCache[tuple[str, str], Integration | None] = LookupCache()

    def create(
        self,
        name: str,
        kind: IntegrationKind,
        service: str | None = None,
        *,
        routing_key: str | None = None,
    ) -> NewIntegration:
        """A new integration and its credential (a routing key may be given, to keep one)."""
        check_name(name, "integration")
        if service is not None and not SERVICE.match(service):
            raise ValueError(f"{service!r} is not a service name (no spaces or commas)")
        if routing_key is not None and kind is not IntegrationKind.PAGERDUTY:
            raise ValueError("only pagerduty integrations have a routing key")
        if routing_key is not None and not ROUTING_KEY.match(routing_key):
            raise ValueError("a routing key is 32 letters and digits")
        secret = None
        if kind is IntegrationKind.PAGERDUTY:
            credential = routing_key or secrets.token_hex(16)
        else:
            credential = secret = secrets.token_urlsafe(32)
        integration = Integration(uuid4(), name, kind, service, datetime.now(UTC), secret=secret)
        row = {
            "integration_id": integration.integration_id,
            "name": name,
            "kind": kind.value,
            "service": service,
            "routing_key_hash": _hash(credential) if kind is IntegrationKind.PAGERDUTY else None,
            "secret": secret,
            "created_at": integration.created_at,
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(integrations.insert(), row)
        except IntegrityError as exc:
            raise IntegrationExists(self._taken(name)) from exc
        return NewIntegration(integration, credential)

    def _taken(self, name: str) -> str:
        with self.engine.connect() as conn:
            found = conn.execute(
                select(integrations.c.revoked_at).where(integrations.c.name == name)
            ).first()
        if found is None:
            return "an integration with this routing key exists already"
        if found.revoked_at is not None:
            # Its events keep naming it as their actor: a new integration of the same name
            # would be indistinguishable from it in every history.
            return (
                f"an integration named {name!r} was revoked on {found.revoked_at:%Y-%m-%d %H:%M}"
                " UTC; names are not reused: choose another name"
            )
        return f"an integration named {name!r} exists already"

    def list(self) -> list[Integration]:
        with self.engine.connect() as conn:
            query = select(integrations).order_by(integrations.c.created_at)
            return [_integration(row) for row in conn.execute(query)]

    def revoke(self, name: str) -> bool:
        """Revoke by name; False when there is no such live integration."""
        revoked = revoke_named(self.engine, integrations, name)
        self._cache.clear()
        return revoked

    def by_routing_key(self, routing_key: str) -> Integration | None:
        """The live pagerduty integration with this routing key, or None."""
        found = self._cached(("key", _hash(routing_key)))
        return found if found is not None and found.kind is IntegrationKind.PAGERDUTY else None

    def by_reference(self, reference: str) -> Integration | None:
        """The live integration with this id or name, or None."""
        return self._cached(("ref", reference))

    def _cached(self, key: tuple[str, str]) -> Integration | None:
        now = time.monotonic()
        known, found = self._cache.fresh(key, self.cache_seconds)
        if known:
            return found
        found = self._find(*key)
        self._cache.put(key, found, now)
        return found

    def _find(self, how: str, value: str) -> Integration | None:
        t = integrations
        if how == "key":
            condition = t.c.routing_key_hash == value
        else:
            try:
                condition = t.c.integration_id == UUID(value)
            except ValueError:
                condition = t.c.name == value
        with self.engine.connect() as conn:
            row = conn.execute(select(t).where(condition, t.c.revoked_at.is_(None))).first()
        return _integration(row) if row is not None else None
