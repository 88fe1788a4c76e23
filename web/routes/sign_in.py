"""Signing in with an API token, and out again."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from application.tokens import Scope, TokenStore, digest_of
from application.web_sessions import COOKIE_NAME, SessionCodec
from web.commands import form_values
from web.errors import PageError
from web.templating import templates
from web.viewer import session_of

router = APIRouter(prefix="/ui", include_in_schema=False)

HOME = "/ui/incidents"


def _safe_next(target: str | None) -> str:
    """Only a page of this interface: never another site (an open redirect)."""
    if target and target.startswith("/ui/") and not target.startswith("//"):
        return target
    return HOME


def _page(request: Request, *, status: int = 200, **context: object) -> HTMLResponse:
    return templates.TemplateResponse(
        request, "sign_in.html", {"viewer": None, **context}, status_code=status
    )


@router.get("/sign-in")
async def sign_in_page(
    request: Request,
    next_: Annotated[str | None, Query(alias="next", max_length=500)] = None,
    ended: Annotated[str | None, Query(max_length=5)] = None,
) -> HTMLResponse:
    return _page(request, next=_safe_next(next_), ended=bool(ended))


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    # A form posted from another site could sign a browser in as someone else.
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        raise PageError(403, "sign in from this site's own sign-in page")
    values = await form_values(request)
    target = _safe_next(values.get("next"))
    token = values.get("token", "")
    tokens: TokenStore = request.app.state.tokens
    principal = await run_in_threadpool(tokens.authenticate, token) if token else None
    if principal is None or not principal.allows(Scope.READ):
        return _page(request, status=401, next=target, error="That token is not a valid API token.")
    codec: SessionCodec = request.app.state.sessions
    cookie, _ = codec.issue(digest_of(token))
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE_NAME,
        cookie,
        max_age=int(codec.max_age_seconds),
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


@router.get("/sign-out")
async def sign_out_page(request: Request) -> Response:
    """A page with the sign-out button (signing out changes state: it is a POST)."""
    session = await session_of(request)
    if session is None:
        return RedirectResponse("/ui/sign-in", status_code=303)
    return templates.TemplateResponse(
        request, "sign_out.html", {"viewer": None, "csrf": session.csrf}
    )


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    session = await session_of(request)
    values = await form_values(request)
    if session is not None and not session.accepts(values.get("csrf_token")):
        raise PageError(403, "this form did not come from this site: reload the page and retry")
    response = RedirectResponse("/ui/sign-in", status_code=303)
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="lax")
    return response
