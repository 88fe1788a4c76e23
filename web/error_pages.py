"""What a page answers instead of itself: the sign-in page, or an error page in HTML under
the header every page has (with the navigation and Sign out for a signed-in viewer).

Under the pages' prefix, an unknown address (404), a method no route takes (405) and a
malformed path or query value (422) are error pages too; every other path keeps the
handlers installed before these (the API's problem documents).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from http import HTTPStatus
from inspect import isawaitable
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from web.errors import PageError, SignInRequired
from web.templating import templates
from web.viewer import signed_in_viewer

Handler = Callable[[Request, Any], Awaitable[Response]]
AnyHandler = Callable[[Request, Any], Response | Awaitable[Response]]


async def error_page(
    request: Request, status: int, detail: str, headers: Mapping[str, str] | None = None
) -> HTMLResponse:
    """The error page, under the header the viewer sees on every other page."""
    return templates.TemplateResponse(
        request,
        "error.html",
        {"status": status, "detail": detail, "viewer": await signed_in_viewer(request)},
        status_code=status,
        headers=headers,
    )


async def _sign_in(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequired)
    query = {"next": exc.path} if exc.path.startswith("/ui/") else {}
    if exc.ended:
        query["ended"] = "1"
    target = "/ui/sign-in" + (f"?{urlencode(query)}" if query else "")
    if request.headers.get("HX-Request"):
        # htmx follows a redirect inside the page; HX-Redirect moves the whole window.
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


async def _page_error(request: Request, exc: Exception) -> HTMLResponse:
    assert isinstance(exc, PageError)
    return await error_page(request, exc.status, exc.detail)


def _http_detail(request: Request, exc: HTTPException) -> str:
    detail = str(exc.detail)
    if exc.status_code == 404 and detail == HTTPStatus.NOT_FOUND.phrase:
        return f"there is no page at {request.url.path}"
    return detail


def _invalid_values(exc: RequestValidationError) -> str:
    """Each bad value named as the address carries it: ``incident_id 'x': <why>``."""
    found = []
    for error in exc.errors():
        location = error.get("loc", ())
        name = str(location[-1]) if location else "request"
        given = f" {error['input']!r}" if isinstance(error.get("input"), str) else ""
        found.append(f"{name}{given}: {error.get('msg', 'invalid')}")
    return "; ".join(found) or "invalid request"


def _pages_only(prefix: str, page: Handler, other: AnyHandler) -> Handler:
    """``page`` for a request under ``prefix``, ``other`` for any other."""

    async def handle(request: Request, exc: Any) -> Response:
        path = request.url.path
        if path == prefix or path.startswith(prefix + "/"):
            return await page(request, exc)
        answer = other(request, exc)
        return await answer if isawaitable(answer) else answer

    return handle


async def _http_page(request: Request, exc: Any) -> Response:
    assert isinstance(exc, HTTPException)
    return await error_page(request, exc.status_code, _http_detail(request, exc), exc.headers)


async def _invalid_page(request: Request, exc: Any) -> Response:
    assert isinstance(exc, RequestValidationError)
    return await error_page(request, 422, _invalid_values(exc))


def install(app: FastAPI, prefix: str) -> None:
    """The pages' handlers; call it after the API's, whose handlers other paths keep."""
    app.add_exception_handler(SignInRequired, _sign_in)
    app.add_exception_handler(PageError, _page_error)
    for error, page in ((HTTPException, _http_page), (RequestValidationError, _invalid_page)):
        app.add_exception_handler(error, _pages_only(prefix, page, app.exception_handlers[error]))
