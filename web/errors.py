"""What a page answers instead of itself: the sign-in page, or an error page in HTML."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from web.templating import templates


class SignInRequired(Exception):
    """No live session: the viewer signs in, then comes back to ``path``."""

    def __init__(self, path: str, *, ended: bool = False) -> None:
        super().__init__(path)
        self.path = path
        self.ended = ended


class PageError(Exception):
    """A page that cannot be shown (404) or an action that is not allowed (403)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


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
    return templates.TemplateResponse(
        request,
        "error.html",
        {"status": exc.status, "detail": exc.detail, "viewer": None},
        status_code=exc.status,
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(SignInRequired, _sign_in)
    app.add_exception_handler(PageError, _page_error)
