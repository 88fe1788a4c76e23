"""Repeated runs summarised as median, min and max; latency percentiles."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping
from typing import Any

from bench.http_client import percentile

Figures = dict[str, float]
"""One run's figures by name (events per second, milliseconds, ratios ...)."""


def latency_figures(prefix: str, seconds: list[float]) -> Figures:
    """p50 and p99 in milliseconds of one run's latencies."""
    ordered = sorted(seconds)
    return {
        f"{prefix}_p50_ms": percentile(ordered, 0.50) * 1000,
        f"{prefix}_p99_ms": percentile(ordered, 0.99) * 1000,
    }


def summarise(runs: list[Figures]) -> dict[str, dict[str, Any]]:
    """Every figure of the runs as ``{median, min, max, runs}``."""
    names = [name for name in runs[0] if all(name in run for run in runs)]
    return {
        name: {
            "median": statistics.median(run[name] for run in runs),
            "min": min(run[name] for run in runs),
            "max": max(run[name] for run in runs),
            "runs": [run[name] for run in runs],
        }
        for name in names
    }


def repeat(runs: int, once: Callable[[int], Figures], label: str) -> list[Figures]:
    """Call ``once(run_number)`` ``runs`` times, printing each run's figures as it ends."""
    results = []
    for number in range(runs):
        started = time.perf_counter()
        figures = once(number)
        took = time.perf_counter() - started
        print(f"  {label} run {number + 1}/{runs} ({took:.1f}s): {brief(figures)}", flush=True)
        results.append(figures)
    return results


def brief(figures: Mapping[str, float]) -> str:
    """One line: every figure with its name."""
    return ", ".join(f"{name} {value:,.2f}" for name, value in figures.items())
