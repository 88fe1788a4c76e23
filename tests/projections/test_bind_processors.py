"""The quick SQLite bind processors write exactly what SQLAlchemy's own would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Uuid
from sqlalchemy.dialects import sqlite

from eventstore.types import UtcDateTime
from projections.sql import bind_processor

DIALECT = sqlite.dialect()
UUID_TYPE = Uuid()
TIME_TYPE = UtcDateTime()


def _general(type_: Uuid[UUID] | UtcDateTime) -> object:
    process = type_.dialect_impl(DIALECT).bind_processor(DIALECT)
    assert process is not None
    return process


@given(st.uuids())
def test_uuid_text_is_sqlalchemys(value: UUID) -> None:
    quick = bind_processor(UUID_TYPE, DIALECT)
    assert quick is not None
    assert quick(value) == _general(UUID_TYPE)(value)  # type: ignore[operator]


@given(st.datetimes(timezones=st.just(UTC)))
def test_utc_time_text_is_sqlalchemys(value: datetime) -> None:
    quick = bind_processor(TIME_TYPE, DIALECT)
    assert quick is not None
    assert quick(value) == _general(TIME_TYPE)(value)  # type: ignore[operator]


def test_other_offsets_and_none_go_through_sqlalchemy() -> None:
    quick = bind_processor(TIME_TYPE, DIALECT)
    assert quick is not None
    plus_two = datetime(2026, 11, 27, 16, 5, tzinfo=timezone(timedelta(hours=2)))
    assert quick(plus_two) == "2026-11-27 14:05:00.000000"
    assert quick(None) is None
    with pytest.raises(ValueError, match="naive"):
        quick(datetime(2026, 11, 27, 14, 5))  # noqa: DTZ001 - a naive time is the point
