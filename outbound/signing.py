"""Standard Webhooks v1 signatures (https://www.standardwebhooks.com).

A receiver checks a message by computing HMAC-SHA256 over ``{id}.{timestamp}.{body}``,
keyed with the bytes of its secret (the base64 text after ``whsec_``), and comparing it
with each ``v1,<base64>`` signature in ``webhook-signature``. While a secret is being
rotated the header carries one signature per secret, so receivers holding either verify.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence
from secrets import token_bytes

SECRET_PREFIX = "whsec_"  # noqa: S105 - how every Standard Webhooks secret starts; not a secret
SECRET_BYTES = 32
USER_AGENT = "IncidentLedger-Webhooks/1"


def new_secret() -> str:
    """A new signing secret: ``whsec_`` and the base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(token_bytes(SECRET_BYTES)).decode()


def _key(secret: str) -> bytes:
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        # The secret itself stays out of the message: it may end up in a log.
        raise ValueError("a signing secret is 'whsec_' followed by base64") from None
    if not key:
        raise ValueError("a signing secret may not be empty")
    return key


def _check_message_id(message_id: str) -> None:
    # The id is a header value and a part of the signed text: a line break would split the
    # header, a space or a control character would be read differently by receivers.
    if not message_id or not message_id.isprintable() or " " in message_id:
        raise ValueError("a message id is one or more printable characters without spaces")


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``v1,<base64>`` signature of one message under one secret."""
    _check_message_id(message_id)
    signed = f"{message_id}.{int(timestamp)}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(secrets: Sequence[str], message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value: one signature per secret, space-separated."""
    if not secrets:
        raise ValueError("a message is signed with at least one secret")
    return " ".join(sign(secret, message_id, timestamp, body) for secret in secrets)


def standard_headers(
    secrets: Sequence[str], message_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """Every header of a signed Standard Webhooks request with a JSON body."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp)),
        "webhook-signature": signature_header(secrets, message_id, timestamp, body),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }
