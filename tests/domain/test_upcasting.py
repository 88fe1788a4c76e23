"""Old event versions are upcast on read; versions newer than the code are refused.

``timeline.note_added`` is written as version 2 (it gained ``visibility``); version 1
notes, stored before that, stay in the log as they were and are lifted on every read.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.events import (
    CURRENT_VERSIONS,
    UPCASTERS,
    NoteAdded,
    UnknownSchemaVersion,
    decode,
    encode,
    event_type,
    schema_version,
    upcast_note_added_v1_v2,
)
from domain.values import NoteVisibility

NOTE_ID = UUID("00000000-0000-4000-8000-0000000000a1")
AT = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

V1_NOTE: dict[str, Any] = {"note_id": str(NOTE_ID), "text": "Rolled back deploy 42"}
"""A note exactly as version 1 stored it: no visibility."""


def test_new_notes_are_written_as_version_2_with_their_visibility() -> None:
    note = NoteAdded(
        occurred_at=AT,
        note_id=NOTE_ID,
        text="We are rolling back",
        visibility=NoteVisibility.PUBLIC,
    )

    assert (event_type(note), schema_version(note)) == ("timeline.note_added", 2)
    assert encode(note) == {
        "note_id": str(NOTE_ID),
        "text": "We are rolling back",
        "visibility": "public",
    }


def test_v1_note_decodes_into_the_v2_model_as_internal() -> None:
    decoded = decode("timeline.note_added", 1, V1_NOTE, AT)

    assert decoded == NoteAdded(
        occurred_at=AT,
        note_id=NOTE_ID,
        text="Rolled back deploy 42",
        visibility=NoteVisibility.INTERNAL,
    )


def test_v1_note_decodes_like_the_same_note_written_as_v2() -> None:
    written_as_v2 = {**V1_NOTE, "visibility": "internal"}

    assert decode("timeline.note_added", 1, V1_NOTE, AT) == decode(
        "timeline.note_added", 2, written_as_v2, AT
    )


def test_upcaster_returns_new_data_and_leaves_the_stored_data_alone() -> None:
    stored = dict(V1_NOTE)

    upcast = upcast_note_added_v1_v2(stored)

    assert upcast == {**V1_NOTE, "visibility": "internal"}
    assert upcast is not stored
    assert stored == V1_NOTE


v1_texts = st.text(min_size=1, max_size=300).map(str.strip).filter(bool)


@given(note_id=st.uuids(), text=v1_texts)
def test_upcaster_is_total_over_valid_v1_notes(note_id: UUID, text: str) -> None:
    decoded = decode("timeline.note_added", 1, {"note_id": str(note_id), "text": text}, AT)

    assert isinstance(decoded, NoteAdded)
    assert (decoded.note_id, decoded.text) == (note_id, text)
    assert decoded.visibility is NoteVisibility.INTERNAL


def test_the_note_upcaster_is_registered_for_version_1() -> None:
    assert UPCASTERS[("timeline.note_added", 1)] is upcast_note_added_v1_v2
    assert CURRENT_VERSIONS["timeline.note_added"] == 2


def test_every_version_ever_written_has_a_path_to_the_current_one() -> None:
    # Version 1 .. current - 1 each need an upcaster; none may exist at or past current.
    for (type_, version), _upcast in UPCASTERS.items():
        assert type_ in CURRENT_VERSIONS, f"upcaster for unknown event type {type_}"
        assert 1 <= version < CURRENT_VERSIONS[type_], f"{type_} v{version} is not an old version"
    for type_, current in CURRENT_VERSIONS.items():
        missing = [v for v in range(1, current) if (type_, v) not in UPCASTERS]
        assert missing == [], f"{type_}: no upcaster from version(s) {missing}"


def test_chain_runs_each_upcaster_once_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def v0_to_v1(data: dict[str, Any]) -> dict[str, Any]:
        calls.append(0)
        return {"note_id": data["note_id"], "text": data["body"]}

    def v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
        calls.append(1)
        return upcast_note_added_v1_v2(data)

    monkeypatch.setitem(UPCASTERS, ("timeline.note_added", 0), v0_to_v1)
    monkeypatch.setitem(UPCASTERS, ("timeline.note_added", 1), v1_to_v2)

    decoded = decode("timeline.note_added", 0, {"note_id": str(NOTE_ID), "body": "hi"}, AT)

    assert calls == [0, 1]
    assert decoded == NoteAdded(
        occurred_at=AT, note_id=NOTE_ID, text="hi", visibility=NoteVisibility.INTERNAL
    )


def test_current_version_is_not_upcast() -> None:
    # Were the v1 upcaster applied, it would overwrite "public" with "internal".
    stored = {**V1_NOTE, "visibility": "public"}

    decoded = decode("timeline.note_added", 2, stored, AT)

    assert isinstance(decoded, NoteAdded)
    assert decoded.visibility is NoteVisibility.PUBLIC


def test_v2_note_without_visibility_is_refused() -> None:
    with pytest.raises(ValidationError, match="visibility"):
        decode("timeline.note_added", 2, V1_NOTE, AT)


@pytest.mark.parametrize(
    ("type_", "version", "data"),
    [
        ("timeline.note_added", 3, {**V1_NOTE, "visibility": "internal"}),
        ("timeline.note_added", 99, {**V1_NOTE, "visibility": "internal", "pinned": True}),
        ("incident.acknowledged", 2, {}),
    ],
)
def test_version_newer_than_the_code_is_refused_with_a_clear_error(
    type_: str, version: int, data: dict[str, Any]
) -> None:
    expected = (
        f"{type_} is stored as schema version {version}, but this release reads up to"
        f" version {CURRENT_VERSIONS[type_]}; upgrade the service"
    )
    with pytest.raises(UnknownSchemaVersion, match=expected):
        decode(type_, version, data, AT)


def test_newer_version_is_refused_before_any_upcaster_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(data: dict[str, Any]) -> dict[str, Any]:
        raise AssertionError("an upcaster ran on data newer than the code")

    monkeypatch.setitem(UPCASTERS, ("timeline.note_added", 3), refuse)

    with pytest.raises(UnknownSchemaVersion):
        decode("timeline.note_added", 3, {**V1_NOTE, "visibility": "internal"}, AT)
