"""Search documents get an ordinal (which is newer), and on SQLite the FTS5 index is keyed
by it, so that a query matching very many documents ranks the newest of them only.

The ``link`` column goes: where a hit lives follows from its incident, kind and ref.
Existing documents are numbered by the position that last changed them, which keeps
search answering until the next start, where the search read model (now version 2) is
rebuilt from the log with the ordinals new documents get. Those are the writing event's
position times 8 plus a part, higher than any number given here: a log of P events holds
at most 6 P documents (a publication writes six at one position).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The index as projections/search_index.py makes it after a rebuild's swap, written out
# here so that this revision keeps creating what it created when the code moves on.
_TRIGGERS = ("insert", "delete", "update")


# The column names come from this file, never from input.
def _sqlite_index(rowid: str) -> list[str]:
    into = "INSERT INTO search_documents_fts"
    forget = f"{into}(search_documents_fts, rowid, title, body) VALUES ('delete', old.{rowid}, old.title, old.body);"
    remember = f"{into}(rowid, title, body) VALUES (new.{rowid}, new.title, new.body);"
    changed = "old.title IS NOT new.title OR old.body IS NOT new.body"
    if rowid == "ordinal":
        changed += " OR old.ordinal IS NOT new.ordinal"
    return [
        f"""CREATE VIRTUAL TABLE search_documents_fts USING fts5(title, body,
           content='search_documents', content_rowid='{rowid}',
           tokenize='unicode61 remove_diacritics 2')""",
        f"""CREATE TRIGGER search_documents_fts_insert AFTER INSERT ON search_documents
           BEGIN {remember} END""",
        f"""CREATE TRIGGER search_documents_fts_delete AFTER DELETE ON search_documents
           BEGIN {forget} END""",
        f"""CREATE TRIGGER search_documents_fts_update AFTER UPDATE ON search_documents
           WHEN {changed} BEGIN {forget} {remember} END""",
        f"{into}(rowid, title, body) SELECT {rowid}, title, body FROM search_documents"  # noqa: S608
        f" ORDER BY {rowid}",
    ]


def _drop_sqlite_index() -> None:
    for trigger in _TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS search_documents_fts_{trigger}")
    op.execute("DROP TABLE IF EXISTS search_documents_fts")


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        _drop_sqlite_index()
    op.add_column("search_documents", sa.Column("ordinal", sa.BigInteger, nullable=True))
    op.execute(
        "UPDATE search_documents SET ordinal = numbered.n FROM"
        " (SELECT doc_key, row_number() OVER (ORDER BY position, doc_key) AS n"
        "  FROM search_documents) AS numbered"
        " WHERE numbered.doc_key = search_documents.doc_key"
    )
    with op.batch_alter_table("search_documents") as batch:
        batch.alter_column("ordinal", existing_type=sa.BigInteger, nullable=False)
        # Where a hit lives follows from its incident, kind and ref: worked out on reading.
        batch.drop_column("link")
    op.create_index("ix_search_documents_ordinal", "search_documents", ["ordinal"], unique=True)
    if sqlite:
        for statement in _sqlite_index("ordinal"):
            op.execute(statement)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        _drop_sqlite_index()
    op.drop_index("ix_search_documents_ordinal", table_name="search_documents")
    with op.batch_alter_table("search_documents") as batch:
        batch.drop_column("ordinal")
        # Empty until the release this goes back to rebuilds its search model at start
        # (the checkpoint's version 2 is not its own).
        batch.add_column(sa.Column("link", sa.String(200), nullable=False, server_default=""))
    if sqlite:
        for statement in _sqlite_index("doc_key"):
            op.execute(statement)
