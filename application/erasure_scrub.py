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

from eventstore.engine import SQLITE_BUSY_TIMEOUT_MS

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


_TABLES = ("text_keys", "timeline_entries", "search_documents")
_NOT_OWNED = (
    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
    " AND tablename = ANY(%(tables)s)"
    " AND NOT pg_has_role(current_user, tableowner, 'USAGE') ORDER BY tablename"
)
"""The tables this role may not VACUUM: PostgreSQL skips them with only a warning."""


class ScrubIncomplete(RuntimeError):
    """The clean-up could not be done: SQLite's write-ahead log stayed in use, or the
    PostgreSQL role does not own the tables to VACUUM."""


def scrub(engine: Engine, *, wait_seconds: float = SQLITE_BUSY_TIMEOUT_MS / 1000) -> list[str]:
    """Run each database's clean-up; the statements run, for the report.

    On SQLite the checkpoint that empties the write-ahead log waits ``wait_seconds`` (by
    default the engine's busy timeout) for readers to let go of it, and raises
    ``ScrubIncomplete`` if they did not: the log, which may hold the erased text, is
    left as it was, and saying the text is gone would be untrue."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            not_owned = conn.exec_driver_sql(_NOT_OWNED, {"tables": list(_TABLES)}).scalars()
            if names := list(not_owned):
                raise ScrubIncomplete(
                    f"the role {engine.url.username or '(default)'} does not own"
                    f" {', '.join(names)}, and PostgreSQL skips VACUUM of a table but for"
                    " its owner (a superuser, or a member of the owning role): run scrub"
                    " as the tables' owner"
                )
            for statement in _POSTGRES:
                conn.exec_driver_sql(statement)
        return list(_POSTGRES)
    with engine.connect() as conn:
        for statement in _SQLITE:
            conn.exec_driver_sql(statement)
        conn.commit()
        conn.exec_driver_sql(f"PRAGMA busy_timeout={max(0, round(wait_seconds * 1000))}")
        try:
            # Copy every page into the database file (zeroed rows included) and empty
            # the log. A reader still using the log makes it answer busy, not fail.
            busy, _, _ = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
        finally:
            # The connection goes back to the pool: with the engine's own timeout.
            conn.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    if busy:
        raise ScrubIncomplete(
            "other connections kept reading SQLite's write-ahead log, which may still"
            " hold the erased text: run scrub again when they are done (a running"
            " service's requests and workers read it; stopping it lets scrub finish)"
        )
    return [*_SQLITE, "PRAGMA wal_checkpoint(TRUNCATE)"]
