"""Postmortem history is read from the log: the postmortem_changes read model goes.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from eventstore.types import UtcDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The postmortem projection's other tables keep exactly the same rows, so its
    # version stays and nothing is rebuilt.
    op.drop_table("postmortem_changes")


def downgrade() -> None:
    # The table comes back empty; a release that writes it fills it from the log when
    # the postmortem projection is rebuilt (``incidents rebuild``).
    op.create_table(
        "postmortem_changes",
        sa.Column("change_id", sa.Uuid(), nullable=False),
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("section", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(200)),
        sa.Column("occurred_at", UtcDateTime(), nullable=False),
        sa.Column("recorded_at", UtcDateTime(), nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("before", sa.Text),
        sa.Column("after", sa.Text),
        sa.Column("request_id", sa.String(200)),
        sa.Column("correlation_id", sa.String(200)),
        sa.PrimaryKeyConstraint("change_id", name="pk_postmortem_changes"),
    )
    op.create_index(
        "ix_postmortem_changes_incident_id", "postmortem_changes", ["incident_id", "position"]
    )
