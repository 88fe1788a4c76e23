"""Stored signed checkpoints of the log (every few minutes, and at each postmortem
publication) and the proofs of publication that name them; both append-only like
``events``.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("log_checkpoints", "postmortem_publication_proofs")


def _sqlite_triggers(table: str) -> list[str]:
    return [
        f"""CREATE TRIGGER {table}_refuse_update BEFORE UPDATE ON {table}
           BEGIN SELECT RAISE(ABORT, '{table} is append-only: UPDATE is refused'); END""",
        f"""CREATE TRIGGER {table}_refuse_delete BEFORE DELETE ON {table}
           BEGIN SELECT RAISE(ABORT, '{table} is append-only: DELETE is refused'); END""",
    ]


def _postgres_triggers(table: str) -> list[str]:
    return [
        f"""CREATE FUNCTION {table}_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN RAISE EXCEPTION '{table} is append-only: % is refused', TG_OP; END $$""",
        f"""CREATE TRIGGER {table}_refuse_update_delete BEFORE UPDATE OR DELETE ON {table}
           FOR EACH ROW EXECUTE FUNCTION {table}_refuse_change()""",
        f"""CREATE TRIGGER {table}_refuse_truncate BEFORE TRUNCATE ON {table}
           FOR EACH STATEMENT EXECUTE FUNCTION {table}_refuse_change()""",
    ]


def upgrade() -> None:
    op.create_table(
        "log_checkpoints",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False),
            nullable=False,
        ),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("chain_hash", sa.String(64), nullable=False),
        sa.Column("signed_at", sa.String(32), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("signature", sa.String(200), nullable=False),
        sa.Column("reason", sa.String(20), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_checkpoints")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "postmortem_publication_proofs",
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("revision", sa.Integer, autoincrement=False, nullable=False),
        sa.Column("published_position", sa.BigInteger, nullable=False),
        sa.Column("checkpoint_id", sa.BigInteger, nullable=False),
        sa.Column("document_sha256", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint(
            "incident_id", "revision", name=op.f("pk_postmortem_publication_proofs")
        ),
    )
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in TABLES:
        for statement in _sqlite_triggers(table) if sqlite else _postgres_triggers(table):
            op.execute(statement)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in reversed(TABLES):
        if sqlite:
            op.execute(f"DROP TRIGGER {table}_refuse_update")
            op.execute(f"DROP TRIGGER {table}_refuse_delete")
        else:
            op.execute(f"DROP TRIGGER {table}_refuse_truncate ON {table}")
            op.execute(f"DROP TRIGGER {table}_refuse_update_delete ON {table}")
            op.execute(f"DROP FUNCTION {table}_refuse_change()")
        op.drop_table(table)
