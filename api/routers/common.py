"""What the routers share: error documentation, running a route's commands, read refusals."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, TypeVar
from uuid import UUID

from fastapi import Body, Depends, HTTPException, Request, Response
from sqlalchemy import Connection

from api.dependencies import IdempotencyKeyHeader, IfMatchHeader, command_context
from api.schemas.common import CommandBody, CommandResult
from application.service import CommandContext, IncidentService, Outcome
from domain.commands import Command
from projections.errors import NotFound
from projections.summary import get_summary

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such incident"}}
COMMAND_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such incident or entry"},
    409: {"description": "Concurrent change; retry"},
    422: {"description": "Invalid input or a broken rule"},
}


def result(outcome: Outcome, response: Response) -> CommandResult:
    """Where a command landed; the incident's new version is also its ETag."""
    response.headers["ETag"] = f'"{outcome.result.version}"'
    if outcome.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return CommandResult(
        id=outcome.incident_id, version=outcome.result.version, position=outcome.result.position
    )


@dataclass(frozen=True, slots=True)
class Commands:
    """A command route's way to the service, with its request's actor, If-Match and
    Idempotency-Key, and its response for the headers the result sets."""

    service: IncidentService
    context: CommandContext
    response: Response

    def now(self) -> datetime:
        """The service's clock: when a command is asked."""
        return self.service.now()

    @property
    def actor(self) -> str:
        """Who asks: the name of the request's token (or web session)."""
        return str(self.context.metadata.get("actor") or "anonymous")

    def new_id(self, purpose: str) -> UUID:
        """An id for something the command creates (the same on an idempotent retry)."""
        return self.context.new_id(purpose)

    async def run(
        self, commands: Command | Sequence[Command], location: str | None = None
    ) -> CommandResult:
        """Execute the command(s) as one change; ``location`` names what it created.

        Awaited on the event loop: the writer commits it with whatever else is waiting,
        and no thread is held meanwhile.
        """
        outcome = await self.service.execute_async(commands, self.context)
        if location is not None:
            self.response.headers["Location"] = location
        return result(outcome, self.response)


async def commands(
    request: Request,
    response: Response,
    if_match: IfMatchHeader = None,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Commands:
    """``Commands`` as a dependency: async, as it does no I/O (no thread hop), and one
    dependency rather than one per part, as FastAPI's cost per request grows with each."""
    service: IncidentService = request.app.state.service
    context = await command_context(request, if_match, idempotency_key)
    return Commands(service, context, response)


CommandsDep = Annotated[Commands, Depends(commands)]

B = TypeVar("B", bound=CommandBody)
OptionalBody = Annotated[B | None, Body()]
"""A body that may be left out, as every one of its fields has a default; declare it ``= None``."""


@contextmanager
def found() -> Iterator[None]:
    """A read's NotFound as a 404 with its detail."""
    try:
        yield
    except NotFound as exc:
        raise HTTPException(404, exc.detail) from None


def require_summary(conn: Connection, incident_id: UUID) -> dict[str, Any]:
    """The incident's summary row; 404 when there is no such incident."""
    row = get_summary(conn, incident_id)
    if row is None:
        raise HTTPException(404, NotFound.incident(incident_id).detail)
    return row
