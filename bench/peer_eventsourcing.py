"""The same workloads through the ``eventsourcing`` library (the ``bench`` extra).

Appends: an Aggregate saved after each new event, so one event per transaction, on the
library's SQLite and PostgreSQL persistence in the benchmark's own database. Its SQLite
connections get the ``synchronous`` level our engine uses (the library leaves SQLite's
default, FULL); on PostgreSQL both run on the same server with its own settings.

Projection: a Projection that keeps one row per aggregate (events seen, last version)
and its tracking position, written in one transaction per event as the library does.
On PostgreSQL its ProjectionRunner follows the application through LISTEN/NOTIFY; its
SQLite recorder offers no subscription, so there the same Projection is fed from the
recorder's ``select_notifications`` pages, which is what a subscription iterates over.
"""

from __future__ import annotations

import threading
import time
from abc import abstractmethod
from collections.abc import Iterator
from contextlib import AbstractContextManager, closing, contextmanager
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import InfrastructureFactory, Tracking, TrackingRecorder
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.projection import Projection, ProjectionRunner
from eventsourcing.sqlite import (
    SQLiteConnection,
    SQLiteConnectionPool,
    SQLiteFactory,
    SQLiteTrackingRecorder,
)
from eventsourcing.utils import EnvType
from psycopg.sql import SQL, Identifier
from sqlalchemy.engine import make_url

from bench.raw_driver import SQLITE_SYNCHRONOUS, is_sqlite, sqlite_path

EVENTS_PER_AGGREGATE = 100
"""Events per aggregate when preloading the projection's input (saved in one go)."""
NOTE = "observation: p99 at 1234 ms after the rollback of deploy 4812"


class BenchIncident(Aggregate):
    """An incident that only collects notes: the smallest aggregate with a real event."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.notes = 0

    @event("NoteAdded")
    def add_note(self, text: str) -> None:
        self.notes += 1


class Incidents(Application[UUID]):
    name = "BenchIncidents"


# --- the same durability as our engine on SQLite -------------------------------------


class _SyncPool(SQLiteConnectionPool):
    def _create_connection(self) -> SQLiteConnection:
        connection = super()._create_connection()
        connection._sqlite_conn.execute(f"PRAGMA synchronous={SQLITE_SYNCHRONOUS}")
        return connection


class SyncNormalSQLiteFactory(SQLiteFactory):
    """The library's SQLite persistence with our engine's ``synchronous`` level."""

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        old = self.datastore.pool
        self.datastore.pool = _SyncPool(db_name=old.db_name, lock_timeout=old.lock_timeout)
        old.close()


def environment(url: str) -> EnvType:
    """The library's configuration for the benchmark's database."""
    if is_sqlite(url):
        return {
            "PERSISTENCE_MODULE": f"{__name__}:{SyncNormalSQLiteFactory.__name__}",
            "SQLITE_DBNAME": sqlite_path(url),
        }
    parsed = make_url(url)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": parsed.database or "",
        "POSTGRES_HOST": parsed.host or "127.0.0.1",
        "POSTGRES_PORT": str(parsed.port or 5432),
        "POSTGRES_USER": parsed.username or "postgres",
        "POSTGRES_PASSWORD": parsed.password or "",
    }


def application(url: str) -> AbstractContextManager[Incidents]:
    """The library's application on the benchmark's database, closed on exit."""
    return application_from(environment(url))


def sqlite_synchronous(app: Incidents) -> str:
    """The ``synchronous`` level the library's SQLite connections really use."""
    datastore: Any = app.factory.datastore  # type: ignore[attr-defined]
    with datastore.transaction(commit=False) as cursor:
        cursor.execute("PRAGMA synchronous")
        level = cursor.fetchone()[0]
    return {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}.get(level, str(level))


# --- appends -------------------------------------------------------------------------


def append_one_per_transaction(app: Incidents, count: int, warmup: int) -> list[float]:
    """Save an aggregate after each new event; seconds per save (warm-up saves excluded)."""
    incident = BenchIncident("Checkout returns 502")
    app.save(incident)
    latencies = []
    for number in range(warmup + count):
        incident.add_note(NOTE)
        started = time.perf_counter()
        app.save(incident)
        if number >= warmup:
            latencies.append(time.perf_counter() - started)
    return latencies


# --- the projection ------------------------------------------------------------------


class StreamCountsView(TrackingRecorder):
    """One row per aggregate: how many of its events were seen and the last version."""

    @abstractmethod
    def count(self, aggregate_id: str, version: int, tracking: Tracking) -> None: ...


class SQLiteStreamCounts(SQLiteTrackingRecorder, StreamCountsView):
    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            "CREATE TABLE IF NOT EXISTS stream_counts ("
            "aggregate_id TEXT PRIMARY KEY, events INTEGER NOT NULL, version INTEGER NOT NULL)",
        ]

    def count(self, aggregate_id: str, version: int, tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(
                "INSERT INTO stream_counts VALUES (?, 1, ?) ON CONFLICT (aggregate_id)"
                " DO UPDATE SET events = events + 1, version = excluded.version",
                (aggregate_id, version),
            )
            self._insert_tracking(cursor, tracking)


class PostgresStreamCounts(PostgresTrackingRecorder, StreamCountsView):
    def __init__(self, datastore: Any, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self._table = Identifier(self.datastore.schema, "stream_counts")
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {0} ("
                "aggregate_id text PRIMARY KEY, events bigint NOT NULL, version bigint NOT NULL)"
            ).format(self._table)
        )
        self._upsert = SQL(
            "INSERT INTO {0} AS t VALUES (%s, 1, %s) ON CONFLICT (aggregate_id)"
            " DO UPDATE SET events = t.events + 1, version = excluded.version"
        ).format(self._table)

    def count(self, aggregate_id: str, version: int, tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(self._upsert, (aggregate_id, version))
            self._insert_tracking(cursor, tracking)


class StreamCounts(Projection[StreamCountsView]):
    name = "streamcounts"
    last_id = 0
    """The notification id whose processing ends the measurement."""
    finished = threading.Event()
    finished_at = 0.0

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.count(str(domain_event.originator_id), domain_event.originator_version, tracking)
        if tracking.notification_id >= StreamCounts.last_id:
            StreamCounts.finished_at = time.perf_counter()
            StreamCounts.finished.set()


def preload(app: Incidents, events: int) -> int:
    """About ``events`` events in aggregates of EVENTS_PER_AGGREGATE; the last notification id."""
    for _ in range(max(1, events // EVENTS_PER_AGGREGATE)):
        incident = BenchIncident("Checkout returns 502")
        for _ in range(EVENTS_PER_AGGREGATE - 1):
            incident.add_note(NOTE)
        app.save(incident)
    return app.recorder.max_notification_id() or 0


def project(url: str, last_id: int, timeout: float) -> float:
    """Seconds the library takes to project notifications 1..last_id."""
    StreamCounts.last_id = last_id
    StreamCounts.finished.clear()
    env = environment(url)
    started = time.perf_counter()
    if is_sqlite(url):
        _project_by_pages(env, last_id)
    else:
        runner: ProjectionRunner[Incidents, StreamCountsView] = ProjectionRunner(
            application_class=Incidents,
            projection_class=StreamCounts,
            view_class=PostgresStreamCounts,
            env=env,
        )
        deadline = started + timeout
        with runner:  # leaving it re-raises an error of the runner's processing thread
            while not StreamCounts.finished.wait(0.2) and not runner.is_interrupted.is_set():
                if time.perf_counter() > deadline:
                    raise TimeoutError(f"the projection did not reach {last_id} in {timeout}s")
        if not StreamCounts.finished.is_set():
            raise RuntimeError("the projection runner stopped before the last event")
    return StreamCounts.finished_at - started


def _project_by_pages(env: EnvType, last_id: int, page: int = 500) -> None:
    factory = InfrastructureFactory.construct(env=env)
    view = factory.tracking_recorder(SQLiteStreamCounts)
    assert isinstance(view, SQLiteStreamCounts)
    projection = StreamCounts(view=view)
    with closing(factory), application_from(env) as app:
        start = (view.max_tracking_id(app.name) or 0) + 1
        while start <= last_id:
            notifications = app.recorder.select_notifications(start=start, limit=page)
            for notification in notifications:
                tracking = Tracking(app.name, notification.id)
                projection.process_event(app.mapper.to_domain_event(notification), tracking)
            start = notifications[-1].id + 1


@contextmanager
def application_from(env: EnvType) -> Iterator[Incidents]:
    app = Incidents(env=env)
    try:
        yield app
    finally:
        app.close()
