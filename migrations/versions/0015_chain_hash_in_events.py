"""The hash chain moves into the events' own rows: ``events.chain_hash``, written by the
insert of each event, replaces the ``event_chain`` table (one more row, and one more
page written, at every append). The stored hashes are copied as they are, not
recomputed, so a log changed before the upgrade still fails ``incidents verify``.

Copying updates every row of ``events``, which refuses updates: the refusal is lifted for
this transaction only. On PostgreSQL the update leaves a dead version of every row
behind, which ``VACUUM`` reclaims.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_REFUSE_UPDATE = """CREATE TRIGGER events_refuse_update BEFORE UPDATE ON events
       BEGIN SELECT RAISE(ABORT, 'events is append-only: UPDATE is refused'); END"""

SQLITE_CHAIN_TRIGGERS = [
    """CREATE TRIGGER event_chain_refuse_update BEFORE UPDATE ON event_chain
       BEGIN SELECT RAISE(ABORT, 'event_chain is append-only: UPDATE is refused'); END""",
    """CREATE TRIGGER event_chain_refuse_delete BEFORE DELETE ON event_chain
       BEGIN SELECT RAISE(ABORT, 'event_chain is append-only: DELETE is refused'); END""",
]

POSTGRES_CHAIN_TRIGGERS = [
    """CREATE FUNCTION event_chain_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'event_chain is append-only: % is refused', TG_OP; END $$""",
    """CREATE TRIGGER event_chain_refuse_update_delete BEFORE UPDATE OR DELETE ON event_chain
       FOR EACH ROW EXECUTE FUNCTION event_chain_refuse_change()""",
    """CREATE TRIGGER event_chain_refuse_truncate BEFORE TRUNCATE ON event_chain
       FOR EACH STATEMENT EXECUTE FUNCTION event_chain_refuse_change()""",
]


def upgrade() -> None:
    op.add_column("events", sa.Column("chain_hash", sa.String(64), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE events DISABLE TRIGGER events_refuse_update_delete")
        op.execute(
            "UPDATE events SET chain_hash = c.chain_hash FROM event_chain c"
            " WHERE c.position = events.position"
        )
        op.execute("ALTER TABLE events ENABLE TRIGGER events_refuse_update_delete")
        op.execute("DROP TRIGGER event_chain_refuse_truncate ON event_chain")
        op.execute("DROP TRIGGER event_chain_refuse_update_delete ON event_chain")
        op.execute("DROP FUNCTION event_chain_refuse_change()")
    else:
        op.execute("DROP TRIGGER events_refuse_update")
        op.execute(
            "UPDATE events SET chain_hash ="
            " (SELECT c.chain_hash FROM event_chain c WHERE c.position = events.position)"
        )
        op.execute(SQLITE_REFUSE_UPDATE)
        op.execute("DROP TRIGGER event_chain_refuse_update")
        op.execute("DROP TRIGGER event_chain_refuse_delete")
    op.drop_table("event_chain")


def downgrade() -> None:
    op.create_table(
        "event_chain",
        sa.Column("position", sa.BigInteger, autoincrement=False, nullable=False),
        sa.Column("chain_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("position", name=op.f("pk_event_chain")),
    )
    op.execute(
        "INSERT INTO event_chain (position, chain_hash)"
        " SELECT position, chain_hash FROM events WHERE chain_hash IS NOT NULL"
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRES_CHAIN_TRIGGERS if postgres else SQLITE_CHAIN_TRIGGERS:
        op.execute(statement)
    op.drop_column("events", "chain_hash")
    if postgres:
        # The release before draws positions from the identity, which appends since this
        # revision have not moved: past the head, or its next append collides.
        op.execute(
            "SELECT setval(pg_get_serial_sequence('events', 'position'),"
            " (SELECT max(position) FROM events)) WHERE EXISTS (SELECT 1 FROM events)"
        )
