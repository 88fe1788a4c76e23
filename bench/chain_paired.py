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

With ``--group``, each block is group commits instead: ``WRITERS`` threads adding
``--per-writer`` notes each through the service's command writer (as bench/chain.py's
group figure), the time a note; on PostgreSQL (``--backend postgresql``) the log's
growth is the write-ahead log's bytes (``pg_current_wal_lsn``) rather than pages.

.venv/bin/python -m bench.chain_paired                      # about a minute
.venv/bin/python -m bench.chain_paired --rounds 10 --block 200
.venv/bin/python -m bench.chain_paired --group              # about 3 minutes
.venv/bin/python -m bench.chain_paired --backend postgresql [--group]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, text

from application.bootstrap import build
from application.settings import Settings
from bench.appends import history, new_event
from bench.chain import WRITERS
from bench.chain_instructions import SIDES, VARIANTS
from bench.common import engine_for, fresh_database, record
from bench.service_writers import timed_writers
from eventstore.store import EventStore

WARMUP = 1000
_WAL_FRAME = 4096 + 24
"""A write-ahead log frame: a 4 KiB page and its header."""
_WAL_LSN = text("SELECT pg_current_wal_lsn()::text")
_WAL_BYTES = text("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), CAST(:since AS pg_lsn))")


class _LogGrowth:
    """How much the database's write-ahead log grew: SQLite's pages (its checkpoints held
    off for the run), PostgreSQL's bytes."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sqlite = engine.dialect.name == "sqlite"
        if self.sqlite:

            @event.listens_for(engine, "connect")
            def _hold_checkpoints(connection: Any, _: Any) -> None:
                connection.execute("PRAGMA wal_autocheckpoint = 0")

            self.unit = "wal_pages"
        else:
            self.unit = "wal_bytes"

    def mark(self) -> Any:
        if self.sqlite:
            wal = Path(self.engine.url.database or "").with_name(
                Path(self.engine.url.database or "").name + "-wal"
            )
            return (wal.stat().st_size - 32) / _WAL_FRAME if wal.exists() else 0.0
        with self.engine.connect() as conn:
            return conn.execute(_WAL_LSN).scalar_one()

    def since(self, mark: Any) -> float:
        if self.sqlite:
            return float(self.mark() - mark)
        with self.engine.connect() as conn:
            return float(conn.execute(_WAL_BYTES, {"since": mark}).scalar_one())


def _single_blocks(engine: Engine, rounds: int, block: int) -> Callable[[], tuple[int, float]]:
    """Each call: ``block`` single appends of the next generated events; returns the count
    and the seconds they took."""
    rows = history(WARMUP + rounds * block * len(VARIANTS), seed=17)
    store = EventStore(engine)
    for row in rows[:WARMUP]:
        store.append(row["stream_id"], [new_event(row)], row["version"] - 1)
    at = [WARMUP]

    def appends() -> tuple[int, float]:
        batch = [
            (row["stream_id"], new_event(row), row["version"] - 1)
            for row in rows[at[0] : at[0] + block]
        ]
        at[0] += block
        began = time.perf_counter()
        for stream_id, new, expected in batch:
            store.append(stream_id, [new], expected)
        return block, time.perf_counter() - began

    return appends


def paired(backend: str, rounds: int, block: int, *, group: bool) -> dict[str, Any]:
    wall: dict[str, list[float]] = {v: [] for v in VARIANTS}
    cpu: dict[str, list[float]] = {v: [] for v in VARIANTS}
    grown: dict[str, list[float]] = {v: [] for v in VARIANTS}
    with tempfile.TemporaryDirectory() as tmp, fresh_database(backend, Path(tmp)) as url:
        runtime = None
        blocks: Callable[[], tuple[int, float]]
        if group:
            settings = Settings(database_url=url, projection_mode="worker", log_level="WARNING")
            runtime = build(settings)
            engine = runtime.engine
            growth = _LogGrowth(engine)
            service = runtime.service
            timed_writers(service, WRITERS, WARMUP // WRITERS)

            def grouped() -> tuple[int, float]:
                # Clocked from the writers' common start: each block declares its writers'
                # incidents first (in the CPU figure, alike for every variant).
                seconds, _ = timed_writers(service, WRITERS, block)
                return WRITERS * block, seconds

            blocks = grouped
        else:
            engine = engine_for(url)
            growth = _LogGrowth(engine)
            blocks = _single_blocks(engine, rounds, block)
        try:
            for turn in range(rounds):
                shift = turn % len(VARIANTS)
                for variant in VARIANTS[shift:] + VARIANTS[:shift]:
                    with SIDES[variant]():
                        before = growth.mark()
                        used = time.process_time()
                        count, seconds = blocks()
                        wall[variant].append(seconds / count)
                        cpu[variant].append((time.process_time() - used) / count)
                        grown[variant].append(growth.since(before) / count)
        finally:
            if runtime is not None:
                runtime.close()
            else:
                engine.dispose()
    figures: dict[str, Any] = {
        "backend": backend,
        "mode": "group commit, notes" if group else "single appends",
        "rounds": rounds,
        "block": block,
        "warmup": WARMUP,
    }
    if group:
        figures["writers"] = WRITERS
    for variant in VARIANTS:
        figures[f"{variant}_us"] = statistics.median(wall[variant]) * 1e6
        figures[f"{variant}_cpu_us"] = statistics.median(cpu[variant]) * 1e6
        figures[f"{variant}_{growth.unit}_per_append"] = statistics.median(grown[variant])
        if variant != "plain":
            ratios = [a / b for a, b in zip(wall[variant], wall["plain"], strict=True)]
            cpu_ratios = [a / b for a, b in zip(cpu[variant], cpu["plain"], strict=True)]
            figures[f"{variant}_cost"] = statistics.median(ratios) - 1
            figures[f"{variant}_cost_range"] = [min(ratios) - 1, max(ratios) - 1]
            figures[f"{variant}_cpu_cost"] = statistics.median(cpu_ratios) - 1
    figures["log_growth_unit"] = growth.unit
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--group", action="store_true", help="group commits of notes instead")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument(
        "--block", type=int, help="appends a block (default 300); --group: notes a writer (25)"
    )
    args = parser.parse_args()
    block = args.block or (25 if args.group else 300)
    figures = paired(args.backend, args.rounds, block, group=args.group)
    unit = figures["log_growth_unit"]
    for variant in VARIANTS:
        line = (
            f"{variant}: {figures[f'{variant}_us']:.1f} µs an append"
            f" ({figures[f'{variant}_cpu_us']:.1f} µs CPU),"
            f" {figures[f'{variant}_{unit}_per_append']:.2f} {unit.replace('_', ' ')}"
        )
        if variant != "plain":
            low, high = figures[f"{variant}_cost_range"]
            line += (
                f"; {figures[f'{variant}_cost']:+.1%} ({low:+.0%} to {high:+.0%}),"
                f" CPU {figures[f'{variant}_cpu_cost']:+.1%}"
            )
        print(line)
    name = "chain-paired" + ("-postgresql" if args.backend == "postgresql" else "")
    name += "-group" if args.group else ""
    print(f"recorded in {record(name, figures)}")


if __name__ == "__main__":
    main()
