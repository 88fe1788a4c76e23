"""Sealed text in the store (eventstore/sealed_text.py), on SQLite and PostgreSQL: the
envelope is bound to its event and field, opens only with the right key, and an erasure
deletes exactly its scope's keys, in event order, through either append path."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import orjson
import pytest
from cryptography.hazmat.primitives.keywrap import aes_key_wrap
from sqlalchemy import Engine, select, text

from eventstore import EventStore, NewEvent
from eventstore.bulk_read import read_events_after
from eventstore.chain_verify import verify_chain
from eventstore.schema import events, text_erasures, text_keys
from eventstore.sealed_text import (
    SealedTextUnavailable,
    TextVault,
    install_vault,
    seal_events,
    vault_of,
)
from tests.eventstore.test_hash_chain import unguarded

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def added(note_id: UUID, body: str) -> NewEvent:
    data = {"note_id": str(note_id), "text": body, "visibility": "internal"}
    return NewEvent(uuid4(), "timeline.note_added", data, AT, schema_version=2)


def amended(note_id: UUID, body: str) -> NewEvent:
    return NewEvent(uuid4(), "timeline.note_amended", {"note_id": str(note_id), "text": body}, AT)


def redacted(note_id: UUID, actor: str = "alice") -> NewEvent:
    data = {"note_id": str(note_id), "reason": "PII"}
    return NewEvent(uuid4(), "timeline.note_redacted", data, AT, metadata={"actor": actor})


def texts(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return [e.data.get("text") for e in read_events_after(conn, 0, 1000)]


def test_direct_and_checked_appends_seal_and_erase_alike(engine: Engine) -> None:
    store = EventStore(engine)
    kept, gone = uuid4(), uuid4()
    # The first append of a stream takes the direct path; a batch takes the checked one.
    store.append("incident-a", [added(kept, "kept text")], 0)
    store.append("incident-a", [added(gone, "jane@example.com")], 1)
    store.append_batch(
        [("incident-a", [amended(gone, "jane@example.com again"), redacted(gone)], 2)]
    )

    found = texts(engine)
    assert found[0] == "kept text"
    for erased in found[1:3]:
        assert erased["redacted"] is True
        assert (erased["redacted_by"], erased["reason"]) == ("alice", "PII")
    with engine.connect() as conn:
        scopes = conn.execute(select(text_keys.c.scope)).scalars().all()
        erasure = conn.execute(select(text_erasures)).one()
        assert verify_chain(conn).ok
    assert scopes == [f"note:incident-a:{kept}"]
    assert erasure.position == 4


def test_a_key_sealed_after_an_erasure_of_its_scope_in_the_same_batch_survives(
    engine: Engine,
) -> None:
    # An alert's text can be sealed again after its scope was erased; the statements
    # follow the events' order.
    note = uuid4()
    EventStore(engine).append_batch(
        [("incident-b", [added(note, "first"), redacted(note), amended(note, "second")], 0)]
    )

    assert texts(engine)[2] == "second"
    assert texts(engine)[0]["redacted"] is True


def test_a_commit_of_many_sealed_events_writes_each_key_under_its_events_position(
    engine: Engine,
) -> None:
    # More keys than one of PostgreSQL's multi-row inserts takes: they go in two.
    bodies = [f"note {n}" for n in range(1003)]
    appends = [(f"incident-{n % 7}", [added(uuid4(), body)], None) for n, body in enumerate(bodies)]
    EventStore(engine).append_batch(appends)

    with engine.connect() as conn:
        assert [e.data["text"] for e in read_events_after(conn, 0, 2000)] == bodies
        keyed = conn.execute(
            select(text_keys.c.position, text_keys.c.key_id, events.c.event_id)
            .join(events, events.c.position == text_keys.c.position)
            .order_by(text_keys.c.position)
        ).all()
    assert [position for position, _, _ in keyed] == list(range(1, 1004))
    assert all(key_id == event_id.hex for _, key_id, event_id in keyed)


def test_a_ciphertext_moved_to_another_event_does_not_open(engine: Engine) -> None:
    store = EventStore(engine)
    store.append("incident-c", [added(uuid4(), "one"), added(uuid4(), "two")], 0)
    with engine.connect() as conn:
        first, second = read_events_after(conn, 0, 10, as_stored=True)
    moved = second.data["text"]
    with unguarded(engine), engine.begin() as conn:
        column = "data" if engine.dialect.name == "sqlite" else "data::text"
        stored = conn.execute(
            text(f"SELECT {column} FROM events WHERE position = :p"), {"p": first.position}
        ).scalar_one()
        assert isinstance(stored, str)
        data = orjson.loads(stored)
        data["text"] = moved
        value = orjson.dumps(data).decode()
        value_of = ":d" if engine.dialect.name == "sqlite" else "CAST(:d AS jsonb)"
        conn.execute(
            text(f"UPDATE events SET data = {value_of} WHERE position = :p"),
            {"d": value, "p": first.position},
        )

    with pytest.raises(SealedTextUnavailable, match="was altered"):
        texts(engine)


def test_text_does_not_open_under_another_secret_key(engine: Engine) -> None:
    EventStore(engine).append("incident-d", [added(uuid4(), "sealed")], 0)
    own = vault_of(engine)
    install_vault(engine, TextVault(b"\x01" * 32))
    try:
        with pytest.raises(SealedTextUnavailable, match="INCIDENTS_SECRET_KEY"):
            texts(engine)
    finally:
        assert own is not None
        install_vault(engine, own)
    assert texts(engine) == ["sealed"]


def test_a_wrapped_key_moved_to_another_row_does_not_open(engine: Engine) -> None:
    store = EventStore(engine)
    store.append("incident-k", [added(uuid4(), "one"), added(uuid4(), "two")], 0)
    with engine.connect() as conn:
        rows = conn.execute(
            select(text_keys.c.key_id, text_keys.c.wrapped_key).order_by(text_keys.c.key_id)
        ).all()
    (first_id, first), (_, second) = rows
    # Wrapped with AES-256-GCM: a version byte, the nonce, the key and the tag.
    assert len(first) == 61
    assert bytes(first)[:1] == b"\x01"
    with engine.begin() as conn:
        conn.execute(
            text_keys.update().where(text_keys.c.key_id == first_id).values(wrapped_key=second)
        )

    with pytest.raises(SealedTextUnavailable, match="key's row was altered"):
        texts(engine)


def test_a_key_wrapped_the_earlier_way_still_opens(engine: Engine) -> None:
    """Keys stored before the GCM wrapping were wrapped with AES key wrap (RFC 3394)."""
    EventStore(engine).append("incident-w", [added(uuid4(), "written before")], 0)
    vault = vault_of(engine)
    assert vault is not None
    with engine.connect() as conn:
        key_id, wrapped = conn.execute(select(text_keys.c.key_id, text_keys.c.wrapped_key)).one()
    key = vault.unwrap(wrapped, key_id)
    legacy = aes_key_wrap(vault._kek, key)  # the key-encryption key the old form used
    assert len(legacy) == 40
    with engine.begin() as conn:
        conn.execute(text_keys.update().values(wrapped_key=legacy))

    assert texts(engine) == ["written before"]


def test_text_is_never_written_in_clear_for_want_of_a_vault(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("eventstore.sealed_text._default", [])

    with pytest.raises(SealedTextUnavailable, match="stored in clear"):
        seal_events(engine, [("incident-e", added(uuid4(), "text"))])
    with pytest.raises(SealedTextUnavailable):
        EventStore(engine).append("incident-e", [added(uuid4(), "text")], 0)
    # Events without erasable text need no vault.
    plain = NewEvent(uuid4(), "incident.acknowledged", {}, AT)
    assert EventStore(engine).append("incident-e", [plain], 0).version == 1
