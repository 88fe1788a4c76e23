"""How much each workload does in a quick and in a full run of the suite."""

from __future__ import annotations

from dataclasses import dataclass

CEILING_CONNECTIONS = (16, 64)
"""wrk's connections in the stack-ceiling comparison, in quick and full runs alike."""
HOOK_CONNECTIONS = (16, 64)
"""wrk's connections sending Alertmanager notifications (bench/alertmanager_http.py)."""


@dataclass(frozen=True)
class Sizes:
    runs: int
    appends: int
    """One-event appends per run and contender."""
    writer_appends: int
    """Appends per writer (of 8) per run."""
    peer_events: int
    """Events each side projects in the comparison with ``eventsourcing``."""
    rebuild_events: int
    """Events in the log that is rebuilt and read raw."""
    http_events: int
    """Events preloaded (and projected) before the HTTP server starts."""
    http_seconds: float
    http_warmup: float
    timeline_entries: int
    """Entries in the timeline every HTTP client reads."""
    notifications: int
    """Alertmanager notifications per phase."""
    scaling: tuple[int, ...]
    """Events stored at each step of the scaling workload."""
    scaling_samples: int
    """Appends and timeline reads per run at each step."""
    transfer_events: int
    """Events exported and imported back (bench/transfer.py)."""
    ceiling_rounds: int
    """Rounds of the stack-ceiling comparison (bench/ceiling_suite.py), each with both sides."""
    ceiling_seconds: int
    """wrk's window per side, connection count and round (whole seconds, as wrk takes them)."""
    hook_rounds: int
    """Rounds of Alertmanager notifications over HTTP (bench/alertmanager_http.py)."""
    hook_seconds: int
    """wrk's window per connection count and round there (whole seconds)."""
    insights_incidents: int = 100_000
    """Incidents over a year in the insights read model (bench/insights.py)."""
    insights_reads: int = 20
    """Insights answers (and reference counts) timed per run."""
    search_events: int = 1_000_000
    """Events in the log searched and rebuilt with and without search (bench/search.py)."""
    search_queries: int = 25
    """Requests timed per query and run there."""
    webhook_events: int = 2000
    """Events delivered to one and to ten subscriptions per run (bench/webhooks.py)."""
    webhook_appends: int = 200
    """Appends whose commit-to-delivery delay is measured per run."""


QUICK = Sizes(
    runs=1,
    appends=200,
    writer_appends=20,
    peer_events=200,
    rebuild_events=3000,
    http_events=1000,
    http_seconds=1.0,
    http_warmup=0.3,
    timeline_entries=50,
    notifications=5,
    scaling=(1000, 10_000),
    scaling_samples=50,
    transfer_events=1000,
    ceiling_rounds=1,
    ceiling_seconds=2,
    hook_rounds=1,
    hook_seconds=2,
    insights_incidents=5000,
    insights_reads=10,
    search_events=3000,
    search_queries=10,
    webhook_events=200,
    webhook_appends=30,
)

FULL = Sizes(
    runs=3,
    appends=5000,
    writer_appends=1000,
    peer_events=5000,
    rebuild_events=1_000_000,
    http_events=1_000_000,
    http_seconds=10.0,
    http_warmup=2.0,
    timeline_entries=500,
    notifications=500,
    scaling=(10_000, 100_000, 1_000_000),
    scaling_samples=1000,
    transfer_events=100_000,
    ceiling_rounds=3,
    ceiling_seconds=10,
    hook_rounds=3,
    hook_seconds=10,
)
