"""Insights: per-incident and per-action-item rows for cross-incident figures.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from eventstore.types import UtcDateTime, json_document
from migrations.projection_marks import forget, mark_outdated

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PROJECTION = "insights"


def upgrade() -> None:
    op.create_table(
        "incident_insights",
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("severity", sa.String(4), nullable=False),
        sa.Column("services", sa.Text, nullable=False),
        sa.Column("labels", json_document(), nullable=False),
        sa.Column("labels_text", sa.Text, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("detected_at", UtcDateTime(), nullable=False),
        sa.Column("acknowledged_at", UtcDateTime()),
        sa.Column("mitigated_at", UtcDateTime()),
        sa.Column("resolved_at", UtcDateTime()),
        sa.Column("duplicate_of", sa.Uuid()),
        sa.Column("duplicate_targets", json_document(), nullable=False),
        sa.Column("time_to_detect_us", sa.BigInteger, nullable=False),
        sa.Column("time_to_acknowledge_us", sa.BigInteger),
        sa.Column("time_to_mitigate_us", sa.BigInteger),
        sa.Column("time_to_resolve_us", sa.BigInteger),
        sa.Column("duration_us", sa.BigInteger),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("incident_id", name="pk_incident_insights"),
    )
    op.create_index(
        "ix_incident_insights_started_at",
        "incident_insights",
        [
            "started_at",
            "kind",
            "duplicate_of",
            "resolved_at",
            "time_to_detect_us",
            "time_to_acknowledge_us",
            "time_to_mitigate_us",
            "time_to_resolve_us",
            "duration_us",
        ],
    )
    op.create_table(
        "action_item_insights",
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("due_date", sa.Date, nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("done_at", UtcDateTime()),
        sa.Column("closed_at", UtcDateTime()),
        sa.Column("time_to_done_us", sa.BigInteger),
        sa.Column("severity", sa.String(4), nullable=False),
        sa.PrimaryKeyConstraint("incident_id", "item_id", name="pk_action_item_insights"),
    )
    op.create_index("ix_action_item_insights_created_at", "action_item_insights", ["created_at"])
    mark_outdated(PROJECTION)


def downgrade() -> None:
    forget(PROJECTION)
    op.drop_table("action_item_insights")
    op.drop_table("incident_insights")
