"""The cache of decoded streams behind ``?as_of=``: always the stream as stored now."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pytest
from sqlalchemy import Engine

from domain.events import IncidentAcknowledged, NoteAdded, encode, event_type, schema_version
from domain.values import NoteVisibility
from eventstore import EventStore, NewEvent
from eventstore.engine import create_engine
from projections.base import envelope
from projections.decoded_streams import DecodedStreams
from tests.conftest import fresh_database

AT = datetime(2026, 11, 27, 14, 5, tzinfo=UTC)


def _note(text: str) -> NewEvent:
    event = NoteAdded(
        occurred_at=AT, note_id=uuid4(), text=text, visibility=NoteVisibility.INTERNAL
    )
    return NewEvent(
        event_id=uuid4(),
        type=event_type(event),
        schema_version=schema_version(event),
        data=encode(event),
        occurred_at=AT,
    )


def _texts(envelopes: list[object]) -> list[str]:
    return [e.event.text for e in envelopes]  # type: ignore[attr-defined]


def test_a_read_gives_the_stream_as_stored_and_decodes_only_what_is_new(
    store: EventStore, engine: Engine
) -> None:
    streams = DecodedStreams()
    store.append("incident-a", [_note("one"), _note("two")], 0)
    with engine.connect() as conn:
        first = streams.read(conn, "incident-a")
    assert _texts(first) == ["one", "two"]
    store.append("incident-a", [_note("three")], 2)
    with engine.connect() as conn:
        second = streams.read(conn, "incident-a")
        stored = [envelope(r) for r in store.read_stream("incident-a")]
    assert [e.recorded for e in second] == [e.recorded for e in stored]
    assert second[0] is first[0]  # the decoded prefix was kept, not decoded again
    assert second[1] is first[1]
    with engine.connect() as conn:
        assert streams.read(conn, "incident-missing") == []


@pytest.fixture
def other_database_url(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[str]:
    """A second fresh database of the same backend."""
    with fresh_database(backend, request, tmp_path / "other.db") as url:
        yield url


def test_a_database_replaced_under_the_cache_is_read_afresh(
    store: EventStore, engine: Engine, other_database_url: str
) -> None:
    streams = DecodedStreams()
    store.append("incident-a", [_note("old one"), _note("old two")], 0)
    with engine.connect() as conn:
        assert _texts(streams.read(conn, "incident-a")) == ["old one", "old two"]
    # The same stream id in another database (a restore, say), with other events.
    other = create_engine(other_database_url)
    try:
        EventStore(other).append("incident-a", [_note("new one"), _note("new two")], 0)
        EventStore(other).append("incident-a", [_note("new three")], 2)
        with other.connect() as conn:
            assert _texts(streams.read(conn, "incident-a")) == ["new one", "new two", "new three"]
    finally:
        other.dispose()


def test_least_recently_read_streams_go_first_and_huge_ones_are_not_kept(
    store: EventStore, engine: Engine
) -> None:
    streams = DecodedStreams(max_events=3)
    store.append("incident-a", [_note("a1"), _note("a2")], 0)
    store.append("incident-b", [_note("b1"), _note("b2")], 0)
    store.append("incident-c", [_note("c1"), _note("c2"), _note("c3"), _note("c4")], 0)
    with engine.connect() as conn:
        a = streams.read(conn, "incident-a")
        b = streams.read(conn, "incident-b")  # a is evicted: 4 events > 3
        assert streams.read(conn, "incident-b")[0] is b[0]
        assert streams.read(conn, "incident-a")[0] is not a[0]
        c = streams.read(conn, "incident-c")  # larger than the whole cache: not kept
        assert _texts(c) == ["c1", "c2", "c3", "c4"]
        assert streams.read(conn, "incident-c")[0] is not c[0]


def test_other_event_types_decode_too(store: EventStore, engine: Engine) -> None:
    acknowledged = IncidentAcknowledged(occurred_at=AT)
    store.append(
        "incident-a",
        [
            NewEvent(
                event_id=uuid4(),
                type=event_type(acknowledged),
                schema_version=schema_version(acknowledged),
                data=encode(acknowledged),
                occurred_at=AT,
            )
        ],
        0,
    )
    with engine.connect() as conn:
        [only] = DecodedStreams().read(conn, "incident-a")
    assert only.event == acknowledged
