"""What a command asks under (If-Match, Idempotency-Key, metadata) and what it produced."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal
from uuid import UUID, uuid4, uuid5

from application.idempotency import IdempotencyRequest
from eventstore import AppendResult

ANY_VERSION: Final = "*"
IfMatch = int | Literal["*"]
"""An If-Match condition: the incident's version, or ``*`` for any (existing) version."""


class PreconditionFailed(Exception):
    """The client's If-Match version is not the incident's current version."""

    def __init__(self, expected: IfMatch, actual: int) -> None:
        if expected == ANY_VERSION:
            message = "incident does not exist, If-Match: * asked for any existing version"
        else:
            message = f"incident is at version {actual}, If-Match asked for version {expected}"
        super().__init__(message)
        self.expected = expected
        self.actual = actual


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a handled command produced.

    ``replayed``: an earlier identical request's result; ``unchanged``: the command was
    already fulfilled (a redelivered alert), nothing was appended and ``result`` holds
    the incident's current version and the position of its newest event.
    """

    incident_id: UUID
    result: AppendResult
    replayed: bool = False
    unchanged: bool = False


ID_NAMESPACE = UUID("6f1c1f4e-3d8a-4c55-9a0e-2b7c5d9e8a11")


@dataclass(frozen=True, slots=True)
class CommandContext:
    """Who asks, under which conditions: event metadata, If-Match, Idempotency-Key."""

    metadata: dict[str, Any]
    if_match: IfMatch | None = None
    idempotency: IdempotencyRequest | None = None

    def new_id(self, purpose: str) -> UUID:
        """A fresh id, or with an Idempotency-Key the same id on every retry of the request."""
        if self.idempotency is None:
            return uuid4()
        name = f"{self.idempotency.principal}\x00{self.idempotency.key}\x00{purpose}"
        return uuid5(ID_NAMESPACE, name)
