"""Checking an export file on its own, without a database: every line, the trailer's count and
digest, and the hash chain recomputed from the genesis hash over every event line.

What it cannot do is tell who wrote the file: a chain that holds together only shows the
file is one log's consistent history. The trailer's signed checkpoint, checked with the
service's public key by the caller (``incidents verify-export``, which has the key
handling), ties that history to the service; checkpoints kept elsewhere are held to the
hashes noted here at their positions.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from eventstore.chain import GENESIS
from eventstore.transfer.format import LogFileError
from eventstore.transfer.reader import LogFileReader
from eventstore.transfer.trailer import SignedHead


class UnchainedFile(LogFileError):
    """A format version 1 file: it has no chain hashes or checkpoint to verify."""


@dataclass(frozen=True, slots=True)
class FileVerdict:
    """An intact, chained file: its size, its head, and the head's signed checkpoint if any."""

    events: int
    head_position: int
    head_hash: str
    checkpoint: SignedHead | None
    at: dict[int, str] = field(default_factory=dict)
    """The recomputed chain hash at each position asked for that the file holds."""


def open_log_file(lines: Iterable[bytes]) -> LogFileReader:
    """The file, its header read; LogFileError when it is not a log file this release reads."""
    return LogFileReader(lines)


def verify_log_file(reader: LogFileReader, positions: Collection[int] = ()) -> FileVerdict:
    """Read every line of ``reader``'s file; LogFileError naming the first bad line (or the
    trailer) otherwise. ``positions``: where to note the recomputed hash (checkpoints')."""
    if not reader.header.chained:
        raise UnchainedFile(
            f"the file is format version {reader.header.format_version}: it carries no chain"
            " hashes or signed checkpoint to verify (export it again with this release)"
        )
    wanted = set(positions)
    at = {0: GENESIS.hex()} if 0 in wanted else {}
    # The reader recomputes each event's hash from the line and refuses the first line
    # whose own chain_hash differs, so the hash it yields is the one the chain gives.
    for event in reader.events():
        if event.position in wanted:
            at[event.position] = event.chain_hash
    assert reader.trailer is not None  # events() raises unless it read a matching trailer
    return FileVerdict(
        events=reader.events_read,
        head_position=reader.header.head_position,
        head_hash=reader.head_hash.hex(),
        checkpoint=reader.trailer.checkpoint,
        at=at,
    )
