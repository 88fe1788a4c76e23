"""Import a log file into an empty database: all or nothing, verified before it commits."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, select

from eventstore.engine import WRITE
from eventstore.schema import events
from eventstore.store import head_position_in, lock_log_for_append
from eventstore.transfer.bulk_insert import bulk_writer
from eventstore.transfer.event_lines import EventRow
from eventstore.transfer.reader import LogFileReader
from eventstore.transfer.text_keys import store_key_records
from eventstore.transfer.trailer import SignedHead

BATCH_SIZE = 5000

Progress = Callable[[int, int], None]
"""Called with the position loaded so far and the head position of the file."""

AcceptHead = Callable[[SignedHead | None], None]
"""Called with the file's signed checkpoint (None when it carries none) once every line
has checked out, before the commit: raising LogFileError refuses the whole import."""


class DatabaseNotEmpty(Exception):
    """The target already holds events; an import never merges two logs."""


@dataclass(frozen=True, slots=True)
class ImportResult:
    events: int
    head_position: int
    sha256: str
    source_backend: str
    chain_hash: str
    """The head's chain hash, as stored with its event."""
    chain_checked: bool
    """Whether the file carried the chain (format version 2) and every hash matched; a
    version 1 file's chain is computed instead."""
    checkpoint: SignedHead | None
    """The trailer's signed checkpoint of the head, as the file carried it."""


def import_log(
    engine: Engine,
    lines: Iterable[bytes],
    *,
    known_types: Mapping[str, int] | None = None,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
    accept_head: AcceptHead | None = None,
) -> ImportResult:
    """Load every event of a log file, positions, ids and times included, in one transaction.

    The file is checked line by line while it loads, every event's chain hash included
    (recomputed in the same pass, compared with the line's in a version 2 file, and
    stored with the event), and its trailer (count, SHA-256, chain head) before the
    commit, so a bad file raises LogFileError and leaves the database as it was. ``known_types`` (type -> newest schema version) refuses events this release
    could not read. ``accept_head`` may refuse the file's signed head (a signature check).
    Raises DatabaseNotEmpty when the log has any event, and
    BulkInsertRefused when the database refuses a row (a duplicate event id, say).
    """
    reader = LogFileReader(lines, known_types=known_types)
    head = reader.header.head_position
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        # Held to the commit: no append can slip in between the check and the load.
        lock_log_for_append(conn)
        _refuse_unless_empty(conn)
        if progress is not None:
            progress(0, head)
        _load(conn, reader, head, progress, batch_size)
        store_key_records(conn, reader.key_records, reader.key_positions())
        assert reader.trailer is not None  # events() raises unless it read a matching trailer
        if accept_head is not None:
            accept_head(reader.trailer.checkpoint)
        if progress is not None:
            progress(head, head)
    return ImportResult(
        reader.events_read,
        head,
        reader.trailer.sha256,
        reader.header.source_backend,
        reader.head_hash.hex(),
        reader.header.chained,
        reader.trailer.checkpoint,
    )


def _load(
    conn: Connection,
    reader: LogFileReader,
    head: int,
    progress: Progress | None,
    batch_size: int,
) -> None:
    """The file's events and their chain hashes into the log, ``batch_size`` rows per insert."""
    batch: list[EventRow] = []
    with bulk_writer(conn) as write:
        for event in reader.events():
            batch.append(event)
            if len(batch) < batch_size:
                continue
            write(batch)
            batch = []
            if progress is not None:
                progress(event.position, head)
        if batch:
            write(batch)


def _refuse_unless_empty(conn: Connection) -> None:
    if conn.execute(select(events.c.position).limit(1)).first() is not None:
        raise DatabaseNotEmpty(
            f"the database already holds events (head position {head_position_in(conn)});"
            " import loads into an empty database only: create and migrate a new one"
        )
