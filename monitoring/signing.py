"""Signed generic webhooks: HMAC-SHA256 of ``f"{timestamp}.{raw body}"`` with the secret.

Headers: ``X-Incidents-Integration`` (the integration's id or name),
``X-Incidents-Timestamp`` (unix seconds) and ``X-Incidents-Signature``
(``sha256=<hex>``). A timestamp more than five minutes away from the server's clock is
refused, so a captured request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from application.integrations import Integration, IntegrationKind

PREFIX = "sha256="
REFUSED = (
    "the signature does not match the body and timestamp for a generic integration"
    " of this id or name"
)
_NO_SECRET = secrets.token_hex(32)
"""Signs for an unknown integration, so that refusing it takes as long as a bad signature."""


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
    timestamp: str,
    signature: str,
    body: bytes,
    *,
    now: float,
    max_age: int,
) -> Integration:
    """The signing integration, or SignatureRefused saying precisely why not.

    An unknown name and a wrong signature get the same answer, after the same work, so
    that a caller without the secret cannot learn which integration names exist.
    """
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
    generic = integration if integration and integration.kind is IntegrationKind.GENERIC else None
    secret = generic.secret if generic is not None else None
    expected = sign(secret or _NO_SECRET, timestamp, body)
    if not hmac.compare_digest(signature.encode(), expected.encode()) or generic is None:
        raise SignatureRefused(REFUSED)
    return generic
