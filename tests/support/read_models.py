"""Read models compared across tests: snapshots of every table, rebuild comparison, catch-up.

Everything here works over ``default_projections()`` and every table they declare, so
read models added later are compared without touching the tests that use it.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import Engine, Table, select

from eventstore import EventStore
from eventstore.records import RecordedEvent
from projections.base import Projection
from projections.checkpoints import load_checkpoints
from projections.runner import ProjectionRunner, default_projections
from projections.status import statuses

Key = tuple[Any, ...]
Rows = dict[str, dict[Key, dict[str, Any]]]
"""Table name -> primary key -> row."""


def read_model_tables(projections: Sequence[Projection] | None = None) -> list[Table]:
    """Every table of every projection (default: the service's), once each."""
    found: dict[str, Table] = {}
    for projection in projections if projections is not None else default_projections():
        for table in projection.tables:
            found.setdefault(table.name, table)
    return list(found.values())


def snapshot(engine: Engine) -> Rows:
    """Every row of every read-model table, keyed by primary key."""
    rows: Rows = {}
    with engine.connect() as conn:
        for table in read_model_tables():
            keys = [column.name for column in table.primary_key.columns]
            assert keys, f"{table.name} has no primary key to compare rows by"
            by_key: dict[Key, dict[str, Any]] = {}
            for row in conn.execute(select(table)):
                mapping = dict(row._mapping)
                key = tuple(mapping[k] for k in keys)
                assert key not in by_key, f"{table.name}: primary key {key} twice"
                by_key[key] = mapping
            rows[table.name] = by_key
    return rows


def assert_same_rows(expected: Rows, actual: Rows, label: str = "") -> None:
    """Equal table for table and row for row; the message names the first difference."""
    assert sorted(actual) == sorted(expected), f"{label}different tables"
    for table, want in expected.items():
        got = actual[table]
        missing = sorted((k for k in want if k not in got), key=str)[:5]
        extra = sorted((k for k in got if k not in want), key=str)[:5]
        assert (missing, extra) == ([], []), (
            f"{label}{table}: {len(want)} rows expected, {len(got)} found;"
            f" missing e.g. {missing}, unexpected e.g. {extra}"
        )
        for key, row in want.items():
            assert got[key] == row, f"{label}{table} row {key} differs:\n{got[key]}\n!=\n{row}"


def checkpoint_positions(engine: Engine) -> dict[str, tuple[int, int]]:
    """name -> (version, position) of every stored checkpoint."""
    with engine.connect() as conn:
        return {n: (cp.version, cp.position) for n, cp in load_checkpoints(conn).items()}


def assert_caught_up(engine: Engine) -> None:
    """Every projection has a checkpoint at the head of the log, stamped with its code version."""
    head = EventStore(engine).head_position()
    expected = {p.name: (p.version, head) for p in default_projections()}
    assert checkpoint_positions(engine) == expected


def assert_equals_rebuild(engine: Engine, label: str = "") -> Rows:
    """The read models as they are equal a rebuild of all of them from the log."""
    assert_caught_up(engine)
    before = snapshot(engine)
    head = EventStore(engine).head_position()
    assert ProjectionRunner().rebuild(engine) == head
    assert_same_rows(snapshot(engine), before, label)
    assert_caught_up(engine)
    return before


def wait_caught_up(engine: Engine, timeout: float) -> None:
    """Wait until no projection lags behind the head of the log; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        found = statuses(engine, default_projections())
        if all(s.lag == 0 and not s.outdated for s in found):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"projections did not catch up in {timeout}s: {found}")
        time.sleep(0.02)


def read_log(engine: Engine) -> list[RecordedEvent]:
    store = EventStore(engine)
    recorded: list[RecordedEvent] = []
    while batch := store.read_all(recorded[-1].position if recorded else 0, 5000):
        recorded.extend(batch)
    return recorded


# Events that make exactly one timeline entry keyed by their event id.
ENTRY_PER_EVENT = {
    "incident.declared",
    "incident.acknowledged",
    "incident.status_changed",
    "incident.severity_changed",
}


def assert_timeline_exactly_once(engine: Engine) -> None:
    """Every event that makes a timeline entry has exactly one, every note exactly once.

    Only the event types known here are checked individually; every entry, whatever its
    kind, must point at an event of the log and of its incident.
    """
    tables = {t.name: t for t in read_model_tables()}
    if "timeline_entries" not in tables:
        return
    table = tables["timeline_entries"]
    log = read_log(engine)
    by_position = {r.position: r for r in log}
    expected: dict[UUID, int] = {}
    redacted: set[UUID] = set()
    for r in log:
        if r.type in ENTRY_PER_EVENT:
            expected[r.event_id] = r.position
        elif r.type == "timeline.note_added":
            expected[UUID(r.data["note_id"])] = r.position
        elif r.type == "timeline.note_redacted":
            redacted.add(UUID(r.data["note_id"]))
    with engine.connect() as conn:
        entries = [
            dict(row._mapping)
            for row in conn.execute(
                select(table.c.entry_id, table.c.incident_id, table.c.position, table.c.kind)
            )
        ]
    counts = Counter(row["entry_id"] for row in entries)
    assert [k for k, n in counts.items() if n > 1] == [], "duplicate timeline entries"
    found = {row["entry_id"]: row for row in entries}
    missing = [(k, p) for k, p in expected.items() if k not in found]
    assert missing == [], f"{len(missing)} timeline entries missing, e.g. {missing[:5]}"
    # A redacted note keeps its entry, as a placeholder without its text.
    shown_redacted = sorted((k for k in redacted if found[k]["kind"] != "note_redacted"), key=str)
    assert shown_redacted == [], f"redacted notes still shown: {shown_redacted[:5]}"
    for entry_id, position in expected.items():
        assert found[entry_id]["position"] == position, f"entry {entry_id} at the wrong position"
    for row in entries:
        source = by_position.get(row["position"])
        assert source is not None, f"entry {row['entry_id']} points at no event of the log"
        assert source.stream_id == f"incident-{row['incident_id']}"
