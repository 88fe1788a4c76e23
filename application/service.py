"""Command handling: load an incident from its stream, decide, append under concurrency control.

Every command of the process goes through one writer (``command_writer``), which
commits whatever is waiting in one transaction (``command_batches`` decides it).
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import structlog
from sqlalchemy import Connection

from application import idempotency
from application.command_batches import BatchDecision, PendingCommand, decide_batch
from application.command_writer import CommandWriter
from application.database_faults import classify
from application.idempotency import PURGE_INTERVAL, IdempotencyRequest
from application.outcomes import (
    ANY_VERSION,
    CommandContext,
    IfMatch,
    Outcome,
    PreconditionFailed,
)
from domain.commands import Command
from domain.events import decode
from domain.incident import Incident, fold
from domain.values import stream_id_for
from eventstore import AppendResult, ConcurrencyError, EventStore, RecordedEvent
from eventstore.engine import WRITE
from eventstore.sealed_text import open_sealed
from eventstore.selective_reads import read_streams_after
from eventstore.store import lock_log_for_append, read_stream_in
from projections.runner import ProjectionRunner

__all__ = [
    "ANY_VERSION",
    "CommandContext",
    "IfMatch",
    "IncidentService",
    "Outcome",
    "PreconditionFailed",
]

log = structlog.get_logger()


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
        on_committed: Callable[[list[RecordedEvent]], object] | None = None,
    ) -> None:
        self.on_appended = on_appended
        self.on_committed = on_committed
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
        self._writer: CommandWriter[PendingCommand] = CommandWriter(
            self._commit, lambda pending: pending.future
        )

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

    def load_many(self, incident_ids: Iterable[UUID]) -> dict[UUID, Incident]:
        """``load`` for several incidents with one read of the log."""
        with self.store.engine.connect() as conn:
            return self._load_all_in(conn, incident_ids)

    def _load_in(self, conn: Connection, incident_id: UUID) -> Incident:
        return self._load_all_in(conn, [incident_id])[incident_id]

    def _load_all_in(self, conn: Connection, incident_ids: Iterable[UUID]) -> dict[UUID, Incident]:
        """Several incidents' states with one read of the log for all of them."""
        streams = {stream_id_for(incident_id): incident_id for incident_id in incident_ids}
        with self._cache_lock:
            cached = {stream_id: self._cache.get(stream_id) for stream_id in streams}
        # Read from each cached state's newest event on (it must still be stored: a
        # database restored from an older backup would not hold it), else from the start.
        after = {stream_id: c[0].version - 1 if c else 0 for stream_id, c in cached.items()}
        found = read_streams_after(conn, after, as_stored=True)
        starts = {
            stream_id: self._start(conn, stream_id, cached[stream_id], found[stream_id])
            for stream_id in streams
        }
        # Only the events to fold have their text opened, all in one read of their keys:
        # the cached newest event was read to see it is still stored, and its text is in
        # the cached state already.
        opened = iter(open_sealed(conn, [r for _, recorded in starts.values() for r in recorded]))
        states = {}
        for stream_id, incident_id in streams.items():
            base, recorded = starts[stream_id]
            folding = [next(opened) for _ in recorded]
            states[incident_id] = self._fold(stream_id, cached[stream_id], base, folding)
        return states

    @staticmethod
    def _start(
        conn: Connection,
        stream_id: str,
        cached: tuple[Incident, UUID] | None,
        found: list[RecordedEvent],
    ) -> tuple[Incident, list[RecordedEvent]]:
        """The state to fold from and the events to fold into it."""
        if cached is None:
            return Incident(), found
        state, newest = cached
        if found and found[0].event_id == newest:
            return state, found[1:]
        # The cached prefix is not this database's: start over (opened with the rest).
        return Incident(), read_stream_in(conn, stream_id, as_stored=True)

    def _fold(
        self,
        stream_id: str,
        cached: tuple[Incident, UUID] | None,
        base: Incident,
        recorded: list[RecordedEvent],
    ) -> Incident:
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
        evolving state and appended together: all of them land, or none. Blocks until
        the writer has committed (or refused) them.
        """
        return self.submit(commands, context, if_match=if_match).result()

    async def execute_async(
        self,
        commands: Command | Sequence[Command],
        context: CommandContext | dict[str, Any],
        *,
        if_match: IfMatch | None = None,
    ) -> Outcome:
        """``execute`` for the event loop: awaits the writer without holding a thread."""
        return await asyncio.wrap_future(self.submit(commands, context, if_match=if_match))

    def submit(
        self,
        commands: Command | Sequence[Command],
        context: CommandContext | dict[str, Any],
        *,
        if_match: IfMatch | None = None,
    ) -> Future[Outcome]:
        """Hand the command(s) to the writer; the future holds the outcome or the refusal."""
        batch = [commands] if isinstance(commands, Command) else list(commands)
        ctx = context if isinstance(context, CommandContext) else CommandContext(context)
        if if_match is not None:
            ctx = replace(ctx, if_match=if_match)
        pending = PendingCommand(batch[0].incident_id, batch, ctx)
        self._writer.submit(pending)
        return pending.future

    def _commit(self, batch: list[PendingCommand]) -> None:
        """Commit ``batch`` in one transaction and answer each command.

        A transaction that fails on something one command caused (a constraint in a
        projection, say) is retried in halves until that command is alone and answered
        with its failure; the rest commit. A fault of the database fails the whole
        batch: none of it is stored, and every command hears of the fault.
        """
        failure: Exception | None = None
        for attempt in range(1, self.retries + 1):
            try:
                decision, results, appended = self._attempt(batch)
            except ConcurrencyError as exc:
                # Only a writer that bypasses the append lock can get here: decide again.
                failure = exc
                log.info("command.retry", size=len(batch), attempt=attempt)
                continue
            except Exception as exc:
                failure = exc
                break
            self._settle(batch, decision, results, appended)
            return
        assert failure is not None
        if len(batch) == 1 or classify(failure) is not None:
            for pending in batch:
                pending.future.set_exception(failure)
            return
        half = len(batch) // 2
        self._commit(batch[:half])
        self._commit(batch[half:])

    def _attempt(
        self, batch: list[PendingCommand]
    ) -> tuple[BatchDecision, list[AppendResult], list[RecordedEvent]]:
        # Read and decided while holding the append lock (SQLite: the write lock), so no
        # other writer can move a stream in between: commands never lose a race, and each
        # If-Match is checked against the state that is appended to.
        appended: list[RecordedEvent] = []
        with self.store.engine.connect().execution_options(**WRITE) as conn, conn.begin():
            lock_log_for_append(conn)
            states = self._load_all_in(conn, {pending.incident_id for pending in batch})
            decision = decide_batch(
                conn, batch, lambda _, incident_id: states[incident_id], self.now
            )
            if not decision.appends:
                return decision, [], appended
            results = self.store.append_batch_in(
                conn,
                decision.appends,
                in_transaction=lambda _, recorded: appended.extend(recorded),
                decided_under_lock=True,
            )
            if self.runner is not None:
                self.runner.apply_inline(conn, appended)
            for index, key_time in decision.key_times.items():
                key = batch[index].context.idempotency
                if key is not None:
                    result = decision.outcome(index, results)
                    if isinstance(result, Outcome):
                        self._remember_key(conn, key, result.result, key_time)
        return decision, results, appended

    def _settle(
        self,
        batch: list[PendingCommand],
        decision: BatchDecision,
        results: list[AppendResult],
        appended: list[RecordedEvent],
    ) -> None:
        """After the commit: cache the new states, then answer every waiter."""
        for stream_id, (state, made_by) in decision.states.items():
            if made_by is not None:
                self._remember(stream_id, state, decision.appends[made_by][1][-1].event_id)
        if appended and self.on_appended is not None:
            self.on_appended(len(appended))
        if appended and self.on_committed is not None:
            # Before the answers: whoever hears a command succeeded finds its follow-ups
            # (a publication's proof) done.
            self.on_committed(appended)
        for index, pending in enumerate(batch):
            answer = decision.outcome(index, results)
            if isinstance(answer, Outcome):
                pending.future.set_result(answer)
            else:
                pending.future.set_exception(answer)

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
