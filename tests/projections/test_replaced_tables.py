"""A rebuild drops the live tables it replaces without zeroing their pages on SQLite, and
leaves the connection zeroing deleted rows again, whatever happened in between; ``scrub``
then overwrites those pages (the free list) with zeros.

``secure_delete`` is a setting of the connection, which goes back to the pool after the
rebuild: a connection left without it would let later redactions linger on disk.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Column, Connection, Engine, Integer, MetaData, Table, Text, text

from application.erasure_scrub import zero_free_pages
from eventstore.engine import WRITE, create_engine
from projections.replaced_tables import drop_unzeroed

MARKER = "qzvjxk-replaced-row"
"""Text written nowhere else: its bytes in the file can only come from the dropped rows."""


def _secure_delete(conn: Connection) -> int:
    return int(conn.exec_driver_sql("PRAGMA secure_delete").scalar_one())


def _table(name: str) -> Table:
    return Table(name, MetaData(), Column("id", Integer, primary_key=True), Column("body", Text))


def _exists(conn: Connection, name: str) -> bool:
    found = conn.execute(
        text("SELECT count(*) FROM sqlite_master WHERE name = :name"), {"name": name}
    ).scalar_one()
    return bool(found)


def test_the_replaced_table_is_dropped_and_secure_delete_is_on_again(engine: Engine) -> None:
    replaced = _table("replaced_by_a_rebuild")
    seen: list[int] = []
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        replaced.create(conn)
        conn.execute(replaced.insert(), [{"id": n, "body": MARKER} for n in range(100)])
        if engine.dialect.name == "sqlite":
            seen.append(_secure_delete(conn))
        drop_unzeroed(conn, replaced)
        if engine.dialect.name == "sqlite":
            seen.append(_secure_delete(conn))
            assert not _exists(conn, replaced.name)
        else:
            assert (
                conn.exec_driver_sql("SELECT to_regclass('replaced_by_a_rebuild')").scalar() is None
            )
    assert seen == ([1, 1] if engine.dialect.name == "sqlite" else [])


def test_secure_delete_is_on_again_when_the_drop_fails(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("secure_delete is SQLite's")
    with engine.connect().execution_options(**WRITE) as conn:
        with pytest.raises(Exception, match="no such table"), conn.begin():
            drop_unzeroed(conn, _table("never_created"))
        assert _secure_delete(conn) == 1


def test_a_table_named_but_absent_is_no_error(engine: Engine) -> None:
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        drop_unzeroed(conn, "no_such_virtual_table")
        if engine.dialect.name == "sqlite":
            assert _secure_delete(conn) == 1


def _checkpoint(engine: Engine) -> None:
    # On a connection of its own: one begun IMMEDIATE holds the lock a checkpoint needs.
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").all()


def _file_bytes(database: Path) -> bytes:
    return b"".join(
        p.read_bytes() for p in database.parent.iterdir() if p.name.startswith(database.name)
    )


def test_the_dropped_pages_hold_the_text_until_the_free_list_is_zeroed(tmp_path: Path) -> None:
    database = tmp_path / "replaced.db"
    engine = create_engine(f"sqlite:///{database}")
    replaced, kept = _table("replaced_by_a_rebuild"), _table("kept")
    try:
        with engine.connect().execution_options(**WRITE) as conn:
            with conn.begin():
                replaced.create(conn)
                kept.create(conn)
                rows = [{"id": n, "body": f"{MARKER} {n} " + "x" * 300} for n in range(3000)]
                conn.execute(replaced.insert(), rows)
                conn.execute(kept.insert(), [{"id": n, "body": f"kept {n}"} for n in range(500)])
            with conn.begin():
                drop_unzeroed(conn, replaced)
        _checkpoint(engine)
        # Left as they were: this is what the zeroing below has to take out.
        assert MARKER.encode() in _file_bytes(database)
        with engine.connect().execution_options(**WRITE) as conn, conn.begin():
            free = int(conn.exec_driver_sql("PRAGMA freelist_count").scalar_one())
            assert free > 200
            assert zero_free_pages(conn) == free
        _checkpoint(engine)
        with engine.connect() as conn:
            assert MARKER.encode() not in _file_bytes(database)
            # The pages are free again (the file did not keep them), nothing else moved.
            after = int(conn.exec_driver_sql("PRAGMA freelist_count").scalar_one())
            assert free <= after <= free + 2
            assert not _exists(conn, "scrub_free_pages")
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
            bodies = conn.execute(kept.select().order_by(kept.c.id)).all()
            assert [row.body for row in bodies] == [f"kept {n}" for n in range(500)]
    finally:
        engine.dispose()


def test_an_empty_free_list_is_left_alone(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        with engine.connect().execution_options(**WRITE) as conn, conn.begin():
            conn.exec_driver_sql("CREATE TABLE t (x)")
            assert zero_free_pages(conn) == 0
            assert not _exists(conn, "scrub_free_pages")
    finally:
        engine.dispose()
