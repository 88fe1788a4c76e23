"""Migration 0016 on a log whose text keys are still ordered by scope: every key moves under
its event's position and still opens its text, an erased note stays erased, a key that
names no event stops the upgrade with nothing dropped, and appends and erasures go on.
Both backends (tests/conftest.py)."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest
from sqlalchemy import Engine, inspect, select, text

from eventstore import EventStore
from eventstore.chain_verify import verify_chain
from eventstore.schema import events, text_keys
from tests.eventstore.test_chain_migration import _migrate
from tests.eventstore.test_sealed_text import added, amended, redacted, texts


def _fill(store: EventStore) -> tuple[UUID, UUID]:
    """Notes on three incidents, one amended, one erased; (kept note, erased note)."""
    kept, gone = uuid4(), uuid4()
    store.append("incident-a", [added(kept, "kept text")], 0)
    store.append("incident-b", [added(gone, "jane@example.com")], 0)
    store.append("incident-a", [amended(kept, "kept text, amended")], 1)
    store.append("incident-c", [added(uuid4(), "other text")], 0)
    store.append("incident-b", [redacted(gone)], 1)
    return kept, gone


def _key_columns(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return {column["name"] for column in inspect(conn).get_columns("text_keys")}


def test_every_key_moves_under_its_events_position(engine: Engine) -> None:
    store = EventStore(engine)
    kept, gone = _fill(store)
    before = texts(engine)
    assert before[:4] == ["kept text", before[1], "kept text, amended", "other text"]
    assert before[1]["redacted"] is True

    _migrate(engine, "0015", down=True)
    assert "position" not in _key_columns(engine)
    with engine.connect() as conn:
        by_scope = conn.execute(text("SELECT scope, key_id FROM text_keys")).all()
    assert len(by_scope) == 3
    _migrate(engine, "head")

    assert "position" in _key_columns(engine)
    assert texts(engine) == before
    with engine.connect() as conn:
        rows = conn.execute(
            select(text_keys.c.position, text_keys.c.key_id, events.c.event_id, text_keys.c.scope)
            .join(events, events.c.position == text_keys.c.position)
            .order_by(text_keys.c.position)
        ).all()
    assert [(p, key_id) for p, key_id, _, _ in rows] == [(p, e.hex) for p, _, e, _ in rows]
    assert [p for p, *_ in rows] == [1, 3, 4]  # the erased note's key stayed erased
    assert rows[0][3] == rows[1][3] == f"note:incident-a:{kept}"

    assert f"note:incident-b:{gone}" not in {row[3] for row in rows}

    # Appends and erasures go on under the new layout: the erasure takes the note's two
    # keys, and only those.
    store.append("incident-a", [added(uuid4(), "newer text")], 2)
    store.append("incident-a", [redacted(kept)], 3)
    after = texts(engine)
    assert after[0]["redacted"] is True
    assert after[2]["redacted"] is True
    assert (after[3], after[5]) == ("other text", "newer text")
    with engine.connect() as conn:
        assert conn.execute(select(text_keys.c.position)).scalars().all() == [4, 6]
        assert verify_chain(conn).ok


@pytest.mark.parametrize("misfiled", [False, True], ids=["no event", "another scope"])
def test_a_key_that_opened_nothing_stops_the_upgrade_and_stays(
    engine: Engine, misfiled: bool
) -> None:
    # A key of no event, or of an erased note's event filed under another scope (only a
    # hand-made import could store either): under its event's position the second would
    # open the erased text again.
    _fill(EventStore(engine))
    _migrate(engine, "0015", down=True)
    with engine.connect() as conn:
        erased_event = conn.execute(
            select(events.c.event_id)
            .where(events.c.stream_id == "incident-b")
            .order_by(events.c.position)
            .limit(1)
        ).scalar_one()
    stray = erased_event.hex if misfiled else uuid4().hex
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO text_keys (scope, key_id, wrapped_key) VALUES (:s, :k, :w)"),
            {"s": "note:incident-z:stray", "k": stray, "w": bytes(61)},
        )

    with pytest.raises(RuntimeError, match="1 text keys name no event of the log or a scope"):
        _migrate(engine, "head")

    assert "position" not in _key_columns(engine)
    with engine.connect() as conn:
        kept = conn.execute(text("SELECT key_id FROM text_keys")).scalars().all()
    assert stray in kept
    assert len(kept) == 4
