"""One append in a transaction of its own, straight on the driver connection.

``EventStore.append`` without inline work needs nothing of SQLAlchemy's connection
machinery (events, result objects, transaction objects), which costs several times the
statements themselves on SQLite. Here the pooled driver connection is used directly:
on SQLite ``BEGIN IMMEDIATE`` in the writer queue's turn, the insert, the text keys and
chain rows, ``COMMIT``; on PostgreSQL the advisory lock, the insert, the notification
and the read of the chain's end in one pipelined round trip, then the text keys, the
chain rows and ``COMMIT`` in a second.

The insert itself checks the expected version: it writes only if the stream's event at
that version exists (a stream behind it would otherwise get a gap), and the unique
constraint on (stream, version) refuses a stream that moved past it (and the one on
event ids a retry). Either way nothing is written, and the caller takes the checked
path, which tells a retry of an append that landed (its original result) from a conflict.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from eventstore.chain import GENESIS, ChainEnd, new_links
from eventstore.event_inserts import postgres_values, sqlite_values
from eventstore.notify import CHANNEL
from eventstore.records import AppendResult, NewEvent
from eventstore.sealed_text import SealedBatch, key_statements, seal_events
from eventstore.sqlite_writers import writer_queue_of

_COLUMNS = (
    "stream_id, version, type, schema_version, data, metadata, event_id, occurred_at, recorded_at"
)
_SQLITE_AFTER = (
    f"INSERT INTO events ({_COLUMNS}) SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?"  # noqa: S608 - constant
    " WHERE EXISTS (SELECT 1 FROM events WHERE stream_id = ? AND version = ?)"
)
_SQLITE_FIRST = f"INSERT INTO events ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"  # noqa: S608
_NOTIFY = f"SELECT pg_notify('{CHANNEL}', (SELECT max(position) FROM events)::text)"  # noqa: S608
_POSTGRES_ROW = "(%s, %s, %s, %s, %s::jsonb, %s::jsonb, %s, %s::timestamptz, %s::timestamptz)"
_ends: weakref.WeakKeyDictionary[Engine, ChainEnd] = weakref.WeakKeyDictionary()
_LAST_LINK = "SELECT chain_hash FROM event_chain ORDER BY position DESC LIMIT 1"
_SQLITE_LINK = "INSERT INTO event_chain (position, chain_hash) VALUES (?, ?)"
_POSTGRES_LINK = "INSERT INTO event_chain (position, chain_hash) VALUES (%s, %s)"


def _previous(engine: Engine, driver: Any, first_position: int) -> bytes:
    """The chain's hash before ``first_position``: this process's last commit when that is
    the event right before, else read (under the append lock the caller holds)."""
    known = _end_of(engine).before(first_position)
    if known is not None:
        return known
    row = driver.execute(_LAST_LINK).fetchone()
    return GENESIS if row is None else bytes.fromhex(row[0])


def _committed(engine: Engine, chained: list[tuple[int, str]]) -> None:
    if chained:
        position, digest = chained[-1]
        _end_of(engine).committed(position, bytes.fromhex(digest))


def _end_of(engine: Engine) -> ChainEnd:
    end = _ends.get(engine)
    if end is None:
        end = _ends[engine] = ChainEnd()
    return end


def _chained(
    previous: bytes,
    rows: list[tuple[str, int, NewEvent]],
    positions: list[int],
    recorded_at: datetime,
) -> list[tuple[int, str]]:
    """The chain rows of the events just inserted at ``positions``, after ``previous``."""
    written = [
        (position, stream_id, version, event)
        for position, (stream_id, version, event) in zip(positions, rows, strict=True)
    ]
    return [
        (position, digest.hex()) for position, digest in new_links(previous, written, recorded_at)
    ]


def append_directly(
    engine: Engine,
    stream_id: str,
    new_events: Sequence[NewEvent],
    expected_version: int,
    clock: Callable[[], datetime],
    lock_key: int,
) -> AppendResult | None:
    """Append at ``expected_version`` and commit; None when the stream is not there."""
    sealed = seal_events(engine, [(stream_id, event) for event in new_events])
    rows = [
        (stream_id, expected_version + offset, event)
        for offset, event in enumerate(sealed.events, start=1)
    ]
    raw = engine.raw_connection()
    try:
        dbapi = engine.dialect.loaded_dbapi
        try:
            if engine.dialect.name == "postgresql":
                positions = _postgres(
                    engine, raw.driver_connection, rows, sealed, expected_version, clock, lock_key
                )
            else:
                positions = _sqlite(
                    engine, raw.driver_connection, rows, sealed, expected_version, clock
                )
        except dbapi.IntegrityError:
            return None  # the stream moved past it, or these ids are stored: look closer
        except dbapi.Error as exc:
            raise DBAPIError.instance(
                "INSERT INTO events",
                None,
                exc,
                dbapi.Error,
                hide_parameters=True,
                dialect=engine.dialect,
            ) from exc
    finally:
        raw.close()
    if positions is None:
        return None
    return AppendResult(stream_id, rows[-1][1], tuple(positions))


def _sqlite(
    engine: Engine,
    driver: Any,
    rows: list[tuple[str, int, NewEvent]],
    sealed: SealedBatch,
    expected: int,
    clock: Callable[[], datetime],
) -> list[int] | None:
    queue = writer_queue_of(engine)
    turn = queue.acquire() if queue is not None else False
    try:
        driver.execute("BEGIN IMMEDIATE")
        try:
            recorded_at = clock()
            values = [sqlite_values((s, v, e, recorded_at)) for s, v, e in rows]
            if expected > 0:
                after = (rows[0][0], expected)
                values = [(*v, *after) for v in values]
            statement = _SQLITE_AFTER if expected > 0 else _SQLITE_FIRST
            if len(values) == 1:
                cursor = driver.execute(statement, values[0])
            else:
                cursor = driver.executemany(statement, values)
            if cursor.rowcount != len(rows):
                driver.execute("ROLLBACK")
                return None
            if len(values) == 1:
                last = int(cursor.lastrowid)
            else:
                last = int(driver.execute("SELECT last_insert_rowid()").fetchone()[0])
            positions = list(range(last - len(rows) + 1, last + 1))
            for statement, keys in key_statements(sealed, positions, recorded_at, "sqlite"):
                driver.executemany(statement, keys)
            previous = _previous(engine, driver, positions[0])
            chained = _chained(previous, rows, positions, recorded_at)
            driver.executemany(_SQLITE_LINK, chained)
            driver.execute("COMMIT")
            _committed(engine, chained)
        except BaseException:
            if driver.in_transaction:
                driver.execute("ROLLBACK")
            raise
    finally:
        if turn and queue is not None:
            queue.release()
    return positions


def _postgres(
    engine: Engine,
    driver: Any,
    rows: list[tuple[str, int, NewEvent]],
    sealed: SealedBatch,
    expected: int,
    clock: Callable[[], datetime],
    lock_key: int,
) -> list[int] | None:
    recorded_at = clock()
    values = [value for s, v, e in rows for value in postgres_values((s, v, e, recorded_at))]
    insert = (
        f"INSERT INTO events ({_COLUMNS}) SELECT * FROM (VALUES "  # noqa: S608 - constant
        + ", ".join([_POSTGRES_ROW] * len(rows))
        + ") AS new_events"
    )
    if expected > 0:
        insert += " WHERE EXISTS (SELECT 1 FROM events WHERE stream_id = %s AND version = %s)"
        values += [rows[0][0], expected]
    try:
        # Two round trips, each a pipeline whose statements go out together and whose
        # answers come back when it ends. The first takes the lock before the insert
        # draws its positions (see lock_log_for_append) and reads the chain's end under
        # it; the notification goes out at commit. The second writes the keys and the
        # chain rows and commits.
        with driver.cursor() as lock, driver.cursor() as cursor, driver.cursor() as end:
            with driver.pipeline():
                lock.execute(f"SELECT pg_advisory_xact_lock({int(lock_key)})")
                cursor.execute(insert + " RETURNING position", values)
                lock.execute(_NOTIFY)
                end.execute(_LAST_LINK)  # the insert wrote no chain row: the end before it
            positions = sorted(int(row[0]) for row in cursor.fetchall())
            previous_row = end.fetchone()
        if len(positions) != len(rows):
            driver.rollback()
            return None
        previous = GENESIS if previous_row is None else bytes.fromhex(previous_row[0])
        chained = _chained(previous, rows, positions, recorded_at)
        with driver.cursor() as cursor, driver.pipeline():
            for statement, keys in key_statements(sealed, positions, recorded_at, "postgresql"):
                cursor.executemany(statement, keys)
            cursor.executemany(_POSTGRES_LINK, chained)
            # Not driver.commit(), which waits for its answer before the pipeline ends.
            cursor.execute("COMMIT")
    except BaseException:
        driver.rollback()
        raise
    return positions
