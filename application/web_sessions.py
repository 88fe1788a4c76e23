"""Browser sessions: a signed, expiring cookie that names a token by its digest.

The cookie never holds the token itself, only the SHA-256 digest the token store keeps,
so a session is checked through the same cached lookup as a bearer token and ends within
the same few seconds when its token is revoked. Each session carries a random
anti-forgery value that every form of the web interface must send back.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from itsdangerous import BadData, BadSignature, URLSafeTimedSerializer
from itsdangerous.encoding import base64_decode, base64_encode

COOKIE_NAME = "incident_ledger_session"
CSRF_FIELD = "csrf_token"
"""The form field (and, as ``X-CSRF-Token``, the header) that carries a session's anti-forgery value."""


@dataclass(frozen=True, slots=True)
class Session:
    token_digest: str
    csrf: str

    def accepts(self, csrf: str | None) -> bool:
        """Whether a form's anti-forgery value is this session's (compared in constant time)."""
        return csrf is not None and hmac.compare_digest(csrf.encode(), self.csrf.encode())


class SessionCodec:
    """Issues and opens session cookies, signed with one key, valid for ``max_age_seconds``."""

    def __init__(self, key: str | None, max_age_seconds: float) -> None:
        self.max_age_seconds = max_age_seconds
        self._serializer = URLSafeTimedSerializer(
            key or secrets.token_urlsafe(32), salt="incident-ledger.web-session"
        )

    def issue(self, token_digest: str) -> tuple[str, Session]:
        """A new session for the token with this digest, and the cookie value that carries it."""
        session = Session(token_digest, secrets.token_urlsafe(24))
        return self._serializer.dumps([session.token_digest, session.csrf]), session

    def open(self, value: str | None) -> Session | None:
        """The session a cookie carries, or None when it is absent, forged or expired."""
        if not value or not _canonical_signature(value):
            return None
        try:
            digest, csrf = self._serializer.loads(value, max_age=int(self.max_age_seconds))
        except (BadSignature, ValueError, TypeError):
            return None
        if not (isinstance(digest, str) and isinstance(csrf, str)):
            return None
        return Session(digest, csrf)


def _canonical_signature(value: str) -> bool:
    """Whether the cookie's signature is spelled as its signer spells it.

    Base64 leaves spare bits in its last character, which decoding ignores: without this
    check, a signature with one of those bits flipped is taken for the genuine one.
    """
    signature = value.rpartition(".")[2]
    try:
        return base64_encode(base64_decode(signature)).decode() == signature
    except BadData:
        return False
