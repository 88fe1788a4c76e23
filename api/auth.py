"""Bearer-token authentication and scopes for every route but /healthz."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import structlog
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.tokens import Principal, Scope, TokenStore

bearer = HTTPBearer(
    auto_error=False,
    description="An API token from `incidents tokens create` (scopes: read, write, ingest, admin).",
)

UNAUTHORIZED = {"WWW-Authenticate": 'Bearer realm="incident-ledger"'}


def _token_from(request: Request, credentials: HTTPAuthorizationCredentials | None) -> str | None:
    if credentials is not None:
        return credentials.credentials
    return None


def require(scope: Scope | None = None) -> Callable[..., Principal]:
    """A dependency: the request's principal, which must hold ``scope``.

    Without an explicit scope, reads (GET, HEAD) need ``read`` and everything else
    ``write``. ``admin`` holds every scope.
    """

    def authenticate(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Principal:
        token = _token_from(request, credentials)
        if not token:
            raise HTTPException(401, "a bearer token is required", headers=UNAUTHORIZED)
        tokens: TokenStore = request.app.state.tokens
        principal = tokens.authenticate(token)
        if principal is None:
            raise HTTPException(401, "the bearer token is not valid", headers=UNAUTHORIZED)
        needed = scope or (Scope.READ if request.method in {"GET", "HEAD"} else Scope.WRITE)
        if not principal.allows(needed):
            raise HTTPException(
                403, f"token {principal.name!r} lacks the {needed.value!r} scope for this route"
            )
        request.state.principal = principal
        structlog.contextvars.bind_contextvars(actor=principal.name)
        return principal

    return authenticate
