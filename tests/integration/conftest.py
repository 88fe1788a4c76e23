"""What the real-server tests share: a PostgreSQL database whatever backend a test is on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import fresh_database


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database, for tests of what only PostgreSQL does."""
    with fresh_database("postgresql", request, tmp_path / "unused.db") as url:
        yield url
