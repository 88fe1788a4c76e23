"""Monitoring: integrations (routing keys, HMAC secrets) and alert columns of the summary.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from eventstore.types import UtcDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "integrations",
        sa.Column("integration_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("service", sa.String(100)),
        sa.Column("routing_key_hash", sa.String(64)),
        sa.Column("secret", sa.String(100)),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("revoked_at", UtcDateTime()),
        sa.PrimaryKeyConstraint("integration_id", name="pk_integrations"),
        sa.UniqueConstraint("name", name="uq_integrations_name"),
        sa.UniqueConstraint("routing_key_hash", name="uq_integrations_routing_key_hash"),
    )
    # The summary projection's version changed with these columns: its rows are rebuilt
    # from the log at the next start, so existing rows only need valid defaults.
    op.add_column(
        "incident_summaries",
        sa.Column("alerts_firing", sa.Integer, nullable=False, server_default="0"),
    )
    op.add_column(
        "incident_summaries",
        sa.Column("alerts_resolved", sa.Integer, nullable=False, server_default="0"),
    )
    op.add_column("incident_summaries", sa.Column("alert_source", sa.String(20)))
    op.add_column("incident_summaries", sa.Column("previous_incident_id", sa.Uuid()))


def downgrade() -> None:
    with op.batch_alter_table("incident_summaries") as batch:
        batch.drop_column("previous_incident_id")
        batch.drop_column("alert_source")
        batch.drop_column("alerts_resolved")
        batch.drop_column("alerts_firing")
    op.drop_table("integrations")
