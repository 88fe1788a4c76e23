"""FastAPI dependencies: the composition root's objects, reached through app.state."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import Connection, Engine

from api.service import IncidentService


def get_service(request: Request) -> IncidentService:
    service: IncidentService = request.app.state.service
    return service


def get_connection(request: Request) -> Iterator[Connection]:
    engine: Engine = request.app.state.engine
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
