"""FastAPI dependencies: the composition root's objects, reached through app.state."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Query, Request
from sqlalchemy import Connection, Engine

from api.service import IncidentService
from api.settings import Settings
from projections.status import wait_for_position


def get_service(request: Request) -> IncidentService:
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


def command_metadata(request: Request) -> dict[str, Any]:
    """Who asked and through which request; recorded with every event the command writes."""
    request_id = getattr(request.state, "request_id", None)
    return {
        "actor": "anonymous",
        "source": "api",
        "request_id": request_id,
        "correlation_id": request.headers.get("x-correlation-id", request_id),
    }


ServiceDep = Annotated[IncidentService, Depends(get_service)]
ConnectionDep = Annotated[Connection, Depends(get_connection)]
MetadataDep = Annotated[dict[str, Any], Depends(command_metadata)]
