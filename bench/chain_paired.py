"""What the hash chain and sealed text cost a single append on SQLite, timed in pairs.

bench/chain.py times each variant in one stretch of appends, so a machine that speeds
up or slows down between stretches moves the cost figure more than the cost itself
(its spreads run to ±40 %). Here the variants take turns in blocks of ``--block``
appends on one database in one process, the order rotating each round; each round
gives every variant's time per append beside plain's, measured a few hundred
milliseconds apart, and the figure is the median of those per-round ratios. Unlike
callgrind's counts (bench/chain_instructions.py), these are the machine's own times:
SHA-256 and AES run on its instructions for them (valgrind's do not).

Each block also counts the pages its commits wrote to the write-ahead log (the
checkpoint that would empty it is held off for the run), which shows what a key row
costs the database: one more page per commit.

Variants are those of bench/chain_instructions.py: plain, chain, chain and key rows
(a key row of the real size for each event sealing would seal, nothing sealed), chain
and sealing (as the service appends).

.venv/bin/python -m bench.chain_paired                      # about a minute
.venv/bin/python -m bench.chain_paired --rounds 10 --block 200
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event

from bench.appends import history, new_event
from bench.chain_instructions import SIDES, VARIANTS
from bench.common import engine_for, fresh_database, record
from eventstore.store import EventStore

WARMUP = 1000
_WAL_FRAME = 4096 + 24
"""A write-ahead log frame: a 4 KiB page and its header."""


def _wal_pages(database: Path) -> float:
    wal = database.with_name(database.name + "-wal")
    return (wal.stat().st_size - 32) / _WAL_FRAME if wal.exists() else 0.0


def paired(rounds: int, block: int) -> dict[str, Any]:
    rows = history(WARMUP + rounds * block * len(VARIANTS), seed=17)
    wall: dict[str, list[float]] = {v: [] for v in VARIANTS}
    cpu: dict[str, list[float]] = {v: [] for v in VARIANTS}
    pages: dict[str, list[float]] = {v: [] for v in VARIANTS}
    with tempfile.TemporaryDirectory() as tmp, fresh_database("sqlite", Path(tmp)) as url:
        engine = engine_for(url)
        database = Path(engine.url.database or "")

        @event.listens_for(engine, "connect")
        def _hold_checkpoints(connection: Any, _: Any) -> None:
            connection.execute("PRAGMA wal_autocheckpoint = 0")

        store = EventStore(engine)
        for row in rows[:WARMUP]:
            store.append(row["stream_id"], [new_event(row)], row["version"] - 1)
        at = WARMUP
        for turn in range(rounds):
            shift = turn % len(VARIANTS)
            for variant in VARIANTS[shift:] + VARIANTS[:shift]:
                appends = [
                    (row["stream_id"], new_event(row), row["version"] - 1)
                    for row in rows[at : at + block]
                ]
                at += block
                with SIDES[variant]():
                    before = _wal_pages(database)
                    began, used = time.perf_counter(), time.process_time()
                    for stream_id, new, expected in appends:
                        store.append(stream_id, [new], expected)
                    wall[variant].append((time.perf_counter() - began) / block)
                    cpu[variant].append((time.process_time() - used) / block)
                    pages[variant].append((_wal_pages(database) - before) / block)
        engine.dispose()
    figures: dict[str, Any] = {"rounds": rounds, "block": block, "warmup": WARMUP}
    for variant in VARIANTS:
        figures[f"{variant}_us"] = statistics.median(wall[variant]) * 1e6
        figures[f"{variant}_cpu_us"] = statistics.median(cpu[variant]) * 1e6
        figures[f"{variant}_wal_pages_per_append"] = statistics.median(pages[variant])
        if variant != "plain":
            ratios = [a / b for a, b in zip(wall[variant], wall["plain"], strict=True)]
            cpu_ratios = [a / b for a, b in zip(cpu[variant], cpu["plain"], strict=True)]
            figures[f"{variant}_cost"] = statistics.median(ratios) - 1
            figures[f"{variant}_cost_range"] = [min(ratios) - 1, max(ratios) - 1]
            figures[f"{variant}_cpu_cost"] = statistics.median(cpu_ratios) - 1
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--block", type=int, default=300)
    args = parser.parse_args()
    figures = paired(args.rounds, args.block)
    for variant in VARIANTS:
        line = (
            f"{variant}: {figures[f'{variant}_us']:.1f} µs an append"
            f" ({figures[f'{variant}_cpu_us']:.1f} µs CPU),"
            f" {figures[f'{variant}_wal_pages_per_append']:.2f} log pages"
        )
        if variant != "plain":
            low, high = figures[f"{variant}_cost_range"]
            line += (
                f"; +{figures[f'{variant}_cost']:.1%} ({low:+.0%} to {high:+.0%}),"
                f" CPU +{figures[f'{variant}_cpu_cost']:.1%}"
            )
        print(line)
    print(f"recorded in {record('chain-paired', figures)}")


if __name__ == "__main__":
    main()
