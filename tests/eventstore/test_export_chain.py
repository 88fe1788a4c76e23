"""The hash chain in export files (format version 2), on SQLite and PostgreSQL: export carries
the stored hashes and a signed head; import recomputes every link from the file, refuses
the first that differs and stores the same hashes; version 1 files still import, chained.

Damaged files (a tampered hash, a trailer head changed, an unknown kind of line, a newer
version) are in the damage table of tests/eventstore/test_export_import.py; the offline
check, ``incidents verify-export``, is tested in tests/cli/test_verify_export_command.py.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import orjson
import pytest
from sqlalchemy import Engine, select

from eventstore import EventStore, NewEvent
from eventstore.bulk_read import read_events_after
from eventstore.chain import GENESIS, canonical_bytes, last_link
from eventstore.chain_verify import verify_chain
from eventstore.schema import events
from eventstore.transfer.event_lines import parse_event
from eventstore.transfer.line_chain import GENESIS_HEX, row_bytes
from eventstore.transfer.pages import UnchainedEvent
from eventstore.transfer.trailer import SignedHead
from tests.conftest import NewDatabase
from tests.support.log_files import as_version_1, event_lines
from tests.support.transfer import BASE, export_bytes, import_bytes, write_history

AWKWARD = {
    "text": 'tab\there, newline\nthere, "quotes", back\\slash, é, 🚒, \u2028, \x7f, \x01',
    "numbers": [0, -1, 2**62, 0.1, 1.5e-9, 123456.789, 2.0, 1e21],
    "nested": {"z": [True, False, None, {}], "a": {"b": {"c": []}}, "É": 1, "\uffff": 2},
    "empty": "",
}


def awkward_log(engine: Engine) -> None:
    store = EventStore(engine)
    for n in range(4):
        new = NewEvent(
            uuid.uuid4(), "test.recorded", {**AWKWARD, "n": n}, BASE, metadata={"actor": 'zoë "x"'}
        )
        store.append(f"odd\tstream-{n % 2}\\é", [new], None)
    store.append(
        "stream-times",
        [NewEvent(uuid.uuid4(), "test.recorded", {}, datetime(2026, 1, 1, 0, 0, 0, 1, tzinfo=UTC))],
        0,
    )


def stored_chain(engine: Engine) -> list[tuple[int, str]]:
    with engine.connect() as conn:
        query = select(events.c.position, events.c.chain_hash).order_by(events.c.position)
        rows = conn.execute(query).all()
    return [(int(position), str(digest)) for position, digest in rows]


def test_export_carries_the_stored_chain_and_the_signed_head(engine: Engine) -> None:
    awkward_log(engine)
    signed: list[tuple[int, str]] = []

    def sign(position: int, chain_hash: str) -> SignedHead:
        signed.append((position, chain_hash))
        return SignedHead(position, chain_hash, "2026-12-04T10:15:02Z", "c2lnbmVk", "3b1f")

    exported = export_bytes(engine, sign=sign)

    chain = stored_chain(engine)
    assert [(e["position"], e["chain_hash"]) for e in event_lines(exported)] == chain
    trailer = orjson.loads(exported.splitlines()[-1])
    head_position, head_hash = chain[-1]
    assert signed == [(head_position, head_hash)]
    assert trailer["chain_hash"] == head_hash
    assert trailer["checkpoint"] == {
        "position": head_position,
        "chain_hash": head_hash,
        "signed_at": "2026-12-04T10:15:02Z",
        "signature": "c2lnbmVk",
        "key_id": "3b1f",
    }
    assert orjson.loads(exported.splitlines()[0])["format_version"] == 2


def test_an_unsigned_export_of_an_empty_log_ends_at_the_genesis_hash(engine: Engine) -> None:
    trailer = orjson.loads(export_bytes(engine).splitlines()[-1])

    assert trailer == {
        "chain_hash": GENESIS_HEX,
        "events": 0,
        "sha256": trailer["sha256"],
        "trailer": "incident-ledger-log",
    }


def test_a_line_hashes_to_the_bytes_eventstore_chain_gives_its_event(engine: Engine) -> None:
    # The import's hashing from the line, against eventstore.chain's from the stored event.
    awkward_log(engine)
    with engine.connect() as conn:
        stored = read_events_after(conn, 0, 100, as_stored=True)

    lines = event_lines(export_bytes(engine))

    assert len(lines) == len(stored) == 5
    for line, event in zip(lines, stored, strict=True):
        assert row_bytes(parse_event(line, chained=True)) == canonical_bytes(event)


def test_an_import_checks_and_stores_the_files_chain(
    engine: Engine, backend: str, new_database: NewDatabase
) -> None:
    write_history(engine)
    awkward_log(engine)
    copy = new_database(backend)

    import_bytes(copy, export_bytes(engine), any_type=True)

    assert stored_chain(copy) == stored_chain(engine)
    with copy.connect() as conn:
        verdict = verify_chain(conn)
        assert verdict.ok, verdict.reason
        assert last_link(conn) == last_link_of(engine)
    # Appends after the import extend the imported chain.
    EventStore(copy).append("stream-after-import", [NewEvent(uuid.uuid4(), "t", {}, BASE)], 0)
    with copy.connect() as conn:
        assert verify_chain(conn).ok


def test_a_version_1_file_still_imports_and_is_chained(
    engine: Engine, backend: str, new_database: NewDatabase
) -> None:
    awkward_log(engine)
    old = as_version_1(export_bytes(engine))
    assert b"chain_hash" not in old
    copy = new_database(backend)

    import_bytes(copy, old, any_type=True)

    assert stored_chain(copy) == stored_chain(engine)
    with copy.connect() as conn:
        assert verify_chain(conn).ok


def test_an_event_written_around_the_store_stops_the_export(engine: Engine) -> None:
    EventStore(engine).append("stream-a", [NewEvent(uuid.uuid4(), "t", {}, BASE)], 0)
    with engine.begin() as conn:
        conn.execute(
            events.insert(),
            {
                "position": 2,  # numbered by hand: PostgreSQL's identity is not drawn from
                "stream_id": "stream-b",
                "version": 1,
                "type": "t",
                "schema_version": 1,
                "data": {},
                "metadata": {},
                "event_id": uuid.uuid4(),
                "occurred_at": BASE,
                "recorded_at": BASE,
            },
        )

    with pytest.raises(UnchainedEvent, match="the event at position 2 has no chain hash"):
        export_bytes(engine)


def last_link_of(engine: Engine) -> tuple[int, bytes]:
    with engine.connect() as conn:
        found = last_link(conn)
    assert found[1] != GENESIS
    return found
