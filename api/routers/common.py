"""What the command routers share: error documentation, results, multi-command requests."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import HTTPException, Response
from sqlalchemy import Connection

from api.schemas import CommandResult
from application.service import Outcome
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


def require_summary(conn: Connection, incident_id: UUID) -> dict[str, Any]:
    """The incident's summary row; 404 when there is no such incident."""
    row = get_summary(conn, incident_id)
    if row is None:
        raise HTTPException(404, f"incident {incident_id} does not exist")
    return row
