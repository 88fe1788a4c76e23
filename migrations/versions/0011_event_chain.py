"""The hash chain over the log (eventstore/chain.py), computed here for the events already in
it; append-only like ``events``.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from eventstore.bulk_read import read_events_after
from eventstore.chain import GENESIS, links

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_TRIGGERS = [
    """CREATE TRIGGER event_chain_refuse_update BEFORE UPDATE ON event_chain
       BEGIN SELECT RAISE(ABORT, 'event_chain is append-only: UPDATE is refused'); END""",
    """CREATE TRIGGER event_chain_refuse_delete BEFORE DELETE ON event_chain
       BEGIN SELECT RAISE(ABORT, 'event_chain is append-only: DELETE is refused'); END""",
]

POSTGRES_TRIGGERS = [
    """CREATE FUNCTION event_chain_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'event_chain is append-only: % is refused', TG_OP; END $$""",
    """CREATE TRIGGER event_chain_refuse_update_delete BEFORE UPDATE OR DELETE ON event_chain
       FOR EACH ROW EXECUTE FUNCTION event_chain_refuse_change()""",
    """CREATE TRIGGER event_chain_refuse_truncate BEFORE TRUNCATE ON event_chain
       FOR EACH STATEMENT EXECUTE FUNCTION event_chain_refuse_change()""",
]


def upgrade() -> None:
    op.create_table(
        "event_chain",
        sa.Column("position", sa.BigInteger, autoincrement=False, nullable=False),
        sa.Column("chain_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("position", name=op.f("pk_event_chain")),
    )
    bind = op.get_bind()
    previous, after = GENESIS, 0
    while batch := read_events_after(bind, after, 5000, as_stored=True):
        chained = links(previous, batch)
        bind.execute(
            sa.text("INSERT INTO event_chain (position, chain_hash) VALUES (:p, :h)"),
            [{"p": position, "h": digest.hex()} for position, digest in chained],
        )
        after, previous = chained[-1]
    triggers = SQLITE_TRIGGERS if bind.dialect.name == "sqlite" else POSTGRES_TRIGGERS
    for statement in triggers:
        op.execute(statement)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP TRIGGER event_chain_refuse_truncate ON event_chain")
        op.execute("DROP TRIGGER event_chain_refuse_update_delete ON event_chain")
        op.execute("DROP FUNCTION event_chain_refuse_change()")
    else:
        op.execute("DROP TRIGGER event_chain_refuse_update")
        op.execute("DROP TRIGGER event_chain_refuse_delete")
    op.drop_table("event_chain")
