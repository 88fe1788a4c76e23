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
from eventstore.transfer.format import Header, header_line
from eventstore.transfer.line_chain import GENESIS_HEX
from eventstore.transfer.pages import read_export_lines
from eventstore.transfer.text_keys import key_lines
from eventstore.transfer.trailer import SignedHead, Trailer, trailer_line

BATCH_SIZE = 5000

Progress = Callable[[int, int], None]
"""Called with the position written so far and the head position being exported to."""

SignHead = Callable[[int, str], SignedHead]
"""Signs the exported head: its position and chain hash (hex) -> a signed checkpoint. The
caller brings the key (application/log_checkpoints.py); the store never holds it."""


class BinaryWriter(Protocol):
    def write(self, data: bytes, /) -> object: ...


@dataclass(frozen=True, slots=True)
class ExportResult:
    events: int
    head_position: int
    sha256: str
    chain_hash: str
    checkpoint: SignedHead | None


def export_log(
    engine: Engine,
    out: BinaryWriter,
    *,
    sign: SignHead | None = None,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
) -> ExportResult:
    """Write header, every event in position order with its chain hash, the keys of its
    sealed text (eventstore/transfer/text_keys.py), and trailer (the head's chain hash,
    signed with ``sign`` when given); memory stays one batch.

    Raises UnchainedEvent when an event has no chain hash.
    """
    with _snapshot(engine) as conn:
        head = head_position_in(conn)
        out.write(header_line(Header(engine.dialect.name, datetime.now(UTC), head)))
        if progress is not None:
            progress(0, head)
        digest = hashlib.sha256()
        count = 0
        position = 0
        chain_hash = GENESIS_HEX
        # Keyset pages over the primary key: each page is an index range scan, whatever
        # the size of the log, and the snapshot keeps pages consistent with each other.
        while page := read_export_lines(conn, position, batch_size):
            chunk = b"".join(page.lines)
            digest.update(chunk)
            out.write(chunk)
            count += len(page.lines)
            position, chain_hash = page.position, page.chain_hash
            if progress is not None:
                progress(position, head)
        # The keys of the sealed text still readable, and the erasures, from the same
        # snapshot: a note erased after the export began keeps its key in this file.
        for line in key_lines(conn):
            digest.update(line)
            out.write(line)
        checkpoint = sign(head, chain_hash) if sign is not None else None
        out.write(trailer_line(Trailer(count, digest.hexdigest(), chain_hash, checkpoint)))
    return ExportResult(count, head, digest.hexdigest(), chain_hash, checkpoint)


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
