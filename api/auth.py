"""Bearer-token authentication and scopes for every route but /healthz, /readyz and /docs.

Monitoring senders that cannot send a bearer token (Grafana, Alertmanager's
``basic_auth``) may use HTTP basic authentication on the ingest routes instead: any user
name, and an API token with the ``ingest`` scope as the password.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from typing import Annotated

import structlog
from fastapi import Depends, HTTPException, Request
from fastapi.security import (
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
)
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

from application.tokens import Principal, Scope, TokenStore, digest_of
from application.web_sessions import COOKIE_NAME, SessionCodec

bearer = HTTPBearer(
    auto_error=False,
    description="An API token from `incidents tokens create` (scopes: read, write, ingest, admin).",
)

UNAUTHORIZED = {"WWW-Authenticate": 'Bearer realm="incident-ledger"'}


class _LenientBasic(HTTPBasic):
    """Basic credentials or None: a malformed header is refused by ``require_ingest``."""

    # HTTPBasic narrows HTTPBase's return type the same way (and ignores it the same way).
    async def __call__(self, request: HTTPConnection) -> HTTPBasicCredentials | None:  # type: ignore[override]
        scheme, _, param = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            decoded = base64.b64decode(param.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return HTTPBasicCredentials(username="", password="")
        username, _, password = decoded.partition(":")
        return HTTPBasicCredentials(username=username, password=password)


basic = _LenientBasic(
    auto_error=False,
    description="Ingest routes only: any user name, an API token with the ingest scope as password.",
)


def _token_from(request: Request, credentials: HTTPAuthorizationCredentials | None) -> str | None:
    if credentials is not None:
        return credentials.credentials
    return None


async def _principal(request: Request, token: str | None, needed: Scope, invalid: str) -> Principal:
    if not token:
        raise HTTPException(401, "a bearer token is required", headers=UNAUTHORIZED)
    return await _checked(request, digest_of(token), needed, invalid)


async def _checked(request: Request, digest: str, needed: Scope, invalid: str) -> Principal:
    tokens: TokenStore = request.app.state.tokens
    # Checked on the event loop when the token was seen recently (no I/O); only a lookup
    # in the database goes to a worker thread. Every thread hop costs more than the check.
    known, principal = tokens.cached_digest(digest)
    if not known:
        principal = await run_in_threadpool(tokens.authenticate_digest, digest)
    if principal is None:
        raise HTTPException(401, invalid, headers=UNAUTHORIZED)
    if not principal.allows(needed):
        raise HTTPException(
            403, f"token {principal.name!r} lacks the {needed.value!r} scope for this route"
        )
    request.state.principal = principal
    structlog.contextvars.bind_contextvars(actor=principal.name)
    return principal


AuthCheck = Callable[..., Awaitable[Principal]]
"""An auth dependency: ``require(...)`` or ``require_ingest()``."""

_STANDALONE: dict[AuthCheck, Callable[[Request], Awaitable[Principal]]] = {}
"""Each auth dependency, runnable on a bare request (reading its own credentials)."""


async def refused_credentials(request: Request) -> HTTPException | None:
    """The 401/403 the matched route's auth would give this request, if any.

    FastAPI parses and validates the body before it runs dependencies, so without this
    an anonymous request with a malformed body would learn about the body (422) before
    being told it may not ask (401). The validation error handler asks here first.
    """
    # Keyed by id(): routes are not hashable, and they live as long as the app.
    checks: dict[int, AuthCheck] = getattr(request.app.state, "auth_checks", {})
    check = checks.get(id(request.scope.get("route")))
    if check is None:
        return None
    try:
        await _STANDALONE[check](request)
    except HTTPException as exc:
        return exc
    return None


def require(scope: Scope | None = None) -> AuthCheck:
    """A dependency: the request's principal, which must hold ``scope``.

    Without an explicit scope, reads (GET, HEAD) need ``read`` and everything else
    ``write``. ``admin`` holds every scope.
    """

    async def authenticate(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Principal:
        token = _token_from(request, credentials)
        reading = request.method in {"GET", "HEAD"}
        needed = scope or (Scope.READ if reading else Scope.WRITE)
        if token is None and reading:
            # A browser signed in to the web interface reads with its session cookie
            # (an EventSource cannot send a header). Only reads: a cookie that any page
            # could make the browser send never authorises a change here.
            sessions: SessionCodec = request.app.state.sessions
            session = sessions.open(request.cookies.get(COOKIE_NAME))
            if session is not None:
                return await _checked(
                    request, session.token_digest, needed, "the session has ended: sign in again"
                )
        return await _principal(request, token, needed, "the bearer token is not valid")

    async def standalone(request: Request) -> Principal:
        return await authenticate(request, await bearer(request))

    _STANDALONE[authenticate] = standalone
    return authenticate


def require_ingest() -> AuthCheck:
    """A dependency for the monitoring hooks: ``ingest`` scope, by bearer token or basic auth."""

    async def authenticate(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
        basic_credentials: Annotated[HTTPBasicCredentials | None, Depends(basic)],
    ) -> Principal:
        if credentials is None and basic_credentials is not None:
            return await _principal(
                request,
                basic_credentials.password or None,
                Scope.INGEST,
                "the basic-auth password is not a valid token",
            )
        token = _token_from(request, credentials)
        return await _principal(request, token, Scope.INGEST, "the bearer token is not valid")

    async def standalone(request: Request) -> Principal:
        return await authenticate(request, await bearer(request), await basic(request))

    _STANDALONE[authenticate] = standalone
    return authenticate


async def optional_principal(request: Request) -> Principal | None:
    """The caller's principal (``read`` scope) when a bearer token was sent, else None.

    For routes anyone may ask (probes carry no token) that tell an authenticated caller
    more; a token that is sent must be valid, so a typo is not silently ignored.
    """
    credentials = await bearer(request)
    if credentials is None:
        return None
    return await _principal(
        request, credentials.credentials, Scope.READ, "the bearer token is not valid"
    )
