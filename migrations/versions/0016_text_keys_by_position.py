"""Text keys are keyed by their sealed event's position instead of by scope.

Keys ordered by scope went each to a page of the table of its own (scopes are random to
the table), so a group commit of many notes wrote one page per note more; keyed by
position, an append's keys all go to the table's end. Every key is copied with the
position of the event whose id it bears. A key whose event is not in the log, or which
is filed under a scope other than its event's, opened no text before (readers found keys
by their event's scope): under its event's position it would, even text erased since.
The upgrade stops on such keys, naming how many, rather than drop or move them unseen.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD = "text_keys_by_scope"
_NEW = "text_keys_by_position"


def _event_id_matches(dialect: str) -> str:
    # Uuid() stores 32 hex digits on SQLite and a native uuid on PostgreSQL.
    if dialect == "postgresql":
        return "e.event_id = CAST(k.key_id AS uuid)"
    return "e.event_id = k.key_id"


def _differs(dialect: str) -> str:
    return "IS DISTINCT FROM" if dialect == "postgresql" else "IS NOT"


def _event_scope(dialect: str) -> str:
    """The scope of the key of event ``e`` (domain/erasable_text.py at this revision)."""

    def field(name: str) -> str:
        if dialect == "postgresql":
            return f"(e.data ->> '{name}')"
        return f"json_extract(e.data, '$.{name}')"

    return (
        "CASE WHEN e.type = 'alert.fired'"
        f" THEN 'alert:' || e.stream_id || ':' || {field('alert_key')}"
        f" ELSE 'note:' || e.stream_id || ':' || {field('note_id')} END"
    )


def _rename_primary_key(table: str, to: str) -> None:
    # PostgreSQL names the key's index, and index names are the schema's: the table made
    # next takes the name ``pk_text_keys`` back. SQLite's stay with their table.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE {table} RENAME CONSTRAINT pk_text_keys TO pk_{to}")


def upgrade() -> None:
    conn = op.get_bind()
    dialect = conn.dialect.name
    # Keys that name no event, and keys filed under another scope than their event's.
    unmatched = conn.exec_driver_sql(
        "SELECT count(*) FROM text_keys k"  # noqa: S608 - constant
        f" LEFT JOIN events e ON {_event_id_matches(dialect)}"
        f" WHERE e.position IS NULL OR k.scope {_differs(dialect)} {_event_scope(dialect)}"
    ).scalar_one()
    if unmatched:
        raise RuntimeError(
            f"{unmatched} text keys name no event of the log or a scope other than their"
            " event's: they open no text now, and the upgrade will neither drop them nor"
            " file them under their event. Delete those rows of text_keys, then upgrade."
        )
    op.rename_table("text_keys", _OLD)
    _rename_primary_key(_OLD, _OLD)
    op.create_table(
        "text_keys",
        sa.Column(
            "position",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
            autoincrement=False,
        ),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("scope", sa.String(400), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("position", name=op.f("pk_text_keys")),
    )
    conn.exec_driver_sql(
        "INSERT INTO text_keys (position, key_id, scope, wrapped_key)"  # noqa: S608 - constant
        f" SELECT e.position, k.key_id, k.scope, k.wrapped_key FROM {_OLD} k"
        f" JOIN events e ON {_event_id_matches(dialect)} ORDER BY e.position"
    )
    op.drop_table(_OLD)


def downgrade() -> None:
    op.rename_table("text_keys", _NEW)
    _rename_primary_key(_NEW, _NEW)
    op.create_table(
        "text_keys",
        sa.Column("scope", sa.String(400), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("scope", "key_id", name=op.f("pk_text_keys")),
        sqlite_with_rowid=False,
    )
    op.execute(
        "INSERT INTO text_keys (scope, key_id, wrapped_key)"  # noqa: S608 - constant
        f" SELECT scope, key_id, wrapped_key FROM {_NEW}"
    )
    op.drop_table(_NEW)
