"""A rebuild drops the live tables it replaces without zeroing their pages on SQLite, and
leaves the connection zeroing deleted rows again, whatever happened in between.

``secure_delete`` is a setting of the connection, which goes back to the pool after the
rebuild: a connection left without it would let later redactions linger on disk.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Column, Connection, Engine, Integer, MetaData, Table, text

from eventstore.engine import WRITE
from projections.rebuild import _drop_replaced


def _secure_delete(conn: Connection) -> int:
    return int(conn.exec_driver_sql("PRAGMA secure_delete").scalar_one())


def _table(name: str) -> Table:
    return Table(name, MetaData(), Column("id", Integer, primary_key=True))


def test_the_replaced_table_is_dropped_and_secure_delete_is_on_again(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("secure_delete is SQLite's")
    replaced = _table("replaced_by_a_rebuild")
    seen: list[int] = []
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        replaced.create(conn)
        conn.execute(replaced.insert(), [{"id": n} for n in range(100)])
        seen.append(_secure_delete(conn))
        _drop_replaced(conn, replaced)
        seen.append(_secure_delete(conn))
        exists = conn.execute(
            text("SELECT count(*) FROM sqlite_master WHERE name = :name"),
            {"name": replaced.name},
        ).scalar_one()
    assert seen == [1, 1]
    assert exists == 0


def test_secure_delete_is_on_again_when_the_drop_fails(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("secure_delete is SQLite's")
    with engine.connect().execution_options(**WRITE) as conn:
        with pytest.raises(Exception, match="no such table"), conn.begin():
            _drop_replaced(conn, _table("never_created"))
        assert _secure_delete(conn) == 1
