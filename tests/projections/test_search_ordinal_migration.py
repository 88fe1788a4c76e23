"""Migration 0014 on a database whose search documents have no ordinal yet.

Each test runs on SQLite (the FTS5 index is made again, keyed by the ordinal) and
PostgreSQL (tests/conftest.py).
"""

from __future__ import annotations

from datetime import timedelta

from alembic import command
from sqlalchemy import Engine, func, select

from application.schema_migrations import alembic_config
from application.service import IncidentService
from eventstore import EventStore
from projections.checkpoints import load_checkpoints
from projections.rebuild import rebuild_outdated
from projections.runner import default_projections
from projections.search import SearchProjection
from projections.search_tables import ORDINALS_PER_POSITION, search_documents
from projections.tables import checkpoints
from tests.clocks import FakeClock
from tests.projections.rebuild_support import BASE, make_service
from tests.projections.test_search_projection import declare, note, refs


def _migrate(engine: Engine, to: str, *, down: bool = False) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(config, to)


def _ordinals(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return list(conn.execute(select(search_documents.c.ordinal)).scalars())


def _older_release(engine: Engine) -> tuple[IncidentService, list[str]]:
    """A log and its documents, the schema taken down to 0013 and the checkpoint at the
    search model's version 1, as the release before ordinals left them."""
    service = make_service(engine, FakeClock(BASE, timedelta(seconds=30)))
    incident_id = declare(service, "Checkout returns 502")
    notes = [str(note(service, incident_id, f"quokka sighting {n}")) for n in range(5)]
    _migrate(engine, "0013", down=True)
    with engine.begin() as conn:
        conn.execute(checkpoints.update().where(checkpoints.c.name == "search").values(version=1))
    return service, notes


def _upgraded(engine: Engine) -> tuple[IncidentService, list[str], list[int]]:
    """The older release's database migrated to this one's schema, and its ordinals."""
    service, notes = _older_release(engine)
    _migrate(engine, "head")
    return service, notes, _ordinals(engine)


def test_existing_documents_are_numbered_and_found_until_the_next_start_rebuilds(
    engine: Engine,
) -> None:
    _, notes, numbered = _upgraded(engine)
    assert len(numbered) == 6
    assert len(set(numbered)) == 6
    assert sorted(r for _, r in refs(engine, "quokka")) == sorted(notes)
    with engine.connect() as conn:
        assert load_checkpoints(conn)["search"].version == 1

    # What application.bootstrap runs when a server starts.
    assert rebuild_outdated(engine, default_projections()) == ["search"]

    rebuilt = _ordinals(engine)
    assert all(ordinal % ORDINALS_PER_POSITION == 0 for ordinal in rebuilt)
    assert min(rebuilt) > max(numbered)
    assert sorted(r for _, r in refs(engine, "quokka")) == sorted(notes)
    with engine.connect() as conn:
        assert load_checkpoints(conn)["search"].version == SearchProjection.version


def test_an_append_before_that_start_gets_an_ordinal_above_the_numbered_ones(
    engine: Engine,
) -> None:
    older, _, numbered = _upgraded(engine)
    clock = FakeClock(older.now())
    service = IncidentService(EventStore(engine, clock=clock), older.runner, clock=clock)
    incident_id = declare(service, "Payments time out")
    later = note(service, incident_id, "quokka again")

    assert min(set(_ordinals(engine)) - set(numbered)) > max(numbered)
    assert ("note", str(later)) in refs(engine, "again")


def test_the_downgrade_keys_the_index_by_document_again(engine: Engine) -> None:
    _older_release(engine)
    _migrate(engine, "head")
    _migrate(engine, "0013", down=True)
    with engine.connect() as conn:
        columns = {
            column["name"] for column in engine.dialect.get_columns(conn, search_documents.name)
        }
        assert "ordinal" not in columns
        if engine.dialect.name == "sqlite":
            found = conn.exec_driver_sql(
                "SELECT count(*) FROM search_documents_fts WHERE search_documents_fts MATCH 'quokka'"
            ).scalar_one()
            assert found == 5
        else:
            assert (
                conn.execute(select(func.count()).select_from(search_documents)).scalar_one() == 6
            )
