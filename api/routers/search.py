"""Full-text search over incidents, notes, postmortems and action items."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic_core import PydanticCustomError

from api.cursor import next_link
from api.dependencies import ConnectionDep
from api.schemas.examples import answers
from api.schemas.label_filter import LabelFilter, label_pair
from api.schemas.search import SEARCH_PAGE, Kind, SearchHit, SearchPage
from application.input_times import QueryTime
from application.text_fields import SingleLine, single_line
from projections.search_queries import SEARCH_CURSOR, SearchFilters, search
from projections.search_syntax import MAX_LENGTH, QuerySyntaxError, SearchQuery, parse

router = APIRouter(tags=["search"])

SYNTAX = (
    'Words must all appear (in any order and case; "cafe" finds "café"); "a phrase" in'
    ' quotes appears as written; pay* finds words starting with pay; -word or -"a phrase"'
    " leaves out what has it; a OR b finds either."
)


def _query(q: str) -> SearchQuery:
    """``q`` read as a query, or a 422 naming ``q``."""
    try:
        return parse(single_line(q))
    except (QuerySyntaxError, PydanticCustomError) as exc:
        error = {"loc": ("query", "q"), "msg": str(exc), "type": "value_error", "input": q}
        raise RequestValidationError([error]) from exc


@router.get(
    "/search",
    summary="Search incidents, notes, postmortems and action items",
    responses=answers(SEARCH_PAGE),
)
def search_documents(
    conn: ConnectionDep,
    request: Request,
    # A plain str, whose limits count characters; control characters are refused in _query.
    q: Annotated[
        str, Query(min_length=1, max_length=MAX_LENGTH, description=f"The query. {SYNTAX}")
    ],
    kind: Annotated[Kind | None, Query(description="Only hits of this kind.")] = None,
    service: Annotated[
        SingleLine[str] | None,
        Query(max_length=100, description="Only hits of incidents that affect this service."),
    ] = None,
    label: Annotated[
        LabelFilter | None,
        Query(max_length=200, description="Only hits of incidents with this label, as key=value."),
    ] = None,
    from_: Annotated[
        QueryTime | None,
        Query(alias="from", description="Only hits that happened at or after this RFC 3339 time."),
    ] = None,
    to: Annotated[
        QueryTime | None, Query(description="Only hits that happened before this RFC 3339 time.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> SearchPage:
    """Finds the query's words in incident titles and summaries (with impact, root cause,
    resolution and alert names), notes as they read now (a redacted note is never found),
    postmortem sections (the draft being written and each published revision) and action
    item titles; best match first, a title match above a mention in a text. Every hit
    links to where it lives, in the API and in the web interface. A query matching more
    than 10,000 documents ranks the newest 10,000 and says so in ranked_newest."""
    query = _query(q)
    filters = SearchFilters(
        kind=kind,
        service=service,
        label=label_pair(label),
        occurred_from=from_,
        occurred_to=to,
    )
    found = search(
        conn, query, limit=limit + 1, filters=filters, after=SEARCH_CURSOR.decode(cursor)
    )
    page, next_cursor = SEARCH_CURSOR.page(found.hits, limit)
    return SearchPage(
        items=[SearchHit.from_row(row) for row in page],
        ranked_newest=found.ranked_newest,
        next_cursor=next_cursor,
        next_url=next_link(request, next_cursor),
    )
