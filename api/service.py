"""Command handling: load an incident from its stream, decide, append under concurrency control."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import structlog

from domain.commands import Command
from domain.events import decode, encode, event_type, schema_version
from domain.incident import Incident, decide, fold
from domain.values import stream_id_for
from eventstore import AppendResult, ConcurrencyError, EventStore, NewEvent
from projections.runner import ProjectionRunner

log = structlog.get_logger()


class PreconditionFailed(Exception):
    """The client's If-Match version is not the incident's current version."""

    def __init__(self, expected: int, actual: int) -> None:
        super().__init__(f"incident is at version {actual}, If-Match asked for version {expected}")
        self.expected = expected
        self.actual = actual


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a handled command produced."""

    incident_id: UUID
    result: AppendResult


class IncidentService:
    """Runs commands against incidents; projections are updated in the same transaction."""

    def __init__(
        self,
        store: EventStore,
        runner: ProjectionRunner | None,
        *,
        retries: int = 5,
        clock: Callable[[], datetime] | None = None,
        cache_size: int = 10_000,
    ) -> None:
        self.store = store
        self.cache_size = cache_size
        self._cache: OrderedDict[str, Incident] = OrderedDict()
        self._cache_lock = threading.Lock()
        self.runner = runner
        self.retries = retries
        self.clock = clock or (lambda: datetime.now(UTC))

    def now(self) -> datetime:
        return self.clock()

    def load(self, incident_id: UUID) -> Incident:
        """The incident's current state: a cached state folded forward with newer events.

        A state at version N is a pure function of the stream's first N events, which
        never change, so a cached state is always right for its version; only the events
        after it are read. Another process's appends are simply newer events.
        """
        stream_id = stream_id_for(incident_id)
        with self._cache_lock:
            cached = self._cache.get(stream_id)
        base = cached or Incident()
        recorded = self.store.read_stream(stream_id, after_version=base.version)
        state = fold(
            (decode(r.type, r.schema_version, r.data, r.occurred_at) for r in recorded), base
        )
        if state.exists:
            with self._cache_lock:
                current = self._cache.get(stream_id)
                if current is None or current.version < state.version:
                    self._cache[stream_id] = state
                    self._cache.move_to_end(stream_id)
                    while len(self._cache) > self.cache_size:
                        self._cache.popitem(last=False)
        return state

    def execute(
        self,
        command: Command,
        metadata: dict[str, Any],
        *,
        if_match: int | None = None,
    ) -> Outcome:
        """Decide and append; retry on a lost race unless the client pinned a version."""
        stream_id = stream_id_for(command.incident_id)
        in_transaction = self.runner.apply_inline if self.runner is not None else None
        for attempt in range(1, self.retries + 1):
            state = self.load(command.incident_id)
            if if_match is not None and state.version != if_match:
                raise PreconditionFailed(if_match, state.version)
            new_events = [
                NewEvent(
                    event_id=uuid4(),
                    type=event_type(event),
                    schema_version=schema_version(event),
                    data=encode(event),
                    occurred_at=event.occurred_at,
                    metadata=metadata,
                )
                for event in decide(state, command)
            ]
            try:
                result = self.store.append(
                    stream_id, new_events, state.version, in_transaction=in_transaction
                )
            except ConcurrencyError as conflict:
                if if_match is not None:
                    raise PreconditionFailed(if_match, conflict.actual) from conflict
                if attempt == self.retries:
                    raise
                log.info("command.retry", stream_id=stream_id, attempt=attempt)
                continue
            return Outcome(command.incident_id, result)
        raise AssertionError("unreachable: the loop returns or raises")
