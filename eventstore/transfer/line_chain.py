"""The hash chain over a log file's event lines: the same bytes and hashes as
``eventstore.chain`` gives the events they become, computed from the checked line itself.

Building each line's RecordedEvent (a UUID, two datetimes) only to write them out again
would cost more than the hashing; the line already holds every field in the text the
chain wants, but for the times' ``+00:00``, which the chain spells ``Z``.
"""

from __future__ import annotations

import struct
from hashlib import sha256

from eventstore.chain import GENESIS
from eventstore.transfer.event_lines import EventRow

GENESIS_HEX = GENESIS.hex()
"""The chain hash of an empty log, as a file writes it."""

_LENGTH = struct.Struct(">I").pack


def row_bytes(row: EventRow) -> bytes:
    """``chain.canonical_bytes`` of the event ``row`` holds (its data and metadata already
    canonical JSON, its times ``...+00:00`` of exactly 32 characters)."""
    # Written out rather than looped: this runs once per event of an import.
    p = _LENGTH
    position = str(row.position).encode()
    stream = row.stream_id.encode()
    version = str(row.version).encode()
    event_id = row.event_id.encode()
    kind = row.type.encode()
    schema = str(row.schema_version).encode()
    data = row.data.encode()
    metadata = row.metadata.encode()
    occurred = f"{row.occurred_at[:26]}Z".encode()
    recorded = f"{row.recorded_at[:26]}Z".encode()
    return b"".join(
        (
            p(len(position)), position,
            p(len(stream)), stream,
            p(len(version)), version,
            p(len(event_id)), event_id,
            p(len(kind)), kind,
            p(len(schema)), schema,
            p(len(data)), data,
            p(len(metadata)), metadata,
            p(len(occurred)), occurred,
            p(len(recorded)), recorded,
        )
    )  # fmt: skip


def link_row(previous: bytes, row: EventRow) -> bytes:
    """The chain hash of ``row``'s event after ``previous``, the hash of the event before it."""
    return sha256(previous + row_bytes(row)).digest()
