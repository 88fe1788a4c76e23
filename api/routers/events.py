"""The raw log by position: pages (GET /events) and live server-sent events (GET /events/stream)."""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy import Engine

from api.event_stream import LogStreamResponse, follow_log, live_parts
from api.problems import PROBLEM_JSON
from api.schemas.events import EVENT_STREAM, LOG_PAGE, LogEvent, LogPage
from api.schemas.examples import answers
from application.database_health import ping
from domain.events import CURRENT_VERSIONS
from domain.values import incident_id_of, stream_id_for
from eventstore.feed import LogFilter, read_log_page
from eventstore.reads import MAX_POSITION

router = APIRouter(prefix="/events", tags=["events"])

"""The largest position either database can hold."""

KNOWN_TYPES = frozenset(CURRENT_VERSIONS)

SSE_MESSAGE: dict[str, Any] = {
    "type": "object",
    "description": "One message of the stream (OpenAPI 3.2's shape for server-sent events).",
    "required": ["id", "event", "data"],
    "properties": {
        "id": {"type": "string", "pattern": "^[0-9]+$", "description": "The log position."},
        "event": {"type": "string", "description": "The event's type."},
        "data": {
            "type": "string",
            "contentMediaType": "application/json",
            "contentSchema": {"$ref": "#/components/schemas/LogEvent"},
        },
        "retry": {"type": "integer", "minimum": 0},
    },
}
"""What each message that carries an event holds; ``data`` is a LogEvent as JSON."""


def _invalid(name: str, message: str, value: Any) -> RequestValidationError:
    return RequestValidationError(
        [{"loc": ("query", name), "msg": message, "type": "value_error", "input": value}]
    )


def _stream_id(value: str) -> str:
    try:
        return stream_id_for(incident_id_of(value))
    except ValueError:
        raise _invalid(
            "stream", f"{value!r} is neither an incident id nor a stream id (incident-<id>)", value
        ) from None


def _types(values: list[str]) -> tuple[frozenset[str], frozenset[str]]:
    exact: set[str] = set()
    prefixes: set[str] = set()
    for value in values:
        if value in KNOWN_TYPES:
            exact.add(value)
        elif value.endswith(".") and any(known.startswith(value) for known in KNOWN_TYPES):
            prefixes.add(value)
        else:
            known = ", ".join(sorted(KNOWN_TYPES))
            raise _invalid(
                "type",
                f"{value!r} is neither an event type nor the start of one ending in '.'"
                f" (such as 'alert.'); the types are: {known}",
                value,
            )
    return frozenset(exact), frozenset(prefixes)


def log_filter(
    stream: Annotated[
        str | None,
        Query(
            max_length=200,
            description="Only this incident's events: its id, or its stream id incident-<id>.",
            examples=["0b7c6f2e-3f57-4b2c-9a53-3d7d2f0f4a10"],
        ),
    ] = None,
    types: Annotated[
        list[str] | None,
        Query(
            alias="type",
            max_length=50,
            description=(
                "Only events of these types (repeat the parameter for several): an exact"
                " type such as `incident.declared`, or a prefix ending in `.` such as"
                " `alert.` for every type that starts with it."
            ),
            examples=[["incident.status_changed", "alert."]],
        ),
    ] = None,
) -> LogFilter:
    """The ``stream`` and ``type`` filters both routes share; 422 for an unknown one."""
    exact, prefixes = _types(types or [])
    return LogFilter(
        stream_id=_stream_id(stream) if stream is not None else None,
        types=exact,
        type_prefixes=prefixes,
    )


LogFilterDep = Annotated[LogFilter, Depends(log_filter)]
After = Annotated[
    int,
    Query(
        ge=0,
        le=MAX_POSITION,
        description="Start after this log position (0: from the beginning).",
    ),
]


@router.get(
    "",
    summary="The log in position order, a page at a time",
    responses={**answers(LOG_PAGE), 422: {"description": "Invalid paging or filter"}},
)
def read_events(
    request: Request,
    filters: LogFilterDep,
    after: After = 0,
    limit: Annotated[int, Query(ge=1, le=1000, description="Events per page at most.")] = 100,
) -> LogPage:
    """Pages never skip an event: follow ``next_after`` (or ``next_url``) from page to page."""
    engine: Engine = request.app.state.engine
    with engine.connect() as conn:
        page = read_log_page(conn, after, limit, filters)
    return LogPage(
        events=[LogEvent.of(event) for event in page.events],
        next_after=page.next_after,
        head=page.head,
        next_url=str(request.url.include_query_params(after=page.next_after)),
    )


@router.get(
    "/stream",
    summary="The log live, as server-sent events",
    response_class=LogStreamResponse,
    status_code=200,
    responses={
        200: {
            "description": (
                "A long-lived text/event-stream: a `retry:` hint, then one message per event"
                " (`id:` its position, `event:` its type, `data:` its envelope as in GET"
                " /events) and a `: heartbeat` comment at a fixed interval. It ends after"
                " INCIDENTS_EVENTS_STREAM_MAX_SECONDS or when the server stops; resume with"
                " Last-Event-ID."
            ),
            "content": {"text/event-stream": {"schema": SSE_MESSAGE, "example": EVENT_STREAM}},
        },
        422: {"description": "Invalid position or filter"},
        503: {
            "description": "This server streams to as many clients as it may; retry later",
            "content": {PROBLEM_JSON: {}},
        },
    },
)
async def stream_events(
    request: Request,
    filters: LogFilterDep,
    after: After = 0,
    last_event_id: Annotated[
        int | None,
        Header(
            ge=0,
            le=MAX_POSITION,
            description="Resume after this position (sent by EventSource when it reconnects);"
            " it takes precedence over ``after``.",
        ),
    ] = None,
) -> LogStreamResponse:
    """Every event after the position, then each new one as it is committed, in order."""
    # Once the stream has started only its end can tell of a fault: a 503 comes first.
    await anyio.to_thread.run_sync(ping, request.app.state.engine)
    watcher, slots = live_parts(request.app)
    settings = request.app.state.settings
    start = last_event_id if last_event_id is not None else after
    stopping = anyio.Event()
    events = follow_log(request.app.state.engine, watcher, start, filters, settings, stopping)
    return LogStreamResponse(events, slots, settings, stopping)
