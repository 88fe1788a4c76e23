"""Issue-summary facts on the incident summary; action items and postmortem read models.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from eventstore.types import UtcDateTime, json_document

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTION_ITEM_COUNTS = (
    "action_items_open",
    "action_items_in_progress",
    "action_items_done",
    "action_items_wont_do",
)


def upgrade() -> None:
    # Batch mode: SQLite cannot add NOT NULL columns with defaults in every version
    # through plain ALTER TABLE; batch mode copies the table where it must.
    with op.batch_alter_table("incident_summaries") as batch:
        batch.add_column(sa.Column("impact", sa.Text))
        batch.add_column(sa.Column("root_cause", sa.Text))
        batch.add_column(sa.Column("resolution", sa.Text))
        batch.add_column(sa.Column("mitigated_at", UtcDateTime()))
        batch.add_column(sa.Column("roles", json_document()))
        batch.add_column(sa.Column("participants", json_document()))
        for name in ACTION_ITEM_COUNTS:
            batch.add_column(sa.Column(name, sa.Integer, nullable=False, server_default="0"))
        batch.add_column(
            sa.Column("postmortem_status", sa.String(20), nullable=False, server_default="draft")
        )
        batch.add_column(
            sa.Column("postmortem_revision", sa.Integer, nullable=False, server_default="1")
        )

    op.create_table(
        "action_items",
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("due_date", sa.Date, nullable=False),
        sa.Column("priority", sa.String(2), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("ticket_url", sa.String(2000)),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("item_id", name="pk_action_items"),
    )
    op.create_index("ix_action_items_owner", "action_items", ["owner"])
    op.create_index("ix_action_items_incident_id", "action_items", ["incident_id"])
    op.create_index("ix_action_items_status", "action_items", ["status", "due_date"])

    op.create_table(
        "postmortem_sections",
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("section", sa.String(40), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint(
            "incident_id", "revision", "section", name="pk_postmortem_sections"
        ),
    )
    op.create_table(
        "postmortem_revisions",
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("published_at", UtcDateTime()),
        sa.Column("published_by", sa.String(200)),
        sa.Column("review_requested_at", UtcDateTime()),
        sa.PrimaryKeyConstraint("incident_id", "revision", name="pk_postmortem_revisions"),
    )
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


def downgrade() -> None:
    op.drop_table("postmortem_changes")
    op.drop_table("postmortem_revisions")
    op.drop_table("postmortem_sections")
    op.drop_table("action_items")
    with op.batch_alter_table("incident_summaries") as batch:
        for name in (
            "postmortem_revision",
            "postmortem_status",
            *reversed(ACTION_ITEM_COUNTS),
            "participants",
            "roles",
            "mitigated_at",
            "resolution",
            "root_cause",
            "impact",
        ):
            batch.drop_column(name)
