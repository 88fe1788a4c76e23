"""Rebuild every projection over generated incident histories: events/s and peak memory.

.venv/bin/python -m bench.rebuild --events 1000000 --backend sqlite --backend postgresql
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench.common import engine_for, fresh_database, record, run_child
from bench.history import load


def measure(backend: str, events: int, workdir: Path) -> dict[str, float]:
    with fresh_database(backend, workdir) as url:
        engine = engine_for(url)
        started = time.perf_counter()
        loaded = load(engine, events)
        engine.dispose()
        print(f"{backend}: loaded {loaded:,} events in {time.perf_counter() - started:.1f}s")
        figures = run_child("bench.rebuild_child", url)
    rate = figures["events"] / figures["seconds"]
    print(
        f"{backend}: rebuilt {figures['events']:,} events in {figures['seconds']:.1f}s"
        f" = {rate:,.0f} events/s, peak RSS {figures['peak_rss_mib']:.0f} MiB"
    )
    return {**figures, "events_per_second": rate}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, action="append")
    parser.add_argument("--backend", action="append", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    sizes = args.events or [100_000]
    backends = args.backend or ["sqlite", "postgresql"]
    results = {}
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as workdir:
        for backend in backends:
            for size in sizes:
                results[f"{backend}-{size}"] = measure(backend, size, Path(workdir))
    print(f"recorded in {record('rebuild', {'rebuild': results})}")


if __name__ == "__main__":
    main()
