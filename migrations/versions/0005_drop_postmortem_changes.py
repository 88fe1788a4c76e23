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


# The table as 0002 created it: each column's name, type and whether it may be null.
POSTMORTEM_CHANGES = (
    ("change_id", sa.Uuid(), False),
    ("incident_id", sa.Uuid(), False),
    ("revision", sa.Integer(), False),
    ("section", sa.String(40), False),
    ("actor", sa.String(200), True),
    ("occurred_at", UtcDateTime(), False),
    ("recorded_at", UtcDateTime(), False),
    ("position", sa.BigInteger(), False),
    ("before", sa.Text(), True),
    ("after", sa.Text(), True),
    ("request_id", sa.String(200), True),
    ("correlation_id", sa.String(200), True),
)


def downgrade() -> None:
    # The table comes back empty; a release that writes it fills it from the log when
    # the postmortem projection is rebuilt (``incidents rebuild``).
    op.create_table(
        "postmortem_changes",
        *(
            sa.Column(name, type_, nullable=nullable)
            for name, type_, nullable in POSTMORTEM_CHANGES
        ),
        sa.PrimaryKeyConstraint("change_id", name="pk_postmortem_changes"),
    )
    op.create_index(
        "ix_postmortem_changes_incident_id", "postmortem_changes", ["incident_id", "position"]
    )
