"""Dropping the live tables a rebuild replaces, under the append lock, without zeroing them.

Every connection runs with SQLite's ``secure_delete`` on (eventstore/engine.py): a freed
page is overwritten with zeros. For a table a rebuild replaces that means writing the
whole table once more while appends wait: 2.4-2.6 s for the timeline of 1,000,000
events and 1.3-1.9 s for the search documents and their index, against about 0.1 s
each without. So these drops run with it off, and their pages go to the free list as
they were. They still hold the text of notes that may be redacted later; ``incidents
scrub`` (application/erasure_scrub.py), which a redaction needs on SQLite anyway to
empty the write-ahead log and merge the search index, overwrites every free page with
zeros, these among them.
"""

from __future__ import annotations

from sqlalchemy import Connection, Table


def drop_unzeroed(conn: Connection, table: Table | str) -> None:
    """Drop ``table`` (a Table, or the name of one that may not exist, such as a virtual
    table) with its pages left to the free list as they are on SQLite; elsewhere drop it.

    ``secure_delete`` is a setting of the connection, which goes back to the pool: it is
    on again afterwards whatever happened, or later deletions would linger on disk."""
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:
        conn.exec_driver_sql("PRAGMA secure_delete=OFF")
    try:
        if isinstance(table, Table):
            table.drop(conn)
        else:
            conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{table}"')
    finally:
        if sqlite:
            conn.exec_driver_sql("PRAGMA secure_delete=ON")
