"""Action items are keyed by incident and item: item ids may repeat across incidents.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06

Item ids are chosen by clients. Keyed by item alone, an id reused in a second incident
replaced the first incident's row on the board. The table is made anew; the action-item
projection's version changed with it, so its rows are rebuilt from the log at the next
start (the log has every item, each in its own incident's stream).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from eventstore.types import UtcDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _create(key: Sequence[str]) -> None:
    op.create_table(
        "action_items",
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("item_id", sa.Uuid(), nullable=False),
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
        sa.PrimaryKeyConstraint(*key, name="pk_action_items"),
    )
    op.create_index("ix_action_items_owner", "action_items", ["owner"])
    op.create_index("ix_action_items_status", "action_items", ["status", "due_date"])


def upgrade() -> None:
    op.drop_table("action_items")
    _create(("incident_id", "item_id"))


def downgrade() -> None:
    # As 0002 made it; the older release rebuilds its rows from the log.
    op.drop_table("action_items")
    _create(("item_id",))
    op.create_index("ix_action_items_incident_id", "action_items", ["incident_id"])
