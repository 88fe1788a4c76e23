"""Prometheus metrics: requests and latency by route and status, appends, projection lag,
open incidents and overdue action items."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine

from projections.base import Projection
from projections.open_work import open_incidents_by_severity, overdue_action_items
from projections.status import statuses


class ProjectionLag(Collector):
    """Reads every projection's lag when scraped, so the figure is never stale."""

    def __init__(self, engine: Engine, projections: Sequence[Projection]) -> None:
        self.engine = engine
        self.projections = projections

    def collect(self) -> Iterable[GaugeMetricFamily]:
        lag = GaugeMetricFamily(
            "incidents_projection_lag_events",
            "Events in the log that a projection has not applied yet.",
            labels=["projection"],
        )
        position = GaugeMetricFamily(
            "incidents_projection_position",
            "The last log position a projection applied.",
            labels=["projection"],
        )
        for status in statuses(self.engine, self.projections):
            lag.add_metric([status.name], status.lag)
            position.add_metric([status.name], status.position)
        yield lag
        yield position


class OpenWork(Collector):
    """Open incidents per severity and overdue action items, read when scraped, so an
    existing Grafana can chart and alert on them."""

    def __init__(self, engine: Engine, now: Callable[[], datetime]) -> None:
        self.engine = engine
        self.now = now

    def collect(self) -> Iterable[GaugeMetricFamily]:
        incidents = GaugeMetricFamily(
            "incidents_open",
            "Incidents not resolved or closed, by severity.",
            labels=["severity"],
        )
        overdue = GaugeMetricFamily(
            "incident_action_items_overdue",
            "Action items past their due date (the service's UTC date) and not finished.",
        )
        with self.engine.connect() as conn:
            for severity, count in open_incidents_by_severity(conn).items():
                incidents.add_metric([severity], count)
            overdue.add_metric([], overdue_action_items(conn, self.now().date()))
        yield incidents
        yield overdue


class Metrics:
    """One registry per application, so several apps in one process never collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "incidents_http_requests",
            "HTTP requests by method, route and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "incidents_http_request_duration_seconds",
            "HTTP request latency by method and route.",
            ["method", "route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=self.registry,
        )
        self.events_appended = Counter(
            "incidents_events_appended",
            "Events appended to the log by this process.",
            registry=self.registry,
        )

    def watch_projections(self, engine: Engine, projections: Sequence[Projection]) -> None:
        """Report each projection's lag and position, read from the database when scraped."""
        self.registry.register(ProjectionLag(engine, projections))

    def watch_open_work(self, engine: Engine, now: Callable[[], datetime]) -> None:
        """Report open incidents and overdue action items, read when scraped."""
        self.registry.register(OpenWork(engine, now))

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)
