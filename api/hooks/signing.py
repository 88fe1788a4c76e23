"""Signed generic webhooks: HMAC-SHA256 of ``f"{timestamp}.{raw body}"`` with the secret.

Headers: ``X-Incidents-Integration`` (the integration's id or name),
``X-Incidents-Timestamp`` (unix seconds) and ``X-Incidents-Signature``
(``sha256=<hex>``). A timestamp more than five minutes away from the server's clock is
refused, so a captured request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac

from api.integrations import Integration, IntegrationKind

PREFIX = "sha256="


class SignatureRefused(Exception):
    """The request is not signed by a live generic integration; nothing is stored."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Incidents-Signature`` value for a body sent at ``timestamp``."""
    message = timestamp.encode() + b"." + body
    return PREFIX + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(
    integration: Integration | None,
    reference: str,
    timestamp: str,
    signature: str,
    body: bytes,
    *,
    now: float,
    max_age: int,
) -> Integration:
    """The signing integration, or SignatureRefused saying precisely why not."""
    if integration is None or integration.kind is not IntegrationKind.GENERIC:
        raise SignatureRefused(f"no generic integration has the id or name {reference!r}")
    assert integration.secret is not None  # generic integrations always have one
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        raise SignatureRefused("X-Incidents-Timestamp must be unix time in whole seconds")
    age = now - int(timestamp)
    if age > max_age:
        raise SignatureRefused(
            f"the request was signed {int(age)} seconds ago; at most {max_age} are accepted"
        )
    if -age > max_age:
        raise SignatureRefused(
            f"the request is signed {int(-age)} seconds in the future; check the sender's clock"
        )
    if not signature.startswith(PREFIX):
        raise SignatureRefused('X-Incidents-Signature must be "sha256=" and the hex HMAC-SHA256')
    if not hmac.compare_digest(
        signature.encode(), sign(integration.secret, timestamp, body).encode()
    ):
        raise SignatureRefused("the signature does not match the body and timestamp")
    return integration
