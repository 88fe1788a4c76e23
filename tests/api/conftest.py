"""The HTTP API on a fresh, migrated database of each backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from application.settings import Settings

ADMIN_TOKEN = "il_test-admin-token"
"""Seeded through INCIDENTS_ADMIN_TOKEN's setting; its name, the actor, is "admin"."""

STREAM_SECONDS = 0.2
"""GET /events/stream ends after this long here: the test client (and schemathesis, which
uses it) reads a response to its end, and an endless stream would never answer."""


@pytest.fixture
def app_settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        admin_token=ADMIN_TOKEN,
        events_stream_max_seconds=STREAM_SECONDS,
        log_signing_key_file=str(tmp_path / "log-signing.key"),
    )


@pytest.fixture
def client(app_settings: Settings) -> Iterator[TestClient]:
    """A client of the whole application, as the admin; the context manager runs its lifespan."""
    with TestClient(create_app(app_settings)) as client:
        client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        yield client
