"""Labels, kinds and relations of incidents; reviewers and verdicts of postmortems.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from eventstore.types import UtcDateTime, json_document
from migrations.projection_marks import forget, mark_outdated

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The summary and postmortem projections' versions changed with these columns: their
    # rows are rebuilt from the log at the next start, so existing rows only need defaults.
    op.add_column("incident_summaries", sa.Column("labels", json_document()))
    op.add_column(
        "incident_summaries",
        sa.Column("labels_text", sa.Text, nullable=False, server_default=""),
    )
    op.add_column(
        "incident_summaries",
        sa.Column("kind", sa.String(20), nullable=False, server_default="incident"),
    )
    op.add_column("incident_summaries", sa.Column("postmortem_due_date", sa.Date))
    op.add_column("postmortem_revisions", sa.Column("reviewers", json_document()))
    op.add_column("postmortem_revisions", sa.Column("verdicts", json_document()))
    op.create_table(
        "incident_relations",
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("other_incident_id", sa.Uuid(), nullable=False),
        sa.Column("relation", sa.String(20), nullable=False),
        sa.Column("direction", sa.String(10), nullable=False),
        sa.Column("actor", sa.String(200)),
        sa.Column("recorded_at", UtcDateTime(), nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint(
            "incident_id", "other_incident_id", "direction", name="pk_incident_relations"
        ),
    )
    mark_outdated("incident_relations")  # a new projection: rebuilt from the log at start


def downgrade() -> None:
    forget("incident_relations")
    op.drop_table("incident_relations")
    with op.batch_alter_table("postmortem_revisions") as batch:
        batch.drop_column("verdicts")
        batch.drop_column("reviewers")
    with op.batch_alter_table("incident_summaries") as batch:
        batch.drop_column("postmortem_due_date")
        batch.drop_column("kind")
        batch.drop_column("labels_text")
        batch.drop_column("labels")
