"""Erasable text: the data keys that seal note and alert text, and the erasures that deleted
some of them (eventstore/sealed_text.py).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from eventstore.types import UtcDateTime

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "text_keys",
        sa.Column("scope", sa.String(400), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("scope", "key_id", name=op.f("pk_text_keys")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "text_erasures",
        sa.Column("scope", sa.String(400), nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("erased_at", UtcDateTime(), nullable=False),
        sa.Column("erased_by", sa.String(200), nullable=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("scope", name=op.f("pk_text_erasures")),
    )


def downgrade() -> None:
    op.drop_table("text_erasures")
    op.drop_table("text_keys")
