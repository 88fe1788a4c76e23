"""Rebuilding every projection against reading and parsing the raw log, over the same log.

Each side runs all its repetitions in one child process of its own
(bench/replay_child.py), with the peak RSS reset before every run: the rebuild (every
projection into shadow tables, swapped in; projections/rebuild.py) and the bare
driver's SELECT of every row with its JSON parsed (bench/raw_log.py). The engine and
the driver connect anew for each run.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from bench.stats import Figures


def _child(kind: str, url: str, runs: int) -> list[dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.replay_child", kind, url, str(runs)],
        check=False,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench.replay_child {kind} failed:\n{done.stderr}")
    figures: list[dict[str, Any]] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def measure(url: str, runs: int) -> list[Figures]:
    """``runs`` rebuilds and ``runs`` raw reads of the log at ``url``, paired by run."""
    rebuilds = _child("rebuild", url, runs)
    reads = _child("raw_read", url, runs)
    paired = []
    for rebuild, read in zip(rebuilds, reads, strict=True):
        figures: Figures = {
            "rebuild_per_s": rebuild["events"] / rebuild["seconds"],
            "rebuild_peak_rss_mib": rebuild["peak_rss_mib"],
            "rebuild_workers_peak_rss_mib": rebuild["workers_peak_rss_mib"],
            "raw_read_per_s": read["events"] / read["seconds"],
            "raw_read_peak_rss_mib": read["peak_rss_mib"],
        }
        figures["rebuild_vs_raw_read"] = figures["rebuild_per_s"] / figures["raw_read_per_s"]
        paired.append(figures)
    return paired
