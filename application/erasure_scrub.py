"""Make erased text leave the database's files now, not whenever space is reused.

A redaction deletes its note's data keys and the read models drop its text at once, so no
answer can show it. On disk the bytes can linger: SQLite keeps a changed page in its
write-ahead log until a checkpoint, and FTS5 keeps a deleted document's terms in index
segments until they are merged; PostgreSQL keeps dead rows until VACUUM (and its WAL
archives and base backups keep everything until they expire). ``scrub`` does what each
database can do about it. SQLite's ``secure_delete`` (set on every connection,
eventstore/engine.py) already zeroes deleted rows in the database file itself.
"""

from __future__ import annotations

from sqlalchemy import Engine

_SQLITE = (
    # Merge the search index into one segment: deleted documents' terms are dropped.
    "INSERT INTO search_documents_fts(search_documents_fts) VALUES ('optimize')",
)
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
    with engine.connect() as conn:
        for statement in _SQLITE:
            conn.exec_driver_sql(statement)
        conn.commit()
        # Copy every page into the database file (zeroed rows included) and empty the log.
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").all()
    return [*_SQLITE, "PRAGMA wal_checkpoint(TRUNCATE)"]
