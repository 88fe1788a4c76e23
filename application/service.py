"""Command handling: load an incident from its stream, decide, append under concurrency control."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Final, Literal
from uuid import UUID, uuid4, uuid5

import structlog
from sqlalchemy import Connection

from application import idempotency
from application.idempotency import PURGE_INTERVAL, IdempotencyRequest
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


def check_precondition(if_match: IfMatch, state: Incident) -> None:
    """PreconditionFailed unless the incident matches If-Match (``*``: it exists)."""
    matches = state.exists if if_match == ANY_VERSION else state.version == if_match
    if not matches:
        raise PreconditionFailed(if_match, state.version)


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
        # When this process next deletes expired idempotency keys (None: with the first
        # key it stores). See _remember_key.
        self._next_key_purge: datetime | None = None

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
        if_match: IfMatch | None = None,
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
        # Keys are stored, found and expired by the service's clock; read only when a key is
        # given, so commands without one use the clock exactly as before.
        key_time = self.now() if ctx.idempotency is not None else None
        with self.store.engine.connect().execution_options(**WRITE) as conn, conn.begin():
            lock_log_for_append(conn)
            if ctx.idempotency is not None:
                original = idempotency.find(conn, ctx.idempotency, key_time)
                if original is not None:
                    return Outcome(idempotency.incident_of(original), original, replayed=True)
            state = self._load_in(conn, incident_id)
            # RFC 9110 13.2.1: a precondition counts only where the request would otherwise
            # succeed. On an existing incident it is checked first (a stale version is 412
            # even if the command would be refused too); on an unknown one only after the
            # commands are decided, so a command that needs the incident is 404, whatever
            # If-Match says, and only a declaration gets to the check (where "0" matches).
            if ctx.if_match is not None and state.exists:
                check_precondition(ctx.if_match, state)
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
            if ctx.if_match is not None and not state.exists:
                check_precondition(ctx.if_match, state)
            if not new_events:
                position = stream_position_in(conn, stream_id)
                current = AppendResult(stream_id, state.version, (position,))
                return Outcome(incident_id, current, unchanged=True)
            result = self.store.append_in(
                conn,
                stream_id,
                new_events,
                state.version,
                in_transaction=self._in_transaction(ctx, key_time),
                decided_under_lock=True,
            )
        if self.on_appended is not None:
            self.on_appended(len(new_events))
        return Outcome(incident_id, result)

    def _in_transaction(
        self, ctx: CommandContext, key_time: datetime | None
    ) -> InTransaction | None:
        runner = self.runner
        key = ctx.idempotency
        if key is None or key_time is None:
            return runner.apply_inline if runner is not None else None

        def within(conn: Connection, recorded: list[RecordedEvent]) -> None:
            if runner is not None:
                runner.apply_inline(conn, recorded)
            last = recorded[-1]
            positions = tuple(r.position for r in recorded)
            result = AppendResult(last.stream_id, last.version, positions)
            self._remember_key(conn, key, result, key_time)

        return within

    def _remember_key(
        self, conn: Connection, key: IdempotencyRequest, result: AppendResult, now: datetime
    ) -> None:
        """Store the key and, at most once per PURGE_INTERVAL, delete the expired ones.

        Expired keys are deleted here, with a key being stored, rather than by a timer: no
        thread or task to start, stop or watch, and it runs in the append transaction, under
        the append lock, so it never contends with another writer (SQLite has one) and rolls
        back with the command. Keys only accumulate when keys are stored, so this bounds the
        table; an expired key that is still there is never answered (``find``) and is
        replaced when reused (``remember``). Each process keeps its own schedule; two
        processes deleting the same rows is harmless. The deletion uses the index on
        created_at, so it is cheap; between purges it is skipped altogether.
        """
        idempotency.remember(conn, key, result, now)
        due = self._next_key_purge
        if due is None or now >= due:
            # Set before deleting: should the transaction fail, the deletion is retried
            # an interval later, not with every following command.
            self._next_key_purge = now + PURGE_INTERVAL
            forgotten = idempotency.forget_expired(conn, now)
            if forgotten:
                log.info("idempotency.expired_keys_deleted", count=forgotten)
