"""The one MetaData of the service, shared with Alembic; tables here belong to the log."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
)

from eventstore.types import UtcDateTime, json_document

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

events = Table(
    "events",
    metadata,
    # Appends number their events after the log's last position, under the append lock
    # (eventstore/event_inserts.py); PostgreSQL's identity sequence is not drawn from
    # since migration 0015, which leaves it where it was (a row written around the
    # service without a position collides with the log's).
    Column(
        "position",
        BigInteger().with_variant(Integer(), "sqlite"),
        Identity(always=False),
        primary_key=True,
    ),
    Column("stream_id", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("type", String(100), nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("data", json_document(), nullable=False),
    Column("metadata", json_document(), nullable=False),
    Column("event_id", Uuid(), nullable=False),
    Column("occurred_at", UtcDateTime(), nullable=False),
    Column("recorded_at", UtcDateTime(), nullable=False),
    # The hash chain over the log (eventstore/chain.py), written with the event: 64 hex
    # digits. Nullable only because a row written around the service may lack it, which
    # ``incidents verify`` reports; every append writes it.
    Column("chain_hash", String(64)),
    UniqueConstraint("stream_id", "version", name="uq_events_stream_version"),
    UniqueConstraint("event_id", name="uq_events_event_id"),
    Index("ix_events_recorded_at", "recorded_at"),
    sqlite_autoincrement=True,
)

text_keys = Table(
    "text_keys",
    metadata,
    # One data key per event whose text is sealed (eventstore/sealed_text.py), wrapped with
    # the key-encryption key from the environment. Deleting a scope's rows erases its text.
    # Keyed by the sealed event's position: an append's keys go to the end of the table,
    # all of a commit's on the same page, where keys ordered by scope (migration 0012) were
    # each written to a page of their own. A reader finds them by its events' positions;
    # an erasure by the positions of its stream's sealed events, with the scope's name.
    Column(
        "position",
        BigInteger().with_variant(Integer(), "sqlite"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("key_id", String(32), nullable=False),
    Column("scope", String(400), nullable=False),
    Column("wrapped_key", LargeBinary, nullable=False),
)

text_erasures = Table(
    "text_erasures",
    metadata,
    # Who erased a scope's text, when and why: what answers show in place of the text.
    Column("scope", String(400), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("erased_at", UtcDateTime(), nullable=False),
    Column("erased_by", String(200), nullable=True),
    Column("reason", Text, nullable=False),
)
