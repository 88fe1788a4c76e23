"""Backends for every store, projection and API test: SQLite and PostgreSQL, fresh per test.

Each test gets its own database, cloned from one migrated template per test session:
a file copy on SQLite, ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL. PostgreSQL
tests skip when no server is reachable, except under ``CI=true`` where they fail.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine

from application.migrations import migrate
from eventstore import EventStore
from eventstore.engine import create_engine

POSTGRES_ADMIN_URL = os.environ.get(
    "INCIDENTS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI", "").lower() == "true"


def _admin() -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3)


def _pg_url(database: str) -> str:
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{database}".replace("postgresql://", "postgresql+psycopg://", 1)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = create_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    try:
        admin = _admin()
    except psycopg.OperationalError as exc:
        message = f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}: {exc}".strip()
        if IN_CI:
            pytest.fail(f"CI=true requires PostgreSQL. {message}")
        pytest.skip(message)
    name = f"incidents_tpl_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    engine = create_engine(_pg_url(name))
    migrate(engine)
    engine.dispose()
    try:
        yield name
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    backend: str = request.param
    return backend


@contextmanager
def fresh_database(backend: str, request: pytest.FixtureRequest, path: Path) -> Iterator[str]:
    """A freshly migrated, empty database (SQLite at ``path``), dropped afterwards."""
    if backend == "sqlite":
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    template = request.getfixturevalue("postgres_template")
    name = f"incidents_test_{uuid.uuid4().hex[:12]}"
    with _admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    try:
        yield _pg_url(name)
    finally:
        with _admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A freshly migrated, empty database of the requested backend."""
    with fresh_database(backend, request, tmp_path / "incidents.db") as url:
        yield url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def store(engine: Engine) -> EventStore:
    return EventStore(engine)
