"""Full-text search: the documents read model and its index, FTS5 or tsvector by backend.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from eventstore.types import UtcDateTime, json_document
from migrations.projection_marks import forget, mark_outdated

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The index as projections/search_index.py makes it after a rebuild's swap, written out
# here so that this revision keeps creating what it created when the code moves on.
SQLITE_INDEX = [
    """CREATE VIRTUAL TABLE search_documents_fts USING fts5(title, body,
       content='search_documents', content_rowid='doc_key',
       tokenize='unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER search_documents_fts_insert AFTER INSERT ON search_documents BEGIN
       INSERT INTO search_documents_fts(rowid, title, body)
       VALUES (new.doc_key, new.title, new.body); END""",
    """CREATE TRIGGER search_documents_fts_delete AFTER DELETE ON search_documents BEGIN
       INSERT INTO search_documents_fts(search_documents_fts, rowid, title, body)
       VALUES ('delete', old.doc_key, old.title, old.body); END""",
    """CREATE TRIGGER search_documents_fts_update AFTER UPDATE ON search_documents
       WHEN old.title IS NOT new.title OR old.body IS NOT new.body BEGIN
       INSERT INTO search_documents_fts(search_documents_fts, rowid, title, body)
       VALUES ('delete', old.doc_key, old.title, old.body);
       INSERT INTO search_documents_fts(rowid, title, body)
       VALUES (new.doc_key, new.title, new.body); END""",
]

POSTGRES_INDEX = [
    # ASCII punctuation read as spaces, as FTS5 reads it ("17" finds "service-17").
    """ALTER TABLE search_documents ADD COLUMN document tsvector GENERATED ALWAYS AS (
       setweight(to_tsvector('incident_search'::regconfig,
                 regexp_replace(title, '[!-/:-@[-`{-~]+', ' ', 'g')), 'A')
       || setweight(to_tsvector('incident_search'::regconfig,
                    regexp_replace(body, '[!-/:-@[-`{-~]+', ' ', 'g')), 'B')) STORED""",
    "CREATE INDEX ix_search_documents_document ON search_documents USING gin (document)",
]


def _text_search_configuration() -> None:
    """``incident_search``: ``simple`` (no stemming, no stop words, like FTS5's unicode61)
    behind ``unaccent``, so that "cafe" finds "café" as it does on SQLite."""
    bind = op.get_bind()
    op.execute("CREATE TEXT SEARCH CONFIGURATION incident_search (COPY = simple)")
    available = bind.exec_driver_sql(
        "SELECT 1 FROM pg_available_extensions WHERE name = 'unaccent'"
    ).first()
    if available is None:
        return  # without the contrib package: accents then count, as they do in 'simple'
    try:
        # In a savepoint: a role that may not create the extension leaves the rest intact.
        with bind.begin_nested():
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS unaccent")
    except sa.exc.DBAPIError:
        return
    op.execute(
        "ALTER TEXT SEARCH CONFIGURATION incident_search"
        " ALTER MAPPING FOR hword, hword_part, word WITH unaccent, simple"
    )


def upgrade() -> None:
    op.create_table(
        "search_documents",
        sa.Column(
            "doc_key",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
            autoincrement=False,
        ),
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("ref", sa.String(60), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("occurred_at", UtcDateTime(), nullable=False),
        sa.Column("link", sa.String(200), nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("parts", json_document()),
        sa.PrimaryKeyConstraint("doc_key", name="pk_search_documents"),
    )
    op.create_table(
        "search_alert_names",
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("incident_id", "name", name="pk_search_alert_names"),
    )
    op.create_index("ix_search_alert_names_name", "search_alert_names", ["name"])
    if op.get_bind().dialect.name == "postgresql":
        _text_search_configuration()
        statements = POSTGRES_INDEX
    else:
        statements = SQLITE_INDEX
    for statement in statements:
        op.execute(statement)
    mark_outdated("search")  # a new projection: rebuilt from the log at the next start


def downgrade() -> None:
    forget("search")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE search_documents_fts")
    op.drop_table("search_alert_names")
    op.drop_table("search_documents")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TEXT SEARCH CONFIGURATION incident_search")
