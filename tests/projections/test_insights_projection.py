"""The insights read model: its rows say what the summary, relations and board say; a rebuild
(in one process or in partitions) gives the same rows; migration 0008 fills it from the
log. Each test runs on SQLite and PostgreSQL (tests/conftest.py)."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest
from alembic import command
from hypothesis import HealthCheck, given, settings
from sqlalchemy import Engine, select

from application.schema_migrations import alembic_config
from application.service import IncidentService
from domain import commands as c
from domain.values import ActionKind, Severity
from eventstore import EventStore
from projections.checkpoints import load_checkpoints
from projections.documents.incident import IncidentSummary
from projections.insight_figures import FIGURES
from projections.insight_tables import action_item_insights, incident_insights
from projections.rebuild import rebuild, rebuild_outdated
from projections.runner import ProjectionRunner, default_projections
from projections.tables import action_items, incident_summaries
from tests.clocks import FakeClock
from tests.conftest import NewDatabase
from tests.support.insight_histories import (
    META,
    NOW,
    IncidentPlan,
    duplicates,
    new_service,
    plans,
    write,
)

SAME_AS_SUMMARY = (
    "kind",
    "severity",
    "services",
    "labels",
    "labels_text",
    "status",
    "started_at",
    "detected_at",
    "acknowledged_at",
    "mitigated_at",
    "resolved_at",
)
"""Columns holding exactly what the summary holds."""

Rows = dict[str, dict[Any, dict[str, Any]]]


def insight_rows(engine: Engine) -> Rows:
    with engine.connect() as conn:
        return {
            incident_insights.name: {
                row.incident_id: dict(row._mapping)
                for row in conn.execute(select(incident_insights))
            },
            action_item_insights.name: {
                (row.incident_id, row.item_id): dict(row._mapping)
                for row in conn.execute(select(action_item_insights))
            },
        }


def status_times(store: EventStore) -> dict[tuple[UUID, UUID], dict[str, Any]]:
    """(incident, item) -> when it last went to each status, from the log."""
    found: dict[tuple[UUID, UUID], dict[str, Any]] = {}
    for event in store.read_all(0, 100_000):
        if event.type == "action_item.status_changed":
            key = (UUID(event.stream_id.removeprefix("incident-")), UUID(event.data["item_id"]))
            found.setdefault(key, {})[event.data["to_status"]] = event.recorded_at
    return found


def assert_rows_agree(engine: Engine, store: EventStore) -> None:
    """Each incident's row is its summary's, with duplicate_of from the relations; each item's
    row is the board's, with its incident's current severity and its done and closed times."""
    rows = insight_rows(engine)
    with engine.connect() as conn:
        summaries = {
            r.incident_id: dict(r._mapping) for r in conn.execute(select(incident_summaries))
        }
        board = {r.item_id: dict(r._mapping) for r in conn.execute(select(action_items))}
        twins = duplicates(conn)
    incidents = rows[incident_insights.name]
    assert incidents.keys() == summaries.keys()
    for incident_id, row in incidents.items():
        summary = summaries[incident_id]
        assert {k: row[k] for k in SAME_AS_SUMMARY} == {k: summary[k] for k in SAME_AS_SUMMARY}
        assert row["duplicate_of"] == twins.get(incident_id)
        document = IncidentSummary.from_row(summary)
        for name in FIGURES:
            stored = row[f"{name}_us"]
            assert (None if stored is None else stored / 1e6) == getattr(
                document, f"{name}_seconds"
            )
    items = rows[action_item_insights.name]
    assert sorted(item_id for _, item_id in items) == sorted(board)
    times = status_times(store)
    for (incident_id, item_id), row in items.items():
        on_board = board[item_id]
        assert on_board["incident_id"] == incident_id
        for column in ("kind", "owner", "status", "due_date", "created_at"):
            assert row[column] == on_board[column], column
        assert row["severity"] == summaries[incident_id]["severity"]
        went = times.get((incident_id, item_id), {})
        done = went["done"] if row["status"] == "done" else None
        closed = went[row["status"]] if row["status"] in ("done", "wont_do") else None
        assert (row["done_at"], row["closed_at"]) == (done, closed)
        if done is None:
            assert row["time_to_done_us"] is None
        else:
            assert row["time_to_done_us"] / 1e6 == (done - row["created_at"]).total_seconds()


def _ids(plan: list[IncidentPlan]) -> list[UUID]:
    return [uuid4() for _ in plan]


@given(plan=plans())
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_rows_say_what_the_other_read_models_say_and_a_rebuild_gives_them_again(
    backend: str, new_database: NewDatabase, plan: list[IncidentPlan]
) -> None:
    engine = new_database(backend)
    service = new_service(engine)
    write(service, plan, _ids(plan))

    assert_rows_agree(engine, service.store)
    inline = insight_rows(engine)
    ProjectionRunner().rebuild(engine)
    assert insight_rows(engine) == inline


@given(plan=plans(max_incidents=10))
@settings(
    max_examples=2,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_a_rebuild_in_partitions_gives_the_inline_rows(
    backend: str, new_database: NewDatabase, plan: list[IncidentPlan]
) -> None:
    engine = new_database(backend)
    service = new_service(engine, seed=3)
    write(service, plan, _ids(plan))
    inline = insight_rows(engine)

    rebuild(engine, default_projections(), processes=2, parallel_from=0, batch_size=5)

    assert insight_rows(engine) == inline


def test_item_ids_repeat_across_incidents_and_follow_their_incidents_severity(
    engine: Engine,
) -> None:
    service = new_service(engine)
    first, second, item = uuid4(), uuid4(), uuid4()
    for incident_id, severity in ((first, Severity.SEV2), (second, Severity.SEV4)):
        service.execute(
            c.DeclareIncident(
                incident_id=incident_id, at=service.now(), title="t", severity=severity
            ),
            META,
        )
        service.execute(
            c.AddActionItem(
                incident_id=incident_id,
                item_id=item,
                at=service.now(),
                title="Fix",
                kind=ActionKind.CORRECTIVE,
                owner="alice",
                due_date=NOW.date(),
            ),
            META,
        )
    service.execute(
        c.ChangeSeverity(incident_id=first, at=service.now(), severity=Severity.SEV1), META
    )

    rows = insight_rows(engine)[action_item_insights.name]
    assert {key: row["severity"] for key, row in rows.items()} == {
        (first, item): "SEV1",
        (second, item): "SEV4",
    }


# --- migration 0008 on a database with a log --------------------------------------------------


def _migrate(engine: Engine, to: str, *, down: bool = False) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(config, to)


def _older_release(engine: Engine) -> IncidentService:
    """A database as the release before insights left it: a log, and the schema of 0007.

    The log is written first and the schema taken down after: this release's appends
    write the hash chain of migration 0011, which the downgrade removes (and the upgrade
    computes again from the events)."""
    without = [p for p in default_projections() if p.name != "insights"]
    clock = FakeClock(NOW)
    service = IncidentService(
        EventStore(engine, clock=clock), ProjectionRunner(without), clock=clock
    )
    for number in range(3):
        incident_id = uuid4()
        at = service.now()
        service.execute(
            c.DeclareIncident(incident_id=incident_id, at=at, title=f"n{number}", severity="SEV3"),
            META,
        )
        service.execute(c.AcknowledgeIncident(incident_id=incident_id, at=service.now()), META)
    _migrate(engine, "0007", down=True)
    return service


def test_an_empty_database_gets_no_insights_checkpoint(engine: Engine) -> None:
    with engine.connect() as conn:
        assert "insights" not in load_checkpoints(conn)


def test_the_next_start_fills_the_new_read_model_from_the_log(engine: Engine) -> None:
    service = _older_release(engine)
    _migrate(engine, "head")
    with engine.connect() as conn:
        checkpoint = load_checkpoints(conn)["insights"]
    assert (checkpoint.version, checkpoint.position) == (0, 0)  # outdated: rebuilt at start

    # What application.bootstrap runs when a server starts.
    assert rebuild_outdated(engine, default_projections()) == ["insights"]

    assert len(insight_rows(engine)[incident_insights.name]) == 3
    assert_rows_agree(engine, service.store)
    with engine.connect() as conn:
        checkpoint = load_checkpoints(conn)["insights"]
    assert (checkpoint.version, checkpoint.position) == (1, service.store.head_position())


def test_an_append_before_that_start_catches_the_new_read_model_up(engine: Engine) -> None:
    older = _older_release(engine)
    _migrate(engine, "head")
    clock = FakeClock(older.now())
    service = IncidentService(EventStore(engine, clock=clock), ProjectionRunner(), clock=clock)
    service.execute(
        c.DeclareIncident(incident_id=uuid4(), at=service.now(), title="new", severity="SEV1"),
        META,
    )

    assert len(insight_rows(engine)[incident_insights.name]) == 4
    assert_rows_agree(engine, service.store)
    assert rebuild_outdated(engine, default_projections()) == []


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_downgrade_removes_the_tables_and_the_checkpoint(engine: Engine) -> None:
    _older_release(engine)
    _migrate(engine, "head")
    _migrate(engine, "0007", down=True)
    with engine.connect() as conn:
        assert "insights" not in load_checkpoints(conn)
        assert not engine.dialect.has_table(conn, incident_insights.name)
