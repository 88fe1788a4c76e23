"""Migration 0015 on a log whose hashes are still in ``event_chain``: each hash moves into
its event's row as it was stored (a log changed before the upgrade still fails), the
table goes, and the log goes on chaining. Both backends (tests/conftest.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from alembic import command
from sqlalchemy import Connection, Engine, inspect, select, text

from application.schema_migrations import alembic_config
from eventstore import EventStore, NewEvent
from eventstore.chain_verify import CHANGED, verify_chain
from eventstore.schema import events

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _migrate(engine: Engine, to: str, *, down: bool = False) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(config, to)


def _fill(store: EventStore, count: int) -> None:
    for n in range(count):
        event = NewEvent(uuid4(), "Noted", {"n": n}, T0, metadata={"actor": "alice"})
        store.append(f"incident-{n % 3}", [event], None)


def _hashes(engine: Engine) -> list[tuple[int, str]]:
    query = select(events.c.position, events.c.chain_hash).order_by(events.c.position)
    with engine.connect() as conn:
        return [(int(p), str(h)) for p, h in conn.execute(query)]


def _next_drawn(conn: Connection) -> int:
    """The position the database would give the next row inserted without one."""
    if conn.dialect.name == "postgresql":
        drawn = "SELECT nextval(pg_get_serial_sequence('events', 'position'))"
        return int(conn.exec_driver_sql(drawn).scalar_one())
    counter = "SELECT seq FROM sqlite_sequence WHERE name = 'events'"
    return int(conn.exec_driver_sql(counter).scalar_one()) + 1


def test_the_stored_hashes_move_into_the_events_rows(store: EventStore) -> None:
    engine = store.engine
    _fill(store, 9)
    before = _hashes(engine)

    _migrate(engine, "0014", down=True)
    with engine.connect() as conn:
        assert "chain_hash" not in {c["name"] for c in inspect(conn).get_columns("events")}
        kept = conn.execute(text("SELECT position, chain_hash FROM event_chain ORDER BY 1"))
        assert [(int(p), str(h)) for p, h in kept] == before
        # The release before lets the database number events: it must go on after the head.
        assert _next_drawn(conn) == before[-1][0] + 1
    _migrate(engine, "head")

    assert _hashes(engine) == before
    with engine.connect() as conn:
        assert "event_chain" not in inspect(conn).get_table_names()
        assert verify_chain(conn).ok
    _fill(store, 2)
    with engine.connect() as conn:
        verdict = verify_chain(conn)
    assert verdict.ok, verdict.reason
    assert verdict.events == 11


def test_a_hash_changed_before_the_upgrade_still_fails_after_it(store: EventStore) -> None:
    engine = store.engine
    _fill(store, 6)
    _migrate(engine, "0014", down=True)
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        # As a database owner could: the table's refusal lifted for one statement.
        if postgres:
            conn.exec_driver_sql("ALTER TABLE event_chain DISABLE TRIGGER USER")
        else:
            conn.exec_driver_sql("DROP TRIGGER event_chain_refuse_update")
        conn.exec_driver_sql(f"UPDATE event_chain SET chain_hash = '{'0' * 64}' WHERE position = 4")
        if postgres:
            conn.exec_driver_sql("ALTER TABLE event_chain ENABLE TRIGGER USER")
        else:
            conn.exec_driver_sql(
                "CREATE TRIGGER event_chain_refuse_update BEFORE UPDATE ON event_chain"
                " BEGIN SELECT RAISE(ABORT, 'event_chain is append-only: UPDATE is refused'); END"
            )
    _migrate(engine, "head")

    with engine.connect() as conn:
        verdict = verify_chain(conn)
    assert (verdict.bad_position, verdict.reason) == (4, CHANGED)
    assert verdict.head_position == 3
