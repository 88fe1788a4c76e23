"""Append to and read from the log."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, TypedDict, Unpack

from sqlalchemy import Connection, Engine, Select, bindparam, func, select
from sqlalchemy.exc import IntegrityError

from eventstore.append_checks import check_new_events, original_result, violated_constraint
from eventstore.bulk_read import RAW_COLUMNS, read_events_after, recorded_events, stored_events
from eventstore.direct_append import append_directly
from eventstore.engine import WRITE
from eventstore.errors import ConcurrencyError
from eventstore.event_inserts import insert_events
from eventstore.records import AppendResult, NewEvent, RecordedEvent
from eventstore.schema import events
from eventstore.sealed_text import key_statements, seal_events

Append = tuple[str, Sequence[NewEvent], int | None]
"""One append of a batch: the stream, its new events, the version it expects (None: any)."""

InTransaction = Callable[[Connection, list[RecordedEvent]], None]
"""Work done inside the append transaction (inline projections), committed with the events."""

# Any 64-bit constant serves, as long as every writer of the log uses the same one.
APPEND_LOCK_KEY = 0x1_0C1D_E27


def lock_log_for_append(conn: Connection) -> None:
    """Serialise writers of the log for the rest of this transaction.

    Appends number their events after the log's last position and chain them after its
    last hash, both read under this lock: on PostgreSQL two transactions could otherwise
    read the same end and write the same position (one would fail), or, numbering apart,
    commit 10 and 11 in the opposite order, and a reader paging with ``position > last``
    would pass 10 for good. Holding one transaction-scoped advisory lock from before the
    end is read until commit makes positions become visible in position order, so a
    follower never skips an event. SQLite allows one writer at a time (BEGIN
    IMMEDIATE), which gives the same order without a lock.
    """
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({APPEND_LOCK_KEY})")


class StreamCuts(TypedDict, total=False):
    """Where ``read_stream`` starts and stops; ``read_stream_in`` gives the defaults."""

    after_version: int
    to_version: int | None
    to_position: int | None
    recorded_until: datetime | None


class EventStore:
    """The log: one ``events`` table, appended to under optimistic concurrency."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime] | None = None) -> None:
        self.engine = engine
        self._clock = clock or (lambda: datetime.now(UTC))

    # --- writing ----------------------------------------------------------------------

    def append(
        self,
        stream_id: str,
        new_events: Sequence[NewEvent],
        expected_version: int | None,
        *,
        in_transaction: InTransaction | None = None,
    ) -> AppendResult:
        """Append events at ``expected_version`` (None: whatever the version is).

        Re-sending events whose ids are stored already returns the original result and
        writes nothing; an id stored with other content (stream, type, schema version,
        data or occurred time) raises EventIdConflict. Metadata is not compared: a retry
        legitimately carries a new request id.
        """
        appends = [(stream_id, new_events, expected_version)]
        return self.append_batch(appends, in_transaction=in_transaction)[0]

    def append_batch(
        self, appends: Sequence[Append], *, in_transaction: InTransaction | None = None
    ) -> list[AppendResult]:
        """Several appends, ``(stream_id, events, expected_version)`` each, in one transaction.

        Each is checked as ``append`` checks it, in order, a later one seeing the streams
        as the earlier ones left them; all land, or none. One result per append.
        """
        try:
            stream_id, new_events, expected = appends[0]
            if in_transaction is None and len(appends) == 1 and expected is not None:
                check_new_events(new_events)
                direct = append_directly(
                    self.engine, stream_id, new_events, expected, self._clock, APPEND_LOCK_KEY
                )
                if direct is not None:
                    return [direct]
                # Not at the expected version: the checked path tells a retry of an
                # append that landed from a conflict.
            with self.engine.connect().execution_options(**WRITE) as conn, conn.begin():
                return self.append_batch_in(conn, appends, in_transaction=in_transaction)
        except IntegrityError as exc:
            # Only a writer that bypassed the append lock can race us to a version or an
            # event id; answer as the loser of that race would. Anything else (a broken
            # constraint in an inline projection, say) is not a race and surfaces as is.
            constraint = violated_constraint(exc)
            if constraint == "uq_events_event_id" and len(appends) == 1:
                stream_id, new_events, _ = appends[0]
                original = self._find_original(stream_id, new_events)
                if original is not None:
                    return [original]
            if constraint == "uq_events_stream_version":
                raise self._moved_stream(appends) from exc
            raise

    def append_in(
        self,
        conn: Connection,
        stream_id: str,
        new_events: Sequence[NewEvent],
        expected_version: int | None,
        *,
        in_transaction: InTransaction | None = None,
    ) -> AppendResult:
        """``append`` inside a transaction the caller owns (it must be a writing one)."""
        appends = [(stream_id, new_events, expected_version)]
        return self.append_batch_in(conn, appends, in_transaction=in_transaction)[0]

    def append_batch_in(
        self,
        conn: Connection,
        appends: Sequence[Append],
        *,
        in_transaction: InTransaction | None = None,
        decided_under_lock: bool = False,
    ) -> list[AppendResult]:
        """``append_batch`` inside a transaction the caller owns (a writing one).

        ``decided_under_lock``: the caller holds the append lock (lock_log_for_append),
        has read each stream to its end under it and minted the event ids itself, so each
        stream is at the expected version given and the ids are new; neither is looked up
        again. The unique constraints on (stream, version) and event id still back both.
        """
        if not appends:
            raise ValueError("append_batch needs at least one append")
        for _, new_events, _ in appends:
            check_new_events(new_events)
        if not decided_under_lock:
            lock_log_for_append(conn)
        reached: dict[str, int] = {}
        answers: list[AppendResult | None] = []
        pending: list[tuple[int, str, int, Sequence[NewEvent]]] = []
        for index, (stream_id, new_events, expected) in enumerate(appends):
            if decided_under_lock and expected is not None:
                current = expected
            else:
                current = reached.get(stream_id, -1)
                if current < 0:
                    current = _stream_version(conn, stream_id)
                if expected is None or current != expected:
                    # A retry of an append that landed finds its events stored (and, with
                    # an expected version, the stream moved on by them): answer as it was
                    # answered then. At the expected version this lookup is left out: ids
                    # stored elsewhere fail the insert on their unique constraint instead.
                    original = original_result(conn, stream_id, new_events)
                    if original is not None:
                        answers.append(original)
                        continue
                    if expected is not None:
                        raise ConcurrencyError(stream_id, expected, current)
            reached[stream_id] = current + len(new_events)
            pending.append((index, stream_id, current, new_events))
            answers.append(None)
        if pending:
            recorded = self._write(conn, pending, decided_under_lock)
            if in_transaction is not None:
                in_transaction(conn, recorded)
            offset = 0
            for index, stream_id, _, new_events in pending:
                mine = recorded[offset : offset + len(new_events)]
                offset += len(new_events)
                positions = tuple(r.position for r in mine)
                answers[index] = AppendResult(stream_id, mine[-1].version, positions)
        return [answer for answer in answers if answer is not None]

    def _write(
        self,
        conn: Connection,
        pending: Sequence[tuple[int, str, int, Sequence[NewEvent]]],
        decided_under_lock: bool,
    ) -> list[RecordedEvent]:
        """Write each stream's events after its version and wake the log's followers."""
        recorded_at = self._clock()
        given = [
            (stream_id, current + offset, event)
            for _, stream_id, current, new_events in pending
            for offset, event in enumerate(new_events, start=1)
        ]
        sealed = seal_events(self.engine, [(stream_id, event) for stream_id, _, event in given])
        rows = [
            (stream_id, version, stored)
            for (stream_id, version, _), stored in zip(given, sealed.events, strict=True)
        ]
        try:
            positions = insert_events(conn, rows, recorded_at)
        except IntegrityError as exc:
            if decided_under_lock and violated_constraint(exc) == "uq_events_stream_version":
                # Only a writer that bypassed the append lock can have taken the version.
                _, stream_id, current, _ = pending[0]
                raise ConcurrencyError(stream_id, current, current + 1) from exc
            raise
        for statement, values in key_statements(sealed, positions, recorded_at, conn.dialect.name):
            conn.exec_driver_sql(statement, values if len(values) > 1 else values[0])
        # Inline work reads the events as every reader does: with their text open.
        return [
            event.recorded(position, stream_id, version, recorded_at)
            for position, (stream_id, version, event) in zip(positions, given, strict=True)
        ]

    def _moved_stream(self, appends: Sequence[Append]) -> ConcurrencyError:
        """The conflict of the first append whose stream is no longer where it expected."""
        for stream_id, _, expected in appends:
            actual = self.stream_version(stream_id)
            if expected is not None and actual != expected:
                return ConcurrencyError(stream_id, expected, actual)
        stream_id, _, expected = appends[0]
        return ConcurrencyError(stream_id, expected or 0, self.stream_version(stream_id))

    def _find_original(self, stream_id: str, new_events: Sequence[NewEvent]) -> AppendResult | None:
        with self.engine.connect() as conn:
            return original_result(conn, stream_id, new_events)

    # --- reading ----------------------------------------------------------------------

    def read_stream(self, stream_id: str, **cuts: Unpack[StreamCuts]) -> list[RecordedEvent]:
        """One stream's events in version order, optionally cut at a version, position or time."""
        with self.engine.connect() as conn:
            return read_stream_in(conn, stream_id, **cuts)

    def read_all(self, after_position: int = 0, limit: int = 1000) -> list[RecordedEvent]:
        """The log in position order, after a position; never skips a committed event."""
        with self.engine.connect() as conn:
            return read_all_in(conn, after_position, limit)

    def stream_version(self, stream_id: str) -> int:
        """The current version of a stream (0 when it does not exist)."""
        with self.engine.connect() as conn:
            return _stream_version(conn, stream_id)

    def head_position(self) -> int:
        """The position of the newest event in the log (0 when empty)."""
        with self.engine.connect() as conn:
            return head_position_in(conn)


def read_stream_in(
    conn: Connection,
    stream_id: str,
    *,
    after_version: int = 0,
    to_version: int | None = None,
    to_position: int | None = None,
    recorded_until: datetime | None = None,
    as_stored: bool = False,
) -> list[RecordedEvent]:
    """``read_stream`` on a connection the caller owns; ``as_stored``: with sealed text
    left sealed, for the caller to open."""
    query = _stream_query(
        to_version is not None, to_position is not None, recorded_until is not None
    )
    params: dict[str, Any] = {"stream_id": stream_id, "after_version": after_version}
    if to_version is not None:
        params["to_version"] = to_version
    if to_position is not None:
        params["to_position"] = to_position
    if recorded_until is not None:
        params["recorded_until"] = recorded_until
    read = stored_events if as_stored else recorded_events
    return read(conn, conn.execute(query, params))


@lru_cache(maxsize=8)
def _stream_query(to_version: bool, to_position: bool, recorded_until: bool) -> Select[Any]:
    # Built once per combination of cuts: constructing a select costs more than running
    # it on SQLite, and every command reads its stream.
    query = (
        select(*RAW_COLUMNS)
        .select_from(events)
        .where(
            events.c.stream_id == bindparam("stream_id"),
            events.c.version > bindparam("after_version"),
        )
    )
    if to_version:
        query = query.where(events.c.version <= bindparam("to_version"))
    if to_position:
        query = query.where(events.c.position <= bindparam("to_position"))
    if recorded_until:
        query = query.where(events.c.recorded_at <= bindparam("recorded_until"))
    return query.order_by(events.c.version)


def read_all_in(conn: Connection, after_position: int, limit: int) -> list[RecordedEvent]:
    """``read_all`` on a connection the caller owns."""
    return read_events_after(conn, after_position, limit)


def head_position_in(conn: Connection) -> int:
    """``head_position`` on a connection the caller owns."""
    return int(conn.execute(select(func.coalesce(func.max(events.c.position), 0))).scalar_one())


_STREAM_VERSION = {
    # Driver SQL: every append asks it, and on SQLite compiling a select costs more
    # than running it.
    "sqlite": "SELECT coalesce(max(version), 0) FROM events WHERE stream_id = ?",
    "postgresql": "SELECT coalesce(max(version), 0) FROM events WHERE stream_id = %s",
}


def _stream_version(conn: Connection, stream_id: str) -> int:
    query = _STREAM_VERSION[conn.dialect.name]
    return int(conn.exec_driver_sql(query, (stream_id,)).scalar_one())


def stream_position_in(conn: Connection, stream_id: str) -> int:
    """The log position of a stream's newest event (0 when the stream does not exist)."""
    query = select(func.coalesce(func.max(events.c.position), 0)).where(
        events.c.stream_id == stream_id
    )
    return int(conn.execute(query).scalar_one())
