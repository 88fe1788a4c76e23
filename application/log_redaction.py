"""A log processor that removes credentials from every line, whatever put them there.

Tracebacks are rendered without frame locals (those held the request's headers), but a
message, an exception's text or a bound value can still carry a header, a body field or
a token: the values of secret-looking keys are replaced, and so is every substring that
looks like a credential (a bearer or basic credential, one of our tokens, a signature,
``name: value`` or ``'name', b'value'`` for a secret header or field).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from structlog.typing import EventDict, WrappedLogger

REDACTED = "[redacted]"

_SECRET_KEY_PARTS = (
    "authorization",
    "cookie",
    "credential",
    "idempotency_key",
    "password",
    "routing_key",
    "secret",
    "signature",
    "token",
)
"""A key containing one of these (lower case, ``-`` read as ``_``) holds a secret."""

_SENSITIVE_NAMES = (
    r"authorization|proxy-authorization|cookie|set-cookie|idempotency[-_]key|x-routing-key"
    r"|routing[-_]key|x-incidents-signature|signature|secret|password|api[-_]token|token"
)
_PATTERNS = (
    # A header as a Python tuple or dict entry: (b'authorization', b'Bearer ...').
    (
        re.compile(rf"""(?i)(b?['"](?:{_SENSITIVE_NAMES})['"]\s*[:,]\s*b?)(['"])[^'"]*\2"""),
        rf"\1\2{REDACTED}\2",
    ),
    # name: value, name=value, "name": "value" (headers, query strings, JSON bodies).
    (
        re.compile(
            rf"""(?i)\b({_SENSITIVE_NAMES})(["']?\s*[:=]\s*["']?)"""
            rf"""(?!\[redacted\])(?:(?:bearer|basic)\s+)?[^\s"',;&}}\]]+"""
        ),
        rf"\1\2{REDACTED}",
    ),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), rf"\1 {REDACTED}"),
    (re.compile(r"\bil_[A-Za-z0-9_-]{6,}"), f"il_{REDACTED}"),  # our API tokens' prefix
    (re.compile(r"(?i)\bsha256=[0-9a-f]{16,}"), f"sha256={REDACTED}"),
)


_SUSPECT = re.compile(rf"(?i){_SENSITIVE_NAMES}|bearer|basic|il_|sha256=")
"""Whatever any of the patterns needs to match: text without any of it is left as is.

Every log line passes here (one per request): one search instead of five substitutions
for the paths, ids and times that make up most lines."""


@lru_cache(maxsize=1024)
def _secret_key(key: object) -> bool:
    if not isinstance(key, str):
        return False
    normal = key.lower().replace("-", "_")
    return any(part in normal for part in _SECRET_KEY_PARTS)


def scrub_text(text: str) -> str:
    """``text`` with every credential-looking substring replaced."""
    if _SUSPECT.search(text) is None:
        return text
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, bytes):
        return scrub_text(value.decode("utf-8", "replace"))
    if isinstance(value, dict):
        return {k: REDACTED if _secret_key(k) else _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return scrub_text(str(value))  # a renderer would print it as text anyway


def redact_secrets(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """structlog processor: run after exceptions are rendered, before the renderer."""
    return {
        key: REDACTED if _secret_key(key) else _scrub(value) for key, value in event_dict.items()
    }
