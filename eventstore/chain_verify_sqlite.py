"""The walk of eventstore/chain_verify.py over SQLite's stored columns, in one process or in
several, each over its own range of positions.

Each event is read with its stored hash (one query per batch, the driver's own cursor)
and its link checked: SHA-256 of the stored hash before it and its canonical
bytes must be its own stored hash. Until the first mismatch the recomputed chain and the
stored one are the same hashes, so checking each link on its own finds the same first
bad position as recomputing the chain from the genesis hash — and lets ranges of the log
be checked at once, each starting from the stored hash of the event before it.
"""

from __future__ import annotations

import multiprocessing
import sqlite3
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from hashlib import sha256
from itertools import pairwise
from pathlib import Path
from typing import Any

from eventstore.chain import GENESIS
from eventstore.chain_sqlite import ROWS_IN_RANGE, canonical_row
from eventstore.chain_verdict import UNCHAINED, UNREADABLE, Verdict

BATCH = 5000
PARALLEL_FROM = 100_000
"""Events below which a walk stays in one process: starting more costs more than it saves."""
_EVENT_BEFORE = (
    "SELECT position, chain_hash FROM events WHERE position <= ? ORDER BY position DESC LIMIT 1"
)
_HEAD = "SELECT max(position), count(*) FROM events"


def verify_sqlite(
    driver: Any,
    wanted: set[int],
    progress: Callable[[int], object] | None,
    processes: int,
) -> Verdict:
    """Walk the log of the SQLite connection ``driver`` with ``processes`` processes at
    most; the first bad position, as a single walk finds it."""
    head, count = driver.execute(_HEAD).fetchone()
    path = _file_of(driver)
    if processes > 1 and count >= PARALLEL_FROM and path is not None and path.is_file():
        return _in_processes(path.as_uri(), int(head), wanted, processes)
    return walk_range(driver, 0, sys.maxsize, GENESIS, 0, wanted, progress)


def _file_of(driver: Any) -> Path | None:
    """The file the connection has open, as SQLite names it (absolute); None in memory."""
    for _, name, file in driver.execute("PRAGMA database_list").fetchall():
        if name == "main":
            return Path(file) if file else None
    return None


def walk_range(
    driver: Any,
    after: int,
    last: int,
    previous: bytes,
    previous_position: int,
    wanted: set[int],
    progress: Callable[[int], object] | None = None,
) -> Verdict:
    """Check every link of the events after ``after`` up to ``last``, ``previous`` the
    stored hash of the event before them, at ``previous_position`` (0: none)."""
    verdict = Verdict()
    # The verdict is kept in locals until a batch ends: this loop runs once per event.
    while rows := driver.execute(ROWS_IN_RANGE, (after, last, BATCH)).fetchall():
        for count, row in enumerate(rows):
            position = row[0]
            stored = row[10]
            if stored is None:
                return _walked(verdict, rows, count, previous).bad(position, UNCHAINED)
            try:
                canonical = canonical_row(row)
            except (ValueError, TypeError):  # orjson's decode error is a ValueError
                return _walked(verdict, rows, count, previous).bad(position, UNREADABLE)
            link = sha256(previous + canonical).digest()
            if link.hex() != stored:
                return _walked(verdict, rows, count, previous).broken(position, previous_position)
            previous, previous_position = link, position
            if position in wanted:
                verdict.at[position] = link
        _walked(verdict, rows, len(rows), previous)
        after = rows[-1][0]
        if progress is not None:
            progress(after)
    return verdict


def _walked(verdict: Verdict, rows: list[Any], count: int, head: bytes) -> Verdict:
    """``verdict`` after the first ``count`` of ``rows`` matched, ``head`` the last's hash."""
    if count:
        verdict.events += count
        verdict.head_position = rows[count - 1][0]
        verdict.head_hash = head
    return verdict


def _in_processes(uri: str, head: int, wanted: set[int], processes: int) -> Verdict:
    bounds = [head * part // processes for part in range(processes + 1)]
    ranges = list(pairwise(bounds))
    # Fork: the children need nothing but this module, and start in milliseconds. Each
    # opens the file read-only on its own; nothing of the parent's connections is used.
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(len(ranges), mp_context=context) as pool:
        parts = pool.map(_range_in_child, [(uri, a, b, wanted) for a, b in ranges])
        verdict = Verdict()
        for part in parts:
            verdict.then(part)
            if not verdict.ok:
                break
    return verdict


def _range_in_child(task: tuple[str, int, int, set[int]]) -> Verdict:
    uri, after, last, wanted = task
    connection = sqlite3.connect(f"{uri}?mode=ro", uri=True)
    try:
        found = connection.execute(_EVENT_BEFORE, (after,)).fetchone() if after > 0 else None
        # An unchained event before the range: the range before finds it first.
        if found is None or found[1] is None:
            previous, previous_position = GENESIS, 0 if found is None else int(found[0])
        else:
            previous, previous_position = bytes.fromhex(found[1]), int(found[0])
        return walk_range(connection, after, last, previous, previous_position, wanted)
    finally:
        connection.close()
