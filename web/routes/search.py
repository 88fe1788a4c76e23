"""The search page: a query and a kind, the hits best first with their highlighted passages,
each linked to where it lives, and the next page."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from pydantic_core import PydanticCustomError
from sqlalchemy import Engine
from starlette.datastructures import URL

from application.text_fields import single_line
from projections.search_syntax import MAX_LENGTH
from web.paging import paging
from web.search_reads import KIND_LABELS, SearchInvalid, read_search
from web.templating import templates
from web.viewer import ViewerDep

router = APIRouter(prefix="/ui", include_in_schema=False)

PAGE = "/ui/search"
SYNTAX_HELP = (
    'All words must appear; "a phrase" in quotes as written; pay* for words starting with'
    " pay; -word to leave out; a OR b for either."
)


def _checked(q: str, kind: str | None) -> None:
    """SearchInvalid naming the field when the query or the kind cannot be used."""
    if len(q) > MAX_LENGTH:
        raise SearchInvalid("q", f"q: a query has at most {MAX_LENGTH} characters")
    try:
        single_line(q)
    except PydanticCustomError as exc:
        raise SearchInvalid("q", f"q: {exc.message()}") from None
    if kind is not None and kind not in KIND_LABELS:
        raise SearchInvalid("kind", f"kind: {kind!r} is not one of {', '.join(KIND_LABELS)}")


@router.get("/search")
def search_page(
    request: Request,
    viewer: ViewerDep,
    q: Annotated[str | None, Query(max_length=4 * MAX_LENGTH)] = None,
    kind: Annotated[str | None, Query(max_length=64)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    start: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    query, chosen = (q or "").strip(), kind or None
    context: dict[str, Any] = {
        "viewer": viewer,
        "section": "search",
        "q": query,
        "kind": chosen,
        "kinds": KIND_LABELS,
        "syntax_help": SYNTAX_HELP,
        "results": None,
        "paging": None,
    }
    if not query:
        return templates.TemplateResponse(request, "search.html", context)
    engine: Engine = request.app.state.engine
    try:
        _checked(query, chosen)
        with engine.connect() as conn:
            results = read_search(conn, query, chosen, cursor)
    except SearchInvalid as exc:
        context["search_error"] = exc
        return templates.TemplateResponse(request, "search.html", context, status_code=422)
    asked = URL(f"{PAGE}?{urlencode({'q': query, **({'kind': chosen} if chosen else {})})}")
    shown = paging(asked, cursor, start, len(results.hits), results.next_cursor)
    context.update(results=results, paged=bool(cursor), paging=shown)
    return templates.TemplateResponse(request, "search.html", context)
