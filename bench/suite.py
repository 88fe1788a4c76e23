"""Every benchmark, each paired with its reference, repeated: ``make bench`` / ``make bench-quick``.

.venv/bin/python -m bench.suite --quick          # 3 runs at small sizes, under two minutes
.venv/bin/python -m bench.suite                  # 3 runs at full sizes (about 20 minutes on 2 cores)
.venv/bin/python -m bench.suite --only appends --backend sqlite

Every figure is reported as the median, min and max of its runs, in
bench/results/<UTC date>.json and as a Markdown table in bench/results/<UTC date>.md
(``-quick`` and ``-partial`` added to the name for quick runs and for runs of some
workloads or one backend), which is also printed. Figures are never asserted; a
workload that raises is reported and makes the command exit non-zero once the others
have run.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import (
    alertmanager,
    alertmanager_http,
    appends,
    ceiling_suite,
    concurrent_writers,
    insights,
    peer_eventsourcing,
    peer_projection,
    replay,
    scaling,
    search,
    transfer_hook,
    webhooks,
)
from bench.common import RESULTS, fresh_database
from bench.http_suite import server
from bench.preload import preloaded
from bench.raw_driver import durability
from bench.report import markdown
from bench.sizes import FULL, QUICK, Sizes
from bench.stats import Figures, brief, repeat, summarise

Workload = Callable[[list[str], Sizes, Path], dict[str, Any]]


def _each_backend(
    backends: list[str], sizes: Sizes, name: str, once: Callable[[str, int], Figures]
) -> dict[str, Any]:
    return {
        backend: summarise(
            repeat(sizes.runs, lambda number, b=backend: once(b, number), f"{name} {backend}")  # type: ignore[misc]
        )
        for backend in backends
    }


def run_appends(backends: list[str], sizes: Sizes, workdir: Path) -> dict[str, Any]:
    return _each_backend(
        backends,
        sizes,
        "appends",
        lambda backend, number: appends.run(backend, sizes.appends, workdir, number),
    )


def run_concurrent_writers(backends: list[str], sizes: Sizes, workdir: Path) -> dict[str, Any]:
    if "postgresql" not in backends:
        return {}
    return _each_backend(
        ["postgresql"],
        sizes,
        "concurrent writers",
        lambda _backend, number: concurrent_writers.run(sizes.writer_appends, workdir, number),
    )


def run_peer_projection(backends: list[str], sizes: Sizes, workdir: Path) -> dict[str, Any]:
    return _each_backend(
        backends,
        sizes,
        "projection vs eventsourcing",
        lambda backend, number: peer_projection.run(backend, sizes.peer_events, workdir, number),
    )


def run_replay(backends: list[str], sizes: Sizes, workdir: Path) -> dict[str, Any]:
    results = {}
    for backend in backends:
        with preloaded(backend, sizes.rebuild_events, workdir) as (url, _loaded):
            runs = replay.measure(url, sizes.runs)
        for number, figures in enumerate(runs, start=1):
            print(f"  replay {backend} run {number}/{sizes.runs}: {brief(figures)}", flush=True)
        results[backend] = summarise(runs)
    return results


def run_http(backends: list[str], sizes: Sizes, workdir: Path) -> dict[str, Any]:
    """The HTTP workloads against one server per backend: commands, timeline reads by all
    clients at once and by one client alone."""
    load = argparse.Namespace(clients=16, warmup=sizes.http_warmup, seconds=sizes.http_seconds)
    commands: dict[str, Any] = {}
    timeline: dict[str, Any] = {}
    one_client: dict[str, Any] = {}
    for backend in backends:
        with server(backend, sizes.http_events, load, workdir) as running:
            commands[backend] = summarise(
                repeat(sizes.runs, running.commands, f"http commands {backend}")
            )
            timeline[backend] = summarise(
                repeat(
                    sizes.runs,
                    lambda number, r=running: r.timeline(number, sizes.timeline_entries),  # type: ignore[misc]
                    f"http timeline {backend}",
                )
            )
            one_client[backend] = summarise(
                repeat(
                    sizes.runs,
                    lambda number, r=running: r.timeline(number, sizes.timeline_entries, 1),  # type: ignore[misc]
                    f"http timeline, one client, {backend}",
                )
            )
    return {
        "http_commands": commands,
        "http_timeline": timeline,
        "http_timeline_one_client": one_client,
    }


def run_alertmanager(backends: list[str], sizes: Sizes, workdir: Path) -> dict[str, Any]:
    def once(backend: str, _number: int) -> Figures:
        figures = alertmanager.measure(backend, sizes.notifications, workdir)
        return {
            f"{phase}_per_s": figures[phase]["notifications_per_second"]
            for phase in ("fire", "redeliver", "resolve")
        }

    return _each_backend(backends, sizes, "alertmanager", once)


def run_scaling(backends: list[str], sizes: Sizes, workdir: Path) -> dict[str, Any]:
    return {
        backend: {
            size: summarise(runs)
            for size, runs in scaling.measure(
                backend, list(sizes.scaling), sizes.runs, sizes.scaling_samples, workdir
            ).items()
        }
        for backend in backends
    }


WORKLOADS: dict[str, Workload] = {
    "appends": run_appends,
    "concurrent_writers": run_concurrent_writers,
    "peer_projection": run_peer_projection,
    "replay": run_replay,
    "http": run_http,
    "stack_ceiling": ceiling_suite.run,
    "alertmanager": run_alertmanager,
    "alertmanager_http": alertmanager_http.run,
    "transfer": transfer_hook.run,
    "scaling": run_scaling,
    "insights": insights.run,
    "search": search.run,
    "webhooks": webhooks.run,
}


def durability_settings(backends: list[str], workdir: Path) -> dict[str, str]:
    """What one append's commit runs under, per backend, as the databases report it."""
    settings = {}
    for backend in backends:
        with fresh_database(backend, workdir) as url:
            stated = durability(url)
            if backend == "sqlite":
                with peer_eventsourcing.application(url) as app:
                    level = peer_eventsourcing.sqlite_synchronous(app)
                stated += f" (eventsourcing's connections: synchronous={level})"
            else:
                stated += " (one server for all three)"
        settings[backend] = stated
    return settings


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="3 runs at small sizes")
    parser.add_argument("--only", action="append", choices=list(WORKLOADS))
    parser.add_argument("--backend", action="append", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    backends = args.backend or ["sqlite", "postgresql"]
    chosen = args.only or list(WORKLOADS)
    started = time.perf_counter()
    results: dict[str, Any] = {
        "mode": "quick" if args.quick else "full",
        "only": chosen if args.only else None,
        "backends": backends,
        "runs": sizes.runs,
        "sizes": asdict(sizes),
        "measured_at": datetime.now(UTC).isoformat(),
        "cpus": os.cpu_count(),
        "load_before": ", ".join(f"{value:.1f}" for value in os.getloadavg()),
        "workloads": {},
        "skipped": {},
        "errors": {},
        "workload_seconds": {},
    }
    with tempfile.TemporaryDirectory(prefix="incidents-bench-suite-") as tmp:
        workdir = Path(tmp)
        results["durability"] = durability_settings(backends, workdir)
        for name in chosen:
            print(f"== {name}", flush=True)
            began = time.perf_counter()
            try:
                produced = WORKLOADS[name](backends, sizes, workdir)
            except transfer_hook.Skipped as skipped:  # also by ceiling_suite, alertmanager_http
                print(f"  skipped: {skipped}", flush=True)
                results["skipped"][name] = str(skipped)
                continue
            except Exception as exc:
                traceback.print_exc()
                results["errors"][name] = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
                continue
            finally:
                results["workload_seconds"][name] = round(time.perf_counter() - began, 1)
                print(f"== {name}: {results['workload_seconds'][name]}s", flush=True)
            if name == "http":
                results["workloads"].update(produced)
            else:
                results["workloads"][name] = produced
    results["wall_seconds"] = time.perf_counter() - started
    table = markdown(results)
    print("\n" + table)
    # A run of some workloads or one backend must not replace the day's whole record.
    # Nor may a quick run replace a full one.
    partial = "" if args.only is None and args.backend is None else "-partial"
    stamp = datetime.now(UTC).strftime("%Y-%m-%d") + ("-quick" if args.quick else "") + partial
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{stamp}.json").write_text(json.dumps(results, indent=2) + "\n")
    (RESULTS / f"{stamp}.md").write_text(table)
    print(f"recorded in {RESULTS / f'{stamp}.json'} and {RESULTS / f'{stamp}.md'}")
    if results["errors"]:
        raise SystemExit(f"failed workloads: {', '.join(results['errors'])}")


if __name__ == "__main__":
    main()
