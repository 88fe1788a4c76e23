"""Who is looking: the signed-in token behind a browser session, and what it may do.

A session is checked on every request through the token store's cached lookup, as a
bearer token is, so revoking the token ends the session within the same few seconds.
Every change a page asks for carries the session's anti-forgery value, in the form
field ``csrf_token`` or (from htmx) the ``X-CSRF-Token`` header.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from application.tokens import Principal, Scope, TokenStore
from application.web_sessions import COOKIE_NAME, CSRF_FIELD, Session, SessionCodec
from web.errors import PageError, SignInRequired

CSRF_HEADER = "X-CSRF-Token"


@dataclass(frozen=True, slots=True)
class Viewer:
    principal: Principal
    session: Session

    @property
    def name(self) -> str:
        """The token's name: the actor of everything done in this session."""
        return self.principal.name

    @property
    def can_write(self) -> bool:
        """Whether pages show this viewer forms (a ``read`` token sees none)."""
        return self.principal.allows(Scope.WRITE)

    @property
    def csrf(self) -> str:
        return self.session.csrf


async def session_of(request: Request) -> Session | None:
    codec: SessionCodec = request.app.state.sessions
    return codec.open(request.cookies.get(COOKIE_NAME))


async def principal_of(request: Request, session: Session) -> Principal | None:
    tokens: TokenStore = request.app.state.tokens
    known, principal = tokens.cached_digest(session.token_digest)
    if not known:
        principal = await run_in_threadpool(tokens.authenticate_digest, session.token_digest)
    return principal


async def _signed_in(request: Request) -> tuple[Session | None, Viewer | None]:
    """The request's session, and its viewer when the session's token may still read."""
    session = await session_of(request)
    principal = None if session is None else await principal_of(request, session)
    if session is None or principal is None or not principal.allows(Scope.READ):
        return session, None
    return session, Viewer(principal, session)


async def signed_in_viewer(request: Request) -> Viewer | None:
    """The signed-in viewer, or None: for what anyone is shown (an error page's header)."""
    return (await _signed_in(request))[1]


async def current_viewer(request: Request) -> Viewer:
    """The signed-in viewer; anyone else is sent to the sign-in page."""
    session, viewer = await _signed_in(request)
    if viewer is None:
        raise SignInRequired(request.url.path, ended=session is not None)
    request.state.principal = viewer.principal
    return viewer


async def current_writer(
    request: Request, viewer: Annotated[Viewer, Depends(current_viewer)]
) -> Viewer:
    """A viewer who may change things, on a request that carries the session's
    anti-forgery value; 403 otherwise, before anything is read or stored."""
    if not viewer.can_write:
        raise PageError(403, f"the token {viewer.name!r} may read but not change anything")
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        field = form.get(CSRF_FIELD)
        sent = field if isinstance(field, str) else None
    if not viewer.session.accepts(sent):
        raise PageError(
            403, "this form has expired or did not come from this site: reload the page and retry"
        )
    return viewer


ViewerDep = Annotated[Viewer, Depends(current_viewer)]
WriterDep = Annotated[Viewer, Depends(current_writer)]
