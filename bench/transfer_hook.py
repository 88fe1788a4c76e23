"""Export and import (bench/transfer.py) inside the suite.

bench/transfer.py moves one generated log SQLite -> PostgreSQL -> SQLite through
``incidents export`` / ``import`` and bulk-inserts the same rows raw for reference. Its
``run(events, rounds, workdir)`` is called with one round per suite run and its figures
are split by backend (each export and import runs in a child process of its own, whose
peak RSS is its VmHWM). When bench/transfer.py, its ``run`` or a
figure read here is missing, the workload is skipped with the reason printed rather
than failing the suite.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from bench.sizes import Sizes
from bench.stats import Figures, repeat, summarise

BOTH = ("sqlite", "postgresql")


class Skipped(Exception):
    """The workload cannot run here; the message says why."""


def _figures(results: dict[str, Any], backend: str) -> Figures:
    try:
        [measured] = results["rounds"]  # one round per suite run; the suite repeats runs
        export, imported = measured[f"{backend}_export"], measured[f"{backend}_import"]
        raw = measured[f"{backend}_raw_bulk_insert"]
        return {
            "export_per_s": export["events_per_second"],
            "import_per_s": imported["events_per_second"],
            "raw_bulk_insert_per_s": raw["events_per_second"],
            "import_vs_raw": results[f"{backend}_import_to_raw_ratio"],
            "export_peak_rss_mib": export["peak_rss_mib"],
            "import_peak_rss_mib": imported["peak_rss_mib"],
        }
    except KeyError as missing:
        raise Skipped(f"bench/transfer.py no longer reports {missing}") from None


def run(backends: list[str], sizes: Sizes, workdir: Path) -> dict[str, Any]:
    try:
        transfer = importlib.import_module("bench.transfer")
    except ModuleNotFoundError as missing:
        if missing.name != "bench.transfer":
            raise
        raise Skipped("bench/transfer.py does not exist yet") from None
    if not hasattr(transfer, "run"):
        raise Skipped("bench/transfer.py has no run(events, rounds, workdir)")
    if set(backends) != set(BOTH):
        raise Skipped("it moves a log between SQLite and PostgreSQL: needs both backends")

    def once(_number: int) -> Figures:
        results = transfer.run(sizes.transfer_events, 1, workdir)
        return {
            f"{backend}:{name}": value
            for backend in BOTH
            for name, value in _figures(results, backend).items()
        }

    runs = repeat(sizes.runs, once, "transfer")
    return {
        backend: summarise(
            [
                {
                    key.removeprefix(f"{backend}:"): value
                    for key, value in figures.items()
                    if key.startswith(f"{backend}:")
                }
                for figures in runs
            ]
        )
        for backend in BOTH
    }
