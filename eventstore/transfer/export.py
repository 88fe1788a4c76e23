"""Export the whole log as a log file (eventstore/transfer/format.py), streamed from one snapshot."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy import Connection, Engine

from eventstore.store import head_position_in
from eventstore.transfer.format import Header, Trailer, header_line, trailer_line
from eventstore.transfer.pages import read_export_lines

BATCH_SIZE = 5000

Progress = Callable[[int, int], None]
"""Called with the position written so far and the head position being exported to."""


class BinaryWriter(Protocol):
    def write(self, data: bytes, /) -> object: ...


@dataclass(frozen=True, slots=True)
class ExportResult:
    events: int
    head_position: int
    sha256: str


def export_log(
    engine: Engine,
    out: BinaryWriter,
    *,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
) -> ExportResult:
    """Write header, every event in position order, and trailer; memory stays one batch."""
    with _snapshot(engine) as conn:
        head = head_position_in(conn)
        out.write(header_line(Header(engine.dialect.name, datetime.now(UTC), head)))
        if progress is not None:
            progress(0, head)
        digest = hashlib.sha256()
        count = 0
        position = 0
        # Keyset pages over the primary key: each page is an index range scan, whatever
        # the size of the log, and the snapshot keeps pages consistent with each other.
        while True:
            lines, reached = read_export_lines(conn, position, batch_size)
            if not lines:
                break
            chunk = b"".join(lines)
            digest.update(chunk)
            out.write(chunk)
            count += len(lines)
            position = reached
            if progress is not None:
                progress(position, head)
        out.write(trailer_line(Trailer(count, digest.hexdigest())))
    return ExportResult(count, head, digest.hexdigest())


@contextmanager
def _snapshot(engine: Engine) -> Iterator[Connection]:
    """One read transaction that sees the log as it was when the export began.

    PostgreSQL: REPEATABLE READ, read only; appends go on and stay invisible to it.
    SQLite in WAL mode: a read transaction keeps its snapshot and never blocks the
    writer (the WAL only cannot be checkpointed past it until it ends).
    """
    options = (
        {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
        if engine.dialect.name == "postgresql"
        else {}
    )
    with engine.connect().execution_options(**options) as conn, conn.begin():
        yield conn
