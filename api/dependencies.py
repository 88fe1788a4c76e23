"""FastAPI dependencies: the composition root's objects, reached through app.state."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy import Connection, Engine

from api.correlation import correlation_id
from application.idempotency import IdempotencyRequest, request_hash
from application.service import ANY_VERSION, CommandContext, IfMatch, IncidentService
from application.settings import Settings
from application.tokens import Principal
from eventstore.store import head_position_in
from projections.status import wait_for_position


async def get_service(request: Request) -> IncidentService:
    service: IncidentService = request.app.state.service
    return service


def get_connection(
    request: Request,
    min_position: Annotated[
        int | None,
        Query(
            ge=0,
            description=(
                "Read your own writes: wait (a bounded time) until the read models include"
                " this log position, as returned by a command."
            ),
        ),
    ] = None,
) -> Iterator[Connection]:
    engine: Engine = request.app.state.engine
    if min_position is not None:
        with engine.connect() as conn:
            head = head_position_in(conn)
        if min_position > head:
            # No command returned this position: waiting for it could only end in a 503.
            raise RequestValidationError(
                [
                    {
                        "loc": ("query", "min_position"),
                        "msg": f"position {min_position} is beyond the end of the log ({head})",
                        "type": "value_error",
                        "input": min_position,
                    }
                ]
            )
        settings: Settings = request.app.state.settings
        behind = wait_for_position(
            engine, request.app.state.projections, min_position, settings.read_wait_seconds
        )
        if behind:
            names = ", ".join(f"{s.name} at {s.position}" for s in behind)
            raise HTTPException(
                503,
                f"read models have not reached position {min_position} yet ({names});"
                " retry shortly",
                headers={"Retry-After": "1"},
            )
    with engine.connect() as conn:
        yield conn


def request_metadata(request: Request) -> dict[str, Any]:
    """Who asked and through which request; recorded with every event the command writes.

    The actor is the authenticated token's name, never anything the body claims.
    """
    request_id = getattr(request.state, "request_id", None)
    principal: Principal | None = getattr(request.state, "principal", None)
    return {
        "actor": principal.name if principal is not None else "anonymous",
        "source": "api",
        "request_id": request_id,
        "correlation_id": correlation_id(request, request_id),
    }


def _if_match(value: str | None) -> IfMatch | None:
    """An incident version (quoted, weak or bare), or ``*``: any version (RFC 9110 13.1.1)."""
    if value is None:
        return None
    if value.strip() == ANY_VERSION:
        return ANY_VERSION
    raw = value.strip().removeprefix("W/").strip('"')
    if not (raw.isascii() and raw.isdigit()):
        raise HTTPException(400, f'If-Match must be an incident version such as "3", not {value!r}')
    return int(raw)


IfMatchHeader = Annotated[
    str | None,
    Header(
        description=(
            "Apply only if the incident is at this version (its ETag), or with `*` at any"
            " version; else 412. An unknown incident is 404 either way."
        ),
        examples=['"3"'],
    ),
]
IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        min_length=1,
        max_length=200,
        description=(
            "Retrying with the same key and body returns the original answer and writes"
            " nothing; the same key with another body is refused (422). Kept 24 hours."
        ),
    ),
]


async def command_context(
    request: Request, if_match: str | None, idempotency_key: str | None
) -> CommandContext:
    """Everything a command route passes to the service besides the command itself."""
    metadata = request_metadata(request)
    key = None
    if idempotency_key is not None:
        body = await request.body()
        digest = request_hash(request.method, request.url.path, body)
        principal = metadata["actor"]
        key = IdempotencyRequest(principal=principal, key=idempotency_key, request_hash=digest)
    return CommandContext(metadata=metadata, if_match=_if_match(if_match), idempotency=key)


ServiceDep = Annotated[IncidentService, Depends(get_service)]
ConnectionDep = Annotated[Connection, Depends(get_connection)]
