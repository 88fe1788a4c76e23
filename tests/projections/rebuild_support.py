"""Shared by the rebuild tests: an inline-projecting service, and every read model's rows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select

from application.service import IncidentService
from eventstore import EventStore
from projections.checkpoints import load_checkpoints
from projections.runner import ProjectionRunner, default_projections
from tests.clocks import FakeClock

BASE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

Snapshot = dict[str, list[dict[str, Any]]]
"""Table name -> its rows, sorted by primary key."""


def make_service(engine: Engine, clock: FakeClock) -> IncidentService:
    """A service that keeps every read model up to date in each command's transaction."""
    return IncidentService(EventStore(engine, clock=clock), ProjectionRunner(), clock=clock)


def snapshot(engine: Engine) -> Snapshot:
    """Every row of every table of every default projection, sorted by primary key."""
    result: Snapshot = {}
    with engine.connect() as conn:
        for projection in default_projections():
            for table in projection.tables:
                keys = [column.name for column in table.primary_key.columns]
                rows = [dict(row._mapping) for row in conn.execute(select(table))]
                result[table.name] = sorted(rows, key=lambda row: [str(row[k]) for k in keys])
    return result


def assert_rebuild_equals_incremental(engine: Engine) -> Snapshot:
    incremental = snapshot(engine)
    head = EventStore(engine).head_position()
    assert ProjectionRunner().rebuild(engine) == head
    rebuilt = snapshot(engine)
    assert sorted(rebuilt) == sorted(incremental)
    for table, rows in incremental.items():
        assert len(rebuilt[table]) == len(rows), f"{table}: different number of rows"
        for want, got in zip(rows, rebuilt[table], strict=True):
            assert got == want, f"{table}: row differs after rebuild"
    with engine.connect() as conn:
        positions = {name: cp.position for name, cp in load_checkpoints(conn).items()}
    assert positions == {p.name: head for p in default_projections()}
    return incremental
