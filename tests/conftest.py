"""Backends for every store, projection, application and API test: SQLite and PostgreSQL.

Each test gets its own database, cloned from one migrated template per test session:
a file copy on SQLite, ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL. On PostgreSQL,
making and dropping a database takes most of a second (the server syncs its files), as
long as many a test: a thread of the session makes the next ones while tests run, and
drops those done with (``_PostgresClones``). PostgreSQL tests skip when no server is
reachable, except under ``CI=true`` where they fail.
Fixtures used from more than one test folder live here; helpers (no fixtures) shared
the same way live in tests/support/.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
import uuid
import warnings
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine

from application.schema_migrations import migrate
from eventstore import EventStore
from eventstore.engine import create_engine
from eventstore.sealed_text import TextVault, install_default_vault
from tests.support.transfer import export_bytes, write_history

POSTGRES_ADMIN_URL = os.environ.get(
    "INCIDENTS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI", "").lower() == "true"

TEXT_SECRET_KEY = "Bq7XoD8b6xbq2x4g3kO6iGdjqk8v7Wn5m2Hf9YtQe1c="
"""The secret key the suite seals note and alert text with, wherever it makes an engine:
the service's settings read it from the environment, engines made directly use the
default vault."""
os.environ.setdefault("INCIDENTS_SECRET_KEY", TEXT_SECRET_KEY)
install_default_vault(TextVault.from_secret(os.environ["INCIDENTS_SECRET_KEY"]))


def _admin() -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3)


def _reachable_admin() -> psycopg.Connection[tuple[object, ...]]:
    """An admin connection; skips the test without a server (fails it under ``CI=true``)."""
    try:
        return _admin()
    except psycopg.OperationalError as exc:
        message = f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}: {exc}".strip()
        if IN_CI:
            pytest.fail(f"CI=true requires PostgreSQL. {message}")
        pytest.skip(message)


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
    admin = _reachable_admin()
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


class _PostgresClones:
    """Copies of one template made ahead of need and dropped behind, by one thread.

    Every test still gets a database nobody used before; only the waiting moves off
    the test's path. One thread does both, in order, so at most ``ahead`` spare copies
    exist at a time and a drop never races the copy it follows. A fork (the SQLite chain
    check forks its workers) waits for the thread's current statement: a child must not
    inherit a lock that thread holds inside the driver.
    """

    def __init__(self, template: str, ahead: int = 2) -> None:
        self._template = template
        self._ahead = ahead
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pg-clones")
        self._coming: deque[Future[str]] = deque()
        self._drops: dict[str, Future[None]] = {}
        self._busy = threading.Lock()
        os.register_at_fork(
            before=self._busy.acquire,
            after_in_parent=self._busy.release,
            after_in_child=self._busy.release,
        )

    def _make(self) -> str:
        name = f"{self._template}_{uuid.uuid4().hex[:8]}"
        with self._busy, _admin() as admin:
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self._template}"')
        return name

    def _drop(self, name: str) -> None:
        with self._busy, _admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def take(self) -> str:
        """A new copy's name (made now if none is ready); the next one is started."""
        while len(self._coming) < self._ahead + 1:
            self._coming.append(self._thread.submit(self._make))
        try:
            return self._coming.popleft().result()
        except psycopg.OperationalError:
            # The server went away: skips, or fails under CI=true, as without a server.
            _reachable_admin().close()
            raise

    def give_back(self, name: str) -> None:
        """Drop ``name`` in the background; its connections are ended."""
        self._drops = {n: d for n, d in self._drops.items() if not d.done() or d.exception()}
        self._drops[name] = self._thread.submit(self._drop, name)

    def close(self) -> list[str]:
        """Drop the spare copies and wait for every drop; the names of those left behind."""
        try:
            while self._coming:
                future = self._coming.popleft()
                if future.exception() is None:
                    self.give_back(future.result())
        finally:
            self._thread.shutdown(wait=True)
        return [name for name, drop in self._drops.items() if drop.exception() is not None]


@pytest.fixture(scope="session")
def postgres_clones(postgres_template: str) -> Iterator[_PostgresClones]:
    clones = _PostgresClones(postgres_template)
    try:
        yield clones
    finally:
        left = clones.close()
        if left:
            warnings.warn(f"PostgreSQL databases not dropped: {', '.join(left)}", stacklevel=1)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    backend: str = request.param
    return backend


@contextmanager
def _postgres_database(prefix: str) -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with _reachable_admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _pg_url(name)
    finally:
        with _admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def fresh_database(backend: str, request: pytest.FixtureRequest, path: Path) -> Iterator[str]:
    """A freshly migrated, empty database (SQLite at ``path``), dropped afterwards."""
    if backend == "sqlite":
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    clones: _PostgresClones = request.getfixturevalue("postgres_clones")
    name = clones.take()
    try:
        yield _pg_url(name)
    finally:
        clones.give_back(name)


def unmigrated_postgres(prefix: str) -> AbstractContextManager[str]:
    """A new PostgreSQL database without any schema, dropped afterwards."""
    return _postgres_database(prefix)


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


NewDatabase = Callable[[str], Engine]
"""Makes a fresh, migrated database of the named backend and returns an engine on it."""


@pytest.fixture
def new_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[NewDatabase]:
    """More fresh, migrated databases of either backend within one test, all dropped after it."""
    with ExitStack() as stack:

        def make(backend: str) -> Engine:
            path = tmp_path / f"{uuid.uuid4().hex[:8]}.db"
            engine = create_engine(stack.enter_context(fresh_database(backend, request, path)))
            stack.callback(engine.dispose)
            return engine

        yield make


@pytest.fixture(scope="session")
def history_file(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """One exported history, for tests that damage or cut the file (never the log)."""
    path = tmp_path_factory.mktemp("history") / "history.db"
    shutil.copyfile(sqlite_template, path)
    engine = create_engine(f"sqlite:///{path}")
    write_history(engine)
    exported = export_bytes(engine)
    engine.dispose()
    return exported
