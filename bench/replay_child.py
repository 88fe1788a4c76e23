"""Child process of bench/replay.py: rebuild the read models, or read the raw log, N times.

``python -m bench.replay_child rebuild|raw_read URL RUNS`` prints, as its last line, a
JSON list with one ``{events, seconds, peak_rss_mib}`` per run. The peak is reset
before each run, so each run reports its own; only the rebuild imports the service.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable

import bench.common  # noqa: F401 - sets the benchmarks' text vault and secret key
from bench.memory import children_peak_rss_mib, peak_rss_mib, reset_peak_rss


def _rebuild(url: str) -> Callable[[], int]:
    from eventstore.engine import create_engine
    from eventstore.store import EventStore
    from projections.runner import ProjectionRunner

    def once() -> int:
        engine = create_engine(url)
        try:
            ProjectionRunner().rebuild(engine)
            return EventStore(engine).head_position()
        finally:
            engine.dispose()

    return once


def _raw_read(url: str) -> Callable[[], int]:
    from bench.raw_log import read_log

    def once() -> int:
        return sum(1 for _ in read_log(url))

    return once


def main(kind: str, url: str, runs: int) -> None:
    once = {"rebuild": _rebuild, "raw_read": _raw_read}[kind](url)
    figures = []
    for _ in range(runs):
        reset_peak_rss()
        started = time.perf_counter()
        events = once()
        seconds = time.perf_counter() - started
        figures.append(
            {
                "events": events,
                "seconds": seconds,
                "peak_rss_mib": peak_rss_mib(),
                # A big log's rebuild folds in worker processes (projections/partitioned_rebuild.py).
                "workers_peak_rss_mib": children_peak_rss_mib(),
            }
        )
    print(json.dumps(figures))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
