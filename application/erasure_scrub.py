"""Make erased text leave the database's files now, not whenever space is reused.

A redaction deletes its note's data keys and the read models drop its text at once, so no
answer can show it. On disk the bytes can linger: SQLite keeps a changed page in its
write-ahead log until a checkpoint, and FTS5 keeps a deleted document's terms in index
segments until they are merged; PostgreSQL keeps dead rows until VACUUM (and its WAL
archives and base backups keep everything until they expire). ``scrub`` does what each
database can do about it. SQLite's ``secure_delete`` (set on every connection,
eventstore/engine.py) already zeroes deleted rows in the database file itself, but not
the pages of the tables a rebuild replaced (projections/replaced_tables.py), which hold
the text of notes redacted since: on SQLite ``scrub`` also overwrites every page on the
free list with zeros.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine

from eventstore.engine import WRITE

_SQLITE = (
    # Merge the search index into one segment: deleted documents' terms are dropped.
    "INSERT INTO search_documents_fts(search_documents_fts) VALUES ('optimize')",
)
# The table "scrub_free_pages" takes up the free list while zero_free_pages runs.
_DROP_FILLER = 'DROP TABLE IF EXISTS "scrub_free_pages"'
_MAKE_FILLER = 'CREATE TABLE "scrub_free_pages" (zeros BLOB NOT NULL)'
_FILL = 'INSERT INTO "scrub_free_pages" VALUES (zeroblob(?))'
_PAGES_PER_ROW = 2048
"""Pages of zeros one filler row takes at most (8 MiB of 4 KiB pages)."""

_POSTGRES = (
    # Rewrite the keys table's files without the deleted keys' rows.
    "VACUUM FULL text_keys",
    "VACUUM timeline_entries",
    "VACUUM search_documents",
)


def scrub(engine: Engine) -> list[str]:
    """Run each database's clean-up; the statements run, for the report."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for statement in _POSTGRES:
                conn.exec_driver_sql(statement)
        return list(_POSTGRES)
    with engine.connect().execution_options(**WRITE) as conn:
        for statement in _SQLITE:
            conn.exec_driver_sql(statement)
        zeroed = zero_free_pages(conn)
        conn.commit()
    # Copy every page into the database file (zeroed rows included) and empty the log: on
    # a connection that does not begin by taking the write lock, which a checkpoint needs.
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").all()
    return [
        *_SQLITE,
        f"overwrite the {zeroed} pages of the free list with zeros",
        "PRAGMA wal_checkpoint(TRUNCATE)",
    ]


def zero_free_pages(conn: Connection) -> int:
    """Overwrite every page on a SQLite database's free list with zeros, in the caller's
    writing transaction; how many pages the list held.

    SQLite has no statement for it (``VACUUM`` rewrites the whole file). Rows of zeros
    take the free pages up (SQLite allocates from the free list before it grows the
    file), each page of them written whole; dropping them with ``secure_delete`` on
    frees each page zeroed, so the list is as long as before and holds nothing.
    """
    # A filler left by a scrub that died: its pages go back to the list, zeroed.
    conn.exec_driver_sql(_DROP_FILLER)
    free = _free_pages(conn)
    if not free:
        return 0
    page_size = int(conn.exec_driver_sql("PRAGMA page_size").scalar_one())
    conn.exec_driver_sql(_MAKE_FILLER)
    left = _free_pages(conn)
    while left:
        # A whole page's size per page wanted: an overflow page holds a little less, so
        # the row takes at least that many (the last row may grow the file by a page).
        size = min(left, _PAGES_PER_ROW) * page_size
        conn.exec_driver_sql(_FILL, (size,))
        now = _free_pages(conn)
        if now >= left:
            raise RuntimeError("the free list did not shrink while being filled")
        left = now
    conn.exec_driver_sql("PRAGMA secure_delete=ON")
    conn.exec_driver_sql(_DROP_FILLER)
    return free


def _free_pages(conn: Connection) -> int:
    return int(conn.exec_driver_sql("PRAGMA freelist_count").scalar_one())
