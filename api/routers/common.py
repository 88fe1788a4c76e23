"""What the command routers share: error documentation, results, multi-command requests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from fastapi import HTTPException
from sqlalchemy import Connection

from api.schemas import CommandResult
from api.service import IncidentService, Outcome
from domain import commands as c
from domain.incident import decide, fold
from projections.summary import get_summary

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such incident"}}
COMMAND_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such incident or entry"},
    409: {"description": "Concurrent change; retry"},
    422: {"description": "Invalid input or a broken rule"},
}


def result(outcome: Outcome) -> CommandResult:
    """Where a command landed."""
    return CommandResult(
        id=outcome.incident_id, version=outcome.result.version, position=outcome.result.position
    )


def execute_all(
    service: IncidentService, commands: Sequence[c.Command], metadata: dict[str, Any]
) -> Outcome:
    """Run commands one after another, each as its own append.

    The whole sequence is first decided against the current state, so a request whose
    third command breaks a rule is refused before the first is stored.
    """
    state = service.load(commands[0].incident_id)
    for command in commands:
        state = fold(decide(state, command), state)
    outcome = None
    for command in commands:
        outcome = service.execute(command, metadata)
    assert outcome is not None, "execute_all needs at least one command"
    return outcome


def require_summary(conn: Connection, incident_id: UUID) -> dict[str, Any]:
    """The incident's summary row; 404 when there is no such incident."""
    row = get_summary(conn, incident_id)
    if row is None:
        raise HTTPException(404, f"incident {incident_id} does not exist")
    return row
