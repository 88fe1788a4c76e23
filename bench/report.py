"""The suite's figures as one Markdown table, each row marked against its target."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from bench.sizes import CEILING_CONNECTIONS, HOOK_CONNECTIONS

BACKENDS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
NONE = "-"


@dataclass(frozen=True)
class Target:
    """``figure >= value`` (at_least) or ``figure <= value``."""

    value: float
    at_least: bool = True

    def text(self) -> str:
        return f"{'≥' if self.at_least else '≤'} {_number(self.value)}"

    def met(self, figure: float) -> bool:
        return figure >= self.value if self.at_least else figure <= self.value


def both(target: Target) -> dict[str, Target]:
    return {"sqlite": target, "postgresql": target}


@dataclass(frozen=True)
class Row:
    workload: str
    figure: str
    label: str
    targets: dict[str, Target] = field(default_factory=dict)
    """By backend; a backend without one has no target for this figure."""


def _ceiling_rows(connections: int) -> list[Row]:
    """Ours beside the stack's ceiling (bench/ceiling_suite.py) at one connection count."""
    at = f"{connections} connections"
    ratio = {"sqlite": Target(1.0), "postgresql": Target(1.5)}
    fast = both(Target(25, at_least=False))
    none = both(Target(0, at_least=False))
    return [
        Row("stack_ceiling", f"ours_per_s_c{connections}", f"{at}: ours, notes/s (2xx)"),
        Row("stack_ceiling", f"ceiling_per_s_c{connections}", f"{at}: ceiling, notes/s (2xx)"),
        Row("stack_ceiling", f"ours_vs_ceiling_c{connections}", f"{at}: ours / ceiling", ratio),
        Row("stack_ceiling", f"ours_p50_ms_c{connections}", f"{at}: ours p50 ms"),
        Row("stack_ceiling", f"ceiling_p50_ms_c{connections}", f"{at}: ceiling p50 ms"),
        Row("stack_ceiling", f"ours_p99_ms_c{connections}", f"{at}: ours p99 ms", fast),
        Row("stack_ceiling", f"ceiling_p99_ms_c{connections}", f"{at}: ceiling p99 ms"),
        Row("stack_ceiling", f"ours_non_2xx_c{connections}", f"{at}: ours non-2xx", none),
        Row("stack_ceiling", f"ceiling_non_2xx_c{connections}", f"{at}: ceiling non-2xx"),
        Row("stack_ceiling", f"ours_socket_errors_c{connections}", f"{at}: ours socket errors"),
        Row(
            "stack_ceiling",
            f"ceiling_socket_errors_c{connections}",
            f"{at}: ceiling socket errors",
        ),
    ]


def _hook_rows(connections: int) -> list[Row]:
    """Alertmanager notifications over HTTP (bench/alertmanager_http.py) at one connection count."""
    at = f"{connections} connections"
    none = both(Target(0, at_least=False))
    return [
        Row(
            "alertmanager_http",
            f"per_s_c{connections}",
            f"{at}: notifications/s (2xx)",
            {"sqlite": Target(1000)},
        ),
        Row("alertmanager_http", f"p50_ms_c{connections}", f"{at}: p50 ms"),
        Row("alertmanager_http", f"p99_ms_c{connections}", f"{at}: p99 ms"),
        Row("alertmanager_http", f"non_2xx_c{connections}", f"{at}: non-2xx"),
        Row("alertmanager_http", f"socket_errors_c{connections}", f"{at}: socket errors"),
        Row(
            "alertmanager_http",
            f"ok_not_declared_c{connections}",
            f"{at}: 2xx answers without their incident in the log",
            none,
        ),
        Row(
            "alertmanager_http",
            f"declared_not_ok_c{connections}",
            f"{at}: incidents declared, unanswered when wrk stopped",
        ),
    ]


ROWS = [
    Row("appends", "ours_per_s", "ours (EventStore.append), events/s"),
    Row("appends", "raw_per_s", "raw driver, events/s"),
    Row("appends", "eventsourcing_per_s", "eventsourcing Aggregate, events/s"),
    Row("appends", "ours_p99_ms", "ours p99 ms"),
    Row("appends", "ours_vs_raw", "ours / raw driver", both(Target(0.6))),
    Row("appends", "ours_vs_eventsourcing", "ours / eventsourcing", both(Target(1.2))),
    Row("concurrent_writers", "ours_per_s", "8 writers, ours, events/s"),
    Row("concurrent_writers", "raw_per_s", "8 writers, raw driver, events/s"),
    Row("concurrent_writers", "ours_vs_raw", "ours / raw driver"),
    Row(
        "concurrent_writers",
        "service_per_s",
        "8 writers, one process through IncidentService, events/s",
    ),
    Row(
        "concurrent_writers",
        "service_vs_raw",
        "IncidentService / raw driver",
        {"postgresql": Target(2.0)},
    ),
    Row(
        "concurrent_writers",
        "service_events_per_commit",
        "IncidentService, events per committed transaction",
    ),
    Row("peer_projection", "ours_per_s", "our rebuild, events/s"),
    Row("peer_projection", "eventsourcing_per_s", "eventsourcing projection, events/s"),
    Row("peer_projection", "ours_vs_eventsourcing", "ours / eventsourcing"),
    Row(
        "replay",
        "rebuild_per_s",
        "rebuild, events/s",
        {"sqlite": Target(50_000), "postgresql": Target(30_000)},
    ),
    Row("replay", "raw_read_per_s", "raw read + JSON parse, events/s"),
    Row("replay", "rebuild_vs_raw_read", "rebuild / raw read"),
    Row("replay", "rebuild_peak_rss_mib", "rebuild peak RSS MiB"),
    Row(
        "replay",
        "rebuild_workers_peak_rss_mib",
        "rebuild workers' peak RSS MiB (largest child so far; 0: rebuilt in one process)",
    ),
    Row("replay", "raw_read_peak_rss_mib", "raw read peak RSS MiB"),
    Row("http_commands", "commands_per_s", "commands/s", {"sqlite": Target(1000)}),
    Row("http_commands", "p50_ms", "commands p50 ms"),
    Row("http_commands", "p99_ms", "commands p99 ms", {"sqlite": Target(25, at_least=False)}),
    Row("http_commands", "failed", "commands failed (non-2xx)"),
    *(row for connections in CEILING_CONNECTIONS for row in _ceiling_rows(connections)),
    Row("http_timeline", "reads_per_s", "timeline reads/s, 16 clients"),
    Row("http_timeline", "p50_ms", "timeline p50 ms, 16 clients"),
    Row("http_timeline", "p99_ms", "timeline p99 ms, 16 clients"),
    Row("http_timeline_one_client", "reads_per_s", "timeline reads/s, 1 client"),
    Row("http_timeline_one_client", "p50_ms", "timeline p50 ms, 1 client"),
    Row(
        "http_timeline_one_client",
        "p99_ms",
        "timeline p99 ms, 1 client",
        both(Target(15, at_least=False)),
    ),
    Row("alertmanager", "fire_per_s", "fire, notifications/s"),
    Row("alertmanager", "redeliver_per_s", "redeliver, notifications/s"),
    Row("alertmanager", "resolve_per_s", "resolve, notifications/s"),
    *(row for connections in HOOK_CONNECTIONS for row in _hook_rows(connections)),
    # Targets as bench/transfer.py states them.
    Row("transfer", "export_per_s", "export, events/s", both(Target(100_000))),
    Row("transfer", "import_per_s", "import, events/s"),
    Row("transfer", "raw_bulk_insert_per_s", "raw bulk insert, events/s"),
    Row("transfer", "import_vs_raw", "import / raw bulk insert", both(Target(0.5))),
    Row(
        "insights",
        "month_p50_ms",
        "GET /insights/incidents?group_by=month over a year, in-process, p50 ms",
        both(Target(100, at_least=False)),
    ),
    Row("insights", "month_p90_ms", "the same, p90 ms"),
    Row("insights", "count_p50_ms", "reference: SELECT count(*) of the same rows, p50 ms"),
    Row("insights", "month_vs_count", "insights / count (medians of the run)"),
    Row("insights", "rows", "incidents in the year read (the target is for 100,000)"),
    Row("search", "rebuild_without_search_s", "rebuild without search (reference), s"),
    Row("search", "rebuild_with_search_s", "rebuild with search, s"),
    Row(
        "search",
        "search_share_of_rebuild",
        "what search adds to a rebuild (with / without - 1)",
        both(Target(0.25, at_least=False)),
    ),
    Row("search", "index_build_s", "of which the full-text index built after the swap, s"),
    Row("search", "index_share_of_rebuild", "that index build / rebuild without search"),
    Row("search", "documents", "documents indexed"),
    *(
        row
        for name, label in (
            ("rare", "rare pair"),
            ("common", "common pair"),
            ("broad", "broad pair"),
        )
        for row in (
            Row(
                "search",
                f"{name}_p50_ms",
                f"GET /search, two words, {label}, in-process, p50 ms",
                both(Target(50, at_least=False)),
            ),
            Row(
                "search",
                f"{name}_count_p50_ms",
                f"reference: count of the {label}'s matches, p50 ms",
            ),
            Row("search", f"{name}_matches", f"{label}: documents matched"),
        )
    ),
]

FLAT_LATENCY = 1.5
"""Latency is flat when its median at the largest size is at most this times the smallest's."""
FLAT_MEMORY = 1.2
"""Rebuild memory is flat when its peak RSS at the largest size is at most this times the smallest's."""


def _number(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _line(*cells: str) -> str:
    return "| " + " | ".join(cells) + " |"


def _status(target: Target | None, median: float) -> tuple[str, str]:
    if target is None:
        return NONE, NONE
    return target.text(), "met" if target.met(median) else "missed"


def _figure_line(
    workload: str, backend: str, label: str, summary: dict[str, Any], target: Target | None
) -> str:
    goal, status = _status(target, summary["median"])
    return _line(
        workload,
        BACKENDS[backend],
        label,
        _number(summary["median"]),
        _number(summary["min"]),
        _number(summary["max"]),
        goal,
        status,
    )


def _rows(results: dict[str, Any]) -> Iterator[str]:
    workloads = results["workloads"]
    for backend, settings in results.get("durability", {}).items():
        yield _line("appends", BACKENDS[backend], "durability", settings, "", "", NONE, NONE)
    for row in ROWS:
        for backend in BACKENDS:
            summary = workloads.get(row.workload, {}).get(backend, {}).get(row.figure)
            if summary is not None:
                target = row.targets.get(backend)
                yield _figure_line(row.workload, backend, row.label, summary, target)
    yield from _scaling_rows(workloads.get("scaling", {}))
    for name, reason in results.get("skipped", {}).items():
        yield _line(name, NONE, f"skipped: {reason}", "", "", "", NONE, NONE)
    for name, error in results.get("errors", {}).items():
        yield _line(name, NONE, f"FAILED: {error}", "", "", "", NONE, NONE)


def _scaling_rows(scaling: dict[str, dict[str, dict[str, Any]]]) -> Iterator[str]:
    figures = [
        ("append_p50_ms", "append p50 ms"),
        ("append_p99_ms", "append p99 ms"),
        ("timeline_p50_ms", "timeline read p50 ms"),
        ("timeline_p99_ms", "timeline read p99 ms"),
        ("rebuild_per_s", "rebuild events/s (one per size)"),
        ("rebuild_peak_rss_mib", "rebuild peak RSS MiB (one per size)"),
    ]
    for backend, by_size in scaling.items():
        sizes = list(by_size)
        for figure, label in figures:
            for size in sizes:
                summary = by_size[size][figure]
                yield _figure_line("scaling", backend, f"{label} at {size}", summary, None)
        if len(sizes) < 2:
            continue
        smallest, largest = by_size[sizes[0]], by_size[sizes[-1]]
        for figure, label, limit in [
            ("append_p50_ms", "append p50", FLAT_LATENCY),
            ("timeline_p50_ms", "timeline read p50", FLAT_LATENCY),
            ("rebuild_peak_rss_mib", "rebuild peak RSS", FLAT_MEMORY),
        ]:
            ratio = largest[figure]["median"] / smallest[figure]["median"]
            goal, status = _status(Target(limit, at_least=False), ratio)
            flat = f"flat: {label} at {sizes[-1]} / at {sizes[0]} (medians)"
            yield _line(
                "scaling", BACKENDS[backend], flat, _number(ratio), NONE, NONE, goal, status
            )


def markdown(results: dict[str, Any]) -> str:
    """The table, preceded by one line on when, where and how much was measured."""
    header = [
        _line("workload", "backend", "figure", "median", "min", "max", "target", "status"),
        _line(*(["---"] * 8)),
    ]
    part = f" of {', '.join(results['only'])}" if results.get("only") else ""
    runs = f"{results['runs']} run{'s' if results['runs'] != 1 else ''} per figure"
    rounds = results.get("sizes", {}).get("ceiling_rounds")
    if rounds is not None and "stack_ceiling" in results["workloads"]:
        runs += f" ({rounds} round{'s' if rounds != 1 else ''} for stack_ceiling)"
    hook_rounds = results.get("sizes", {}).get("hook_rounds")
    if hook_rounds is not None and "alertmanager_http" in results["workloads"]:
        runs += f" ({hook_rounds} round{'s' if hook_rounds != 1 else ''} for alertmanager_http)"
    return (
        f"{results['mode']} run{part}, {runs}, measured"
        f" {results['measured_at'][:16].replace('T', ' ')} UTC on {results['cpus']} CPUs"
        f" (load average before: {results['load_before']}), {results['wall_seconds']:.0f}s"
        " in all.\n\n" + "\n".join([*header, *_rows(results)]) + "\n"
    )
