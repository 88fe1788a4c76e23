"""Command handling: load an incident from its stream, decide, append under concurrency control."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4, uuid5

import structlog
from sqlalchemy import Connection

from api import idempotency
from api.idempotency import IdempotencyRequest
from domain.commands import Command
from domain.events import decode, encode, event_type, schema_version
from domain.incident import Incident, decide, evolve, fold
from domain.values import stream_id_for
from eventstore import AppendResult, ConcurrencyError, EventStore, NewEvent, RecordedEvent
from eventstore.engine import WRITE
from eventstore.store import (
    InTransaction,
    lock_log_for_append,
    read_stream_in,
    stream_position_in,
)
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
    if_match: int | None = None
    idempotency: IdempotencyRequest | None = None

    def new_id(self, purpose: str) -> UUID:
        """A fresh id, or with an Idempotency-Key the same id on every retry of the request."""
        if self.idempotency is None:
            return uuid4()
        name = f"{self.idempotency.principal}\x00{self.idempotency.key}\x00{purpose}"
        return uuid5(ID_NAMESPACE, name)


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
        on_appended: Callable[[int], object] | None = None,
    ) -> None:
        self.on_appended = on_appended
        self.store = store
        self.cache_size = cache_size
        # Each incident's newest state with the id of the event that made it.
        self._cache: OrderedDict[str, tuple[Incident, UUID]] = OrderedDict()
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
        with self.store.engine.connect() as conn:
            return self._load_in(conn, incident_id)

    def _load_in(self, conn: Connection, incident_id: UUID) -> Incident:
        stream_id = stream_id_for(incident_id)
        with self._cache_lock:
            cached = self._cache.get(stream_id)
        base, recorded = Incident(), None
        if cached is not None:
            # Read from the cached state's newest event on: it must still be stored (a
            # database restored from an older backup would not hold it), else start over.
            state, newest = cached
            found = read_stream_in(conn, stream_id, after_version=state.version - 1)
            if found and found[0].event_id == newest:
                base, recorded = state, found[1:]
        if recorded is None:
            recorded = read_stream_in(conn, stream_id)
        state = fold(
            (decode(r.type, r.schema_version, r.data, r.occurred_at) for r in recorded), base
        )
        if state.exists:
            if recorded:
                self._remember(stream_id, state, recorded[-1].event_id)
            elif cached is not None:
                self._remember(stream_id, state, cached[1])
        return state

    def _remember(self, stream_id: str, state: Incident, newest: UUID) -> None:
        with self._cache_lock:
            current = self._cache.get(stream_id)
            if current is None or current[0].version < state.version:
                self._cache[stream_id] = (state, newest)
                self._cache.move_to_end(stream_id)
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)

    def execute(
        self,
        commands: Command | Sequence[Command],
        context: CommandContext | dict[str, Any],
        *,
        if_match: int | None = None,
    ) -> Outcome:
        """Decide under the append lock and append atomically; If-Match pins the version.

        Several commands (for one incident) are decided one after the other on the
        evolving state and appended together: all of them land, or none.
        """
        batch = [commands] if isinstance(commands, Command) else list(commands)
        ctx = context if isinstance(context, CommandContext) else CommandContext(context)
        if if_match is not None:
            ctx = replace(ctx, if_match=if_match)
        incident_id = batch[0].incident_id
        stream_id = stream_id_for(incident_id)
        for attempt in range(1, self.retries + 1):
            try:
                return self._decide_and_append(incident_id, batch, ctx)
            except ConcurrencyError:
                # Only a writer that bypasses the append lock can get here.
                if attempt == self.retries:
                    raise
                log.info("command.retry", stream_id=stream_id, attempt=attempt)
        raise AssertionError("unreachable: the loop returns or raises")

    def _decide_and_append(
        self, incident_id: UUID, batch: list[Command], ctx: CommandContext
    ) -> Outcome:
        # The state is read and the command decided while holding the append lock (SQLite:
        # the write lock), so no other writer can move the stream in between: commands
        # never lose a race, and If-Match is checked against the state that is appended to.
        stream_id = stream_id_for(incident_id)
        with self.store.engine.connect().execution_options(**WRITE) as conn, conn.begin():
            lock_log_for_append(conn)
            if ctx.idempotency is not None:
                original = idempotency.find(conn, ctx.idempotency)
                if original is not None:
                    return Outcome(idempotency.incident_of(original), original, replayed=True)
            state = self._load_in(conn, incident_id)
            if ctx.if_match is not None and state.version != ctx.if_match:
                raise PreconditionFailed(ctx.if_match, state.version)
            decided = state
            new_events = []
            for command in batch:
                for event in decide(decided, command):
                    decided = evolve(decided, event)
                    new_events.append(
                        NewEvent(
                            event_id=uuid4(),
                            type=event_type(event),
                            schema_version=schema_version(event),
                            data=encode(event),
                            occurred_at=event.occurred_at,
                            metadata=ctx.metadata,
                        )
                    )
            if not new_events:
                position = stream_position_in(conn, stream_id)
                current = AppendResult(stream_id, state.version, (position,))
                return Outcome(incident_id, current, unchanged=True)
            result = self.store.append_in(
                conn,
                stream_id,
                new_events,
                state.version,
                in_transaction=self._in_transaction(ctx),
                decided_under_lock=True,
            )
        if self.on_appended is not None:
            self.on_appended(len(new_events))
        return Outcome(incident_id, result)

    def _in_transaction(self, ctx: CommandContext) -> InTransaction | None:
        runner = self.runner
        key = ctx.idempotency
        if key is None:
            return runner.apply_inline if runner is not None else None

        def within(conn: Connection, recorded: list[RecordedEvent]) -> None:
            if runner is not None:
                runner.apply_inline(conn, recorded)
            last = recorded[-1]
            positions = tuple(r.position for r in recorded)
            idempotency.remember(conn, key, AppendResult(last.stream_id, last.version, positions))

        return within
