"""One append in a transaction of its own, straight on the driver connection.

``EventStore.append`` without inline work needs nothing of SQLAlchemy's connection
machinery (events, result objects, transaction objects), which costs several times the
statements themselves on SQLite. Here the pooled driver connection is used directly:
on SQLite ``BEGIN IMMEDIATE`` in the writer queue's turn, the read of the log's end,
the insert of the events numbered and chained after it, the text keys, ``COMMIT``; on
PostgreSQL the advisory lock, the read of the log's end with the notification, and the
check of the expected version in one pipelined round trip, then the insert, the text
keys and ``COMMIT`` in a second.

The expected version is checked under the lock: the stream's event at that version must
exist (a stream behind it would otherwise get a gap), and the unique constraint on
(stream, version) refuses a stream that moved past it (and the one on event ids a
retry). Either way nothing is written, and the caller takes the checked path, which
tells a retry of an append that landed (its original result) from a conflict.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from eventstore.chain import LOG_END, LOG_END_AND_NOTIFY
from eventstore.event_inserts import (
    INSERT_INTO_EVENTS,
    SQLITE_INSERT,
    numbered,
    postgres_inserts,
)
from eventstore.records import AppendResult, NewEvent
from eventstore.sealed_text import SealedBatch, key_statements, seal_events
from eventstore.sqlite_writers import writer_queue_of

_SQLITE_AFTER = (
    INSERT_INTO_EVENTS + " SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"  # noqa: S608 - constant
    " WHERE EXISTS (SELECT 1 FROM events WHERE stream_id = ? AND version = ?)"
)
_POSTGRES_AT = "SELECT 1 FROM events WHERE stream_id = %s AND version = %s"


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
            values = numbered(driver.execute(LOG_END).fetchone(), rows, recorded_at, "sqlite")
            positions = [row[0] for row in values]
            if expected > 0:
                after = (rows[0][0], expected)
                values = [(*v, *after) for v in values]
            statement = _SQLITE_AFTER if expected > 0 else SQLITE_INSERT
            if len(values) == 1:
                cursor = driver.execute(statement, values[0])
            else:
                cursor = driver.executemany(statement, values)
            if cursor.rowcount != len(rows):
                driver.execute("ROLLBACK")
                return None
            for statement, keys in key_statements(sealed, positions, recorded_at, "sqlite"):
                driver.executemany(statement, keys)
            driver.execute("COMMIT")
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
    try:
        # Two round trips, each a pipeline whose statements go out together and whose
        # answers come back when it ends. The first takes the lock (see
        # lock_log_for_append), reads the log's end under it (queuing the notification,
        # sent at commit) and checks the expected version; the second inserts the events
        # numbered and chained after that end, writes the keys and commits.
        with driver.cursor() as lock, driver.cursor() as end, driver.cursor() as at:
            with driver.pipeline():
                lock.execute(f"SELECT pg_advisory_xact_lock({int(lock_key)})")
                end.execute(LOG_END_AND_NOTIFY, (len(rows),))
                if expected > 0:
                    at.execute(_POSTGRES_AT, (rows[0][0], expected))
            recorded_at = clock()
            new = numbered(end.fetchone(), rows, recorded_at, "postgresql")
            if expected > 0 and at.fetchone() is None:
                driver.rollback()
                return None
        positions = [row[0] for row in new]
        with driver.cursor() as cursor, driver.pipeline():
            for statement, values in postgres_inserts(new):
                cursor.execute(statement, values)
            for statement, keys in key_statements(sealed, positions, recorded_at, "postgresql"):
                cursor.executemany(statement, keys)
            # Not driver.commit(), which waits for its answer before the pipeline ends.
            cursor.execute("COMMIT")
    except BaseException:
        driver.rollback()
        raise
    return positions
