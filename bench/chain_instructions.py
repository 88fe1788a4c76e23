"""What the hash chain and sealed text cost a single append on SQLite, in CPU instructions:
a count that the machine's other work and the disk's moods do not move, beside the
timings of bench/chain.py, whose runs spread wider than the costs they measure.

Each variant of bench/chain.py (``plain``, ``chain``, ``chain_and_sealing``), and
``chain_and_key_rows`` (the chain, and a key row of the real size written for each event
sealing would seal, but nothing sealed: what the keys' writes cost apart from the
encryption and the larger events), runs in its own process under
``valgrind --tool=callgrind``: the same generated events, 500 appends to warm up, then
``--appends`` more, and again with twice as many. The difference between the two counts,
divided by ``--appends``, is what one more append costs in instructions, with the
interpreter's start, the imports and the warm-up taken out. Python's hashing is seeded
alike in every child; event ids and keys are still random, so counts differ a little
from run to run. Callgrind counts instructions, not time: a write that waits for the
disk costs few of them, so the database's own writes are under-counted here and
measured by bench/chain.py instead.

With ``--group``, the appends are bench/chain.py's group commits instead: 8 threads adding
notes through the service's command writer, ``WARMUP_NOTES`` each to warm up, then
``--notes`` more each and again twice as many; the difference, divided by the notes it
adds, is what one more note costs. Callgrind runs one thread at a time, so commits
may carry other numbers of notes than they do outside it.

.venv/bin/python -m bench.chain_instructions                  # about 5 minutes on 2 cores
.venv/bin/python -m bench.chain_instructions --appends 500
.venv/bin/python -m bench.chain_instructions --group --notes 100
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import eventstore.direct_append as direct
import eventstore.store as store_module
from application.bootstrap import build
from application.settings import Settings
from bench.appends import history, new_event
from bench.chain import CHAIN_LEFT_OUT, SEALING_LEFT_OUT, WRITERS, left_out
from bench.common import engine_for, fresh_database, record
from bench.service_writers import timed_writers
from domain.erasable_text import SEALED_FIELDS, sealing_scope
from eventstore.records import NewEvent
from eventstore.sealed_text import KeyRow, SealedBatch, TextVault
from eventstore.store import EventStore

WARMUP = 500
WARMUP_NOTES = 25
"""Notes each writer adds before the measured ones, in group mode."""
VARIANTS = ("plain", "chain", "chain_and_key_rows", "chain_and_sealing")
_COLLECTED = re.compile(r"Collected : (\d+)")


WRAPPED_KEY_SIZE = len(TextVault(bytes(32)).wrap(bytes(32), "size"))
"""The size of a stored (wrapped) data key, as sealing writes it."""


def _key_rows_only(_engine: Any, rows: Sequence[tuple[str, NewEvent]]) -> SealedBatch:
    """What sealing writes to the database (a key row of the real size for each event that
    would be sealed) without sealing anything: the events stay in clear."""
    keys = [
        (index, KeyRow(event.event_id.hex, scope, bytes(WRAPPED_KEY_SIZE)))
        for index, (stream_id, event) in enumerate(rows)
        if SEALED_FIELDS.get(event.type)
        and (scope := sealing_scope(stream_id, event.type, event.data)) is not None
    ]
    return SealedBatch([event for _, event in rows], keys, [])


KEY_ROWS_ONLY: dict[tuple[Any, str], Any] = {
    (store_module, "seal_events"): _key_rows_only,
    (direct, "seal_events"): _key_rows_only,
}

SIDES: dict[str, Any] = {
    "plain": lambda: left_out({**CHAIN_LEFT_OUT, **SEALING_LEFT_OUT}),
    "chain": lambda: left_out(SEALING_LEFT_OUT),
    "chain_and_key_rows": lambda: left_out(KEY_ROWS_ONLY),
    "chain_and_sealing": nullcontext,
}


def group_commits_in_child(variant: str, count: int) -> None:
    """``WRITERS`` threads adding ``WARMUP_NOTES`` then ``count`` notes each through the
    service's command writer on a fresh SQLite file, as ``variant``."""
    with tempfile.TemporaryDirectory() as tmp, fresh_database("sqlite", Path(tmp)) as url:
        settings = Settings(database_url=url, projection_mode="worker", log_level="WARNING")
        runtime = build(settings)
        try:
            with SIDES[variant]():
                timed_writers(runtime.service, WRITERS, WARMUP_NOTES)
                timed_writers(runtime.service, WRITERS, count)
        finally:
            runtime.close()


def appends_in_child(variant: str, count: int, most: int) -> None:
    """``WARMUP + count`` single appends of ``variant`` on a fresh SQLite file, the events
    the first of ``WARMUP + most`` generated ones (the same for every count)."""
    batch = history(WARMUP + most, seed=5)[: WARMUP + count]
    with tempfile.TemporaryDirectory() as tmp, fresh_database("sqlite", Path(tmp)) as url:
        engine = engine_for(url)
        store = EventStore(engine)
        with SIDES[variant]():
            for row in batch:
                store.append(row["stream_id"], [new_event(row)], row["version"] - 1)
        engine.dispose()


def instructions(variant: str, count: int, most: int, workdir: Path, *, group: bool) -> int:
    """Instructions callgrind counts in a child making ``count`` measured appends (group
    commit: ``count`` notes per writer)."""
    out = workdir / f"{variant}-{count}.callgrind"
    child = (
        ["--group-child", variant, str(count)]
        if group
        else ["--child", variant, str(count), str(most)]
    )
    done = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={out}",
            sys.executable,
            "-m",
            "bench.chain_instructions",
            *child,
        ],
        capture_output=True,
        text=True,
        check=True,
        env={
            **os.environ,
            "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
            "PYTHONHASHSEED": "0",
        },
    )
    found = _COLLECTED.search(done.stderr)
    if found is None:
        raise RuntimeError(f"callgrind printed no count: {done.stderr[-500:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--appends", type=int, default=2000)
    parser.add_argument("--group", action="store_true", help="group commits of notes instead")
    parser.add_argument("--notes", type=int, default=100, help="notes per writer (--group)")
    parser.add_argument("--child", nargs=3, metavar=("VARIANT", "COUNT", "MOST"))
    parser.add_argument("--group-child", nargs=2, metavar=("VARIANT", "COUNT"))
    args = parser.parse_args()
    if args.child:
        variant, count, most = args.child
        appends_in_child(variant, int(count), int(most))
        return
    if args.group_child:
        variant, count = args.group_child
        group_commits_in_child(variant, int(count))
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian package valgrind)")
    n = args.notes if args.group else args.appends
    jobs = [(variant, count) for variant in VARIANTS for count in (n, 2 * n)]
    workers = max(1, min(2, os.cpu_count() or 1))
    with (
        tempfile.TemporaryDirectory(prefix="incidents-bench-instructions-") as tmp,
        ThreadPoolExecutor(workers) as pool,
    ):
        counted = pool.map(
            lambda job: instructions(job[0], job[1], 2 * n, Path(tmp), group=args.group), jobs
        )
        counts = dict(zip(jobs, counted, strict=True))
    # Group mode: n more notes from each writer.
    added = n * WRITERS if args.group else n
    per_append = {v: (counts[(v, 2 * n)] - counts[(v, n)]) / added for v in VARIANTS}
    figures: dict[str, Any] = {
        "mode": "group commit, notes" if args.group else "single appends",
        "appends": added,
        "warmup": WARMUP_NOTES * WRITERS if args.group else WARMUP,
        "instructions_per_append": per_append,
        "chain_cost": per_append["chain"] / per_append["plain"] - 1,
        "chain_and_key_rows_cost": per_append["chain_and_key_rows"] / per_append["plain"] - 1,
        "chain_and_sealing_cost": per_append["chain_and_sealing"] / per_append["plain"] - 1,
    }
    for variant in VARIANTS:
        print(f"{variant}: {per_append[variant]:,.0f} instructions per append")
    print(
        f"the chain: +{figures['chain_cost']:.1%};"
        f" the chain and key rows alone: +{figures['chain_and_key_rows_cost']:.1%};"
        f" the chain and sealing: +{figures['chain_and_sealing_cost']:.1%}"
    )
    name = "chain-instructions-group" if args.group else "chain-instructions"
    print(f"recorded in {record(name, figures)}")


if __name__ == "__main__":
    main()
