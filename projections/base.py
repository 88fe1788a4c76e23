"""What every projection is: a name, a version, its tables, and a batch ``apply``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol, cast
from uuid import UUID

from sqlalchemy import Connection, Table

from domain.events import DomainEvent, decode
from domain.values import incident_id_of
from eventstore.records import RecordedEvent


@dataclass(frozen=True, slots=True)
class Envelope:
    """A stored event together with its decoded (and upcast) domain event."""

    recorded: RecordedEvent
    event: DomainEvent

    @property
    def incident_id(self) -> UUID:
        return _incident_id(self.recorded.stream_id)

    @property
    def actor(self) -> str | None:
        return self.meta("actor")

    def meta(self, key: str) -> str | None:
        """One entry of the event's metadata as text (None when absent)."""
        value = self.recorded.metadata.get(key)
        return str(value) if value is not None else None


# Cached: every projection asks again for every event of a batch.
_incident_id = lru_cache(maxsize=65_536)(incident_id_of)


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


def resumed(projection: Projection) -> Projection:
    """A rebuilding projection going on from rows that other processes wrote.

    A projection that keeps track of the rows it wrote itself (to tell new rows from
    stored ones without asking) says how it goes on without that, by a ``resumed()``
    method; every other one goes on as it is.
    """
    resume = getattr(projection, "resumed", None)
    return projection if resume is None else cast(Projection, resume())
