"""Webhook subscriptions: who hears which events of the log, where, signed with what.

Subscriptions are the service's configuration, like tokens and integrations, not events
of an incident: they are rows, changed in place by admins. A new subscription starts at
the log's head, so it hears what happens from its creation on.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import Connection, Engine, delete, func, select, update
from sqlalchemy.engine import RowMapping

from domain.events import CURRENT_VERSIONS
from domain.values import Severity
from eventstore.schema import events
from outbound.secret_box import SecretBox, SecretKeyMismatch
from outbound.signing import new_secret
from outbound.tables import webhook_deliveries, webhook_subscriptions

FORMATS = ("standard", "slack")
ROTATION_OVERLAP = timedelta(hours=24)
"""How long the secret a rotation replaced keeps signing beside the new one."""
MAX_TYPES = 50
MAX_SERVICES = 50
MAX_DESCRIPTION = 500


class SubscriptionError(ValueError):
    """A subscription that cannot be: the message names the field (``types[1]: ...``)."""


@dataclass(frozen=True, slots=True)
class Subscription:
    subscription_id: UUID
    url: str
    types: tuple[str, ...]
    format: str
    description: str
    severity: tuple[str, ...]
    services: tuple[str, ...]
    enabled: bool
    disabled_reason: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    position: int
    attempts: int
    next_attempt_at: datetime | None
    failing_since: datetime | None
    previous_secret_until: datetime | None

    def wants_type(self, event_type: str) -> bool:
        """An exact type, or a prefix ending in ``.`` (``incident.``)."""
        return any(
            event_type == wanted or (wanted.endswith(".") and event_type.startswith(wanted))
            for wanted in self.types
        )

    def wants_incident(self, severity: str | None, services: Sequence[str]) -> bool:
        """The filter: any of its severities, and any of its services (empty: all)."""
        if self.severity and severity not in self.severity:
            return False
        return not self.services or any(service in self.services for service in services)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One attempt to deliver one message."""

    delivery_id: int
    message_id: str
    event_type: str
    position: int | None
    attempt: int
    trigger: str
    attempted_at: datetime
    status_code: int | None
    duration_ms: float
    error: str | None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def check_types(types: Sequence[str]) -> tuple[str, ...]:
    """Known event types, or prefixes ending in ``.`` that some known type starts with."""
    if not types:
        raise SubscriptionError("types: name at least one event type or prefix (incident.)")
    if len(types) > MAX_TYPES:
        raise SubscriptionError(f"types: at most {MAX_TYPES}")
    known = CURRENT_VERSIONS.keys()
    for number, wanted in enumerate(types):
        if wanted.endswith("."):
            if not any(name.startswith(wanted) for name in known):
                raise SubscriptionError(f"types[{number}]: no event type starts with {wanted!r}")
        elif wanted not in known:
            raise SubscriptionError(
                f"types[{number}]: {wanted!r} is not an event type; a prefix ends in '.'"
            )
    return tuple(dict.fromkeys(types))


def check_description(description: str) -> str:
    """One line of up to ``MAX_DESCRIPTION`` printable characters."""
    if len(description) > MAX_DESCRIPTION or not description.isprintable():
        raise SubscriptionError(
            f"description: at most {MAX_DESCRIPTION} characters on one line, no control characters"
        )
    return description


def check_filter(severity: Sequence[str], services: Sequence[str]) -> tuple[tuple[str, ...], ...]:
    """Severities SEV1-SEV5 and service names as incidents have them."""
    valid = {s.value for s in Severity}
    for number, name in enumerate(severity):
        if name not in valid:
            raise SubscriptionError(f"filter.severity[{number}]: one of {', '.join(sorted(valid))}")
    if len(services) > MAX_SERVICES:
        raise SubscriptionError(f"filter.services: at most {MAX_SERVICES}")
    for number, name in enumerate(services):
        if (
            not name
            or len(name) > 100
            or any(c.isspace() or c == "," or not c.isprintable() for c in name)
        ):
            raise SubscriptionError(
                f"filter.services[{number}]: 1-100 characters, no spaces or commas"
            )
    return tuple(dict.fromkeys(severity)), tuple(dict.fromkeys(services))


def subscription_of(row: RowMapping) -> Subscription:
    chosen: dict[str, Any] = row["filter"] or {}
    return Subscription(
        subscription_id=row["subscription_id"],
        url=row["url"],
        types=tuple(row["types"]),
        format=row["format"],
        description=row["description"],
        severity=tuple(chosen.get("severity", ())),
        services=tuple(chosen.get("services", ())),
        enabled=row["enabled"],
        disabled_reason=row["disabled_reason"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        position=row["position"],
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        failing_since=row["failing_since"],
        previous_secret_until=row["previous_secret_until"],
    )


def delivery_of(row: RowMapping) -> Delivery:
    return Delivery(
        delivery_id=row["delivery_id"],
        message_id=row["message_id"],
        event_type=row["event_type"],
        position=row["position"],
        attempt=row["attempt"],
        trigger=row["trigger"],
        attempted_at=row["attempted_at"],
        status_code=row["status_code"],
        duration_ms=row["duration_ms"],
        error=row["error"],
    )


class SubscriptionStore:
    """Subscriptions and their delivery records in the service's database."""

    def __init__(self, engine: Engine, box: Callable[[], SecretBox]) -> None:
        self.engine = engine
        self._box = box

    @property
    def box(self) -> SecretBox:
        """The key is read (or made) when a secret is first sealed or opened, not at start."""
        return self._box()

    def create(
        self,
        *,
        url: str,
        types: Sequence[str],
        format: str,
        description: str,
        severity: Sequence[str],
        services: Sequence[str],
        actor: str,
        now: datetime,
    ) -> tuple[Subscription, str]:
        """A new enabled subscription at the log's head, and its signing secret (shown once)."""
        if format not in FORMATS:
            raise SubscriptionError(f"format: one of {', '.join(FORMATS)}")
        checked_types = check_types(types)
        description = check_description(description)
        severity, services = check_filter(severity, services)
        secret = new_secret()
        subscription_id = uuid4()
        with self.engine.begin() as conn:
            head = conn.execute(select(func.coalesce(func.max(events.c.position), 0))).scalar()
            conn.execute(
                webhook_subscriptions.insert().values(
                    subscription_id=subscription_id,
                    url=url,
                    types=list(checked_types),
                    format=format,
                    description=description,
                    filter={"severity": list(severity), "services": list(services)},
                    enabled=True,
                    sealed_secret=self.box.seal(secret),
                    created_by=actor,
                    created_at=now,
                    updated_at=now,
                    position=int(head or 0),
                    attempts=0,
                )
            )
            found = self.get_in(conn, subscription_id)
        assert found is not None
        return found, secret

    def list(self) -> list[Subscription]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(webhook_subscriptions).order_by(webhook_subscriptions.c.created_at)
            ).mappings()
            return [subscription_of(row) for row in rows]

    def get(self, subscription_id: UUID) -> Subscription | None:
        with self.engine.connect() as conn:
            return self.get_in(conn, subscription_id)

    @staticmethod
    def get_in(conn: Connection, subscription_id: UUID) -> Subscription | None:
        row = (
            conn.execute(
                select(webhook_subscriptions).where(
                    webhook_subscriptions.c.subscription_id == subscription_id
                )
            )
            .mappings()
            .first()
        )
        return subscription_of(row) if row is not None else None

    def update(
        self,
        subscription_id: UUID,
        *,
        now: datetime,
        url: str | None = None,
        types: Sequence[str] | None = None,
        description: str | None = None,
        severity: Sequence[str] | None = None,
        services: Sequence[str] | None = None,
        enabled: bool | None = None,
    ) -> Subscription | None:
        """Change what is given; enabling again retries the held-back event at once."""
        with self.engine.begin() as conn:
            current = self.get_in(conn, subscription_id)
            if current is None:
                return None
            values: dict[str, Any] = {"updated_at": now}
            if url is not None:
                values["url"] = url
            if types is not None:
                values["types"] = list(check_types(types))
            if description is not None:
                values["description"] = check_description(description)
            if severity is not None or services is not None:
                chosen = check_filter(
                    current.severity if severity is None else severity,
                    current.services if services is None else services,
                )
                values["filter"] = {"severity": list(chosen[0]), "services": list(chosen[1])}
            if enabled is True and not current.enabled:
                values.update(
                    enabled=True, disabled_reason=None, next_attempt_at=None, failing_since=None
                )
            elif enabled is False and current.enabled:
                values.update(enabled=False, disabled_reason="disabled by an admin")
            conn.execute(
                update(webhook_subscriptions)
                .where(webhook_subscriptions.c.subscription_id == subscription_id)
                .values(**values)
            )
            return self.get_in(conn, subscription_id)

    def delete(self, subscription_id: UUID) -> bool:
        with self.engine.begin() as conn:
            conn.execute(
                delete(webhook_deliveries).where(
                    webhook_deliveries.c.subscription_id == subscription_id
                )
            )
            gone = conn.execute(
                delete(webhook_subscriptions).where(
                    webhook_subscriptions.c.subscription_id == subscription_id
                )
            )
            return gone.rowcount > 0

    def rotate(
        self, subscription_id: UUID, now: datetime, *, key_replaced: bool = False
    ) -> tuple[Subscription, str] | None:
        """A new secret; the old one keeps signing beside it for ``ROTATION_OVERLAP``.

        With ``key_replaced`` (the key that sealed the old secret is gone on purpose) the
        old one, which nothing can open any more, stops signing at once."""
        secret = new_secret()
        with self.engine.begin() as conn:
            row = (
                conn.execute(
                    select(webhook_subscriptions.c.sealed_secret)
                    .where(webhook_subscriptions.c.subscription_id == subscription_id)
                    .with_for_update()
                )
                .mappings()
                .first()
            )
            if row is None:
                return None
            conn.execute(
                update(webhook_subscriptions)
                .where(webhook_subscriptions.c.subscription_id == subscription_id)
                .values(
                    sealed_secret=self.box.seal(secret),
                    sealed_previous_secret=None if key_replaced else row["sealed_secret"],
                    previous_secret_until=None if key_replaced else now + ROTATION_OVERLAP,
                    updated_at=now,
                )
            )
            found = self.get_in(conn, subscription_id)
        assert found is not None
        return found, secret

    def opens(self, subscription_id: UUID) -> bool | None:
        """Whether this store's key opens the subscription's secret (None: no such one)."""
        with self.engine.connect() as conn:
            sealed = conn.execute(
                select(webhook_subscriptions.c.sealed_secret).where(
                    webhook_subscriptions.c.subscription_id == subscription_id
                )
            ).scalar_one_or_none()
        if sealed is None:
            return None
        try:
            self.box.open(sealed)
        except SecretKeyMismatch:
            return False
        return True

    def signing_secrets(
        self, conn: Connection, subscription_id: UUID, now: datetime
    ) -> builtins.list[str]:
        """The secrets that sign a message now: the current one, and the one a rotation
        replaced while its overlap lasts."""
        row = (
            conn.execute(
                select(
                    webhook_subscriptions.c.sealed_secret,
                    webhook_subscriptions.c.sealed_previous_secret,
                    webhook_subscriptions.c.previous_secret_until,
                ).where(webhook_subscriptions.c.subscription_id == subscription_id)
            )
            .mappings()
            .first()
        )
        if row is None:
            return []
        found = [self.box.open(row["sealed_secret"])]
        until = row["previous_secret_until"]
        if row["sealed_previous_secret"] and until is not None and until > now:
            found.append(self.box.open(row["sealed_previous_secret"]))
        return found

    def deliveries(
        self, subscription_id: UUID, *, limit: int = 50, before: int | None = None
    ) -> builtins.list[Delivery]:
        """Its attempts, newest first; ``before`` a delivery_id, for the next page."""
        t = webhook_deliveries
        query = select(t).where(t.c.subscription_id == subscription_id)
        if before is not None:
            query = query.where(t.c.delivery_id < before)
        query = query.order_by(t.c.delivery_id.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [delivery_of(row) for row in conn.execute(query).mappings()]
