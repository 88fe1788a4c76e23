"""Child process of bench/rebuild.py: rebuild every projection once, print JSON figures."""

from __future__ import annotations

import json
import sys
import time

import bench.common  # noqa: F401 - sets the benchmarks' text vault and secret key
from bench.memory import peak_rss_mib
from eventstore.engine import create_engine
from eventstore.store import EventStore
from projections.runner import ProjectionRunner


def main(url: str) -> None:
    engine = create_engine(url)
    events = EventStore(engine).head_position()
    started = time.perf_counter()
    ProjectionRunner().rebuild(engine)
    seconds = time.perf_counter() - started
    engine.dispose()
    print(json.dumps({"events": events, "seconds": seconds, "peak_rss_mib": peak_rss_mib()}))


if __name__ == "__main__":
    main(sys.argv[1])
