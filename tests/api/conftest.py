"""The HTTP API on a fresh, migrated database of each backend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    """A client of the whole application; the context manager runs its lifespan."""
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        yield client
