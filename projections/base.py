"""What every projection is: a name, a version, its tables, and a batch ``apply``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol
from uuid import UUID

from sqlalchemy import Connection, Table

from domain.events import DomainEvent, decode
from eventstore.records import RecordedEvent


@dataclass(frozen=True, slots=True)
class Envelope:
    """A stored event together with its decoded (and upcast) domain event."""

    recorded: RecordedEvent
    event: DomainEvent

    @property
    def incident_id(self) -> UUID:
        return incident_id_of(self.recorded.stream_id)

    @property
    def actor(self) -> str | None:
        actor = self.recorded.metadata.get("actor")
        return str(actor) if actor is not None else None


@lru_cache(maxsize=65_536)
def incident_id_of(stream_id: str) -> UUID:
    """The incident a stream belongs to; cached, as every event of a batch asks again."""
    return UUID(stream_id.removeprefix("incident-"))


def envelope(recorded: RecordedEvent) -> Envelope:
    """Decode a stored event once, for every projection to share."""
    event = decode(recorded.type, recorded.schema_version, recorded.data, recorded.occurred_at)
    return Envelope(recorded, event)


class Projection(Protocol):
    """A read model maintained from the log."""

    @property
    def name(self) -> str:
        """Stable name, the key of its checkpoint."""
        ...

    @property
    def version(self) -> int:
        """Bumped whenever the projection's output changes; a new version means a rebuild."""
        ...

    @property
    def tables(self) -> Sequence[Table]:
        """The tables it owns and nobody else writes."""
        ...

    def using(self, tables: Mapping[str, Table]) -> Projection:
        """The same projection writing into other tables (by canonical name): for rebuilds."""
        ...

    def apply(self, conn: Connection, batch: Sequence[Envelope]) -> None:
        """Apply events in log order; called inside the transaction that moves the checkpoint."""
        ...
