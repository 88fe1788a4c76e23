"""Child process of bench/rebuild.py: rebuild every projection once, print JSON figures."""

from __future__ import annotations

import json
import resource
import sys
import time

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
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"events": events, "seconds": seconds, "peak_rss_mib": peak_kib / 1024}))


if __name__ == "__main__":
    main(sys.argv[1])
