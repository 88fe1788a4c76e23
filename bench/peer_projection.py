"""Following a log into a read model: our rebuild against the ``eventsourcing`` projection.

Each run gets a fresh database holding about N events for each side: generated incident
histories in our log, rebuilt into every projection (projections/rebuild.py, batches
of events per transaction); and the library's aggregates, projected one event per
transaction into a row per aggregate (bench/peer_eventsourcing.py). The read models
differ in size; both figures are events taken from the log per second.
"""

from __future__ import annotations

from pathlib import Path

from bench import peer_eventsourcing as peer
from bench.preload import preloaded, rebuild_here
from bench.stats import Figures

TIMEOUT_SECONDS = 3600.0


def run(backend: str, events: int, workdir: Path, number: int) -> Figures:
    with preloaded(backend, events, workdir) as (url, _loaded):
        with peer.application(url) as app:
            last_id = peer.preload(app, events)
        figures: Figures = {}
        order = ["ours", "eventsourcing"] if number % 2 == 0 else ["eventsourcing", "ours"]
        for name in order:
            if name == "ours":
                count, seconds = rebuild_here(url)
                figures["ours_per_s"] = count / seconds
            else:
                seconds = peer.project(url, last_id, TIMEOUT_SECONDS)
                figures["eventsourcing_per_s"] = last_id / seconds
    figures["ours_vs_eventsourcing"] = figures["ours_per_s"] / figures["eventsourcing_per_s"]
    return figures
