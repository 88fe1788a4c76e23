"""Database faults: which errors are the database's state (503, named), which are bugs;
a read-only database on both backends; /readyz for probes and for people."""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, func, select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from api.app import create_app
from application.database_faults import Cause, classify
from application.database_health import WriteHealth
from application.settings import Settings
from eventstore.schema import events
from tests.api.conftest import ADMIN_TOKEN

DECLARE = {"title": "Checkout returns 502", "severity": "SEV2", "services": ["checkout"]}


def sqlite_error(tmp_path: Path, *setup: str, statement: str) -> sqlite3.Error:
    """The error SQLite itself raises for ``statement`` after ``setup``."""
    conn = sqlite3.connect(tmp_path / "probe.db", isolation_level=None)
    conn.execute("CREATE TABLE IF NOT EXISTS t (x TEXT)")
    for line in setup:
        conn.execute(line)
    try:
        conn.execute(statement)
    except sqlite3.Error as exc:
        return exc
    finally:
        conn.close()
    raise AssertionError(f"{statement} did not fail")


def wrapped(error: Exception) -> DBAPIError:
    """As SQLAlchemy raises it."""
    return DBAPIError.instance("SELECT 1", {}, error, psycopg.Error)


def test_sqlite_faults_are_named_by_their_cause(tmp_path: Path) -> None:
    full = sqlite_error(
        tmp_path, "PRAGMA max_page_count = 2", statement="INSERT INTO t SELECT zeroblob(99999)"
    )
    assert "database or disk is full" in str(full)
    assert classify(wrapped(full)) is Cause.FULL
    read_only = sqlite_error(
        tmp_path, "PRAGMA query_only = ON", statement="INSERT INTO t VALUES (1)"
    )
    assert classify(wrapped(read_only)) is Cause.READ_ONLY
    # Bugs stay bugs: a missing table, a constraint.
    missing = sqlite_error(tmp_path, statement="SELECT * FROM no_such_table")
    assert classify(wrapped(missing)) is None
    assert classify(IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE"))) is None


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_postgres_faults_are_named_by_their_cause() -> None:
    with pytest.raises(psycopg.OperationalError) as refused:
        psycopg.connect(f"postgresql://postgres@127.0.0.1:{closed_port()}/x", connect_timeout=2)
    assert classify(OperationalError("connect", {}, refused.value)) is Cause.UNREACHABLE
    assert classify(wrapped(psycopg.errors.DiskFull("could not extend file"))) is Cause.FULL
    assert classify(wrapped(psycopg.errors.ReadOnlySqlTransaction())) is Cause.READ_ONLY
    assert classify(wrapped(psycopg.errors.AdminShutdown())) is Cause.UNREACHABLE
    assert classify(wrapped(psycopg.errors.UniqueViolation())) is None
    assert classify(wrapped(psycopg.errors.RaiseException("append-only: UPDATE"))) is None
    assert classify(RuntimeError("not the database")) is None


class ReadOnlySwitch:
    """Makes every new connection of an engine read-only, the way each backend can."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.on = False
        event.listen(engine, "connect", self._connected)

    def _connected(self, dbapi_connection: Any, _: Any) -> None:
        if not self.on:
            return
        cursor = dbapi_connection.cursor()
        if self.engine.dialect.name == "sqlite":
            cursor.execute("PRAGMA query_only = ON")
        else:  # as on a hot standby, or after ALTER DATABASE ... SET ...read_only
            cursor.execute("SET SESSION default_transaction_read_only = on")
            dbapi_connection.commit()
        cursor.close()

    def set(self, on: bool) -> None:
        self.on = on
        self.engine.dispose()  # pooled connections were opened in the other mode


@pytest.fixture
def switched(app_settings: Settings) -> Iterator[tuple[TestClient, ReadOnlySwitch]]:
    """A client whose database can be made read-only. The switch's listener goes on before
    the server starts its threads: added while one of them makes its first connection, it
    races SQLAlchemy's own listeners."""
    app = create_app(app_settings)
    switch = ReadOnlySwitch(app.state.engine)
    with TestClient(app) as client:
        client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        yield client, switch
        switch.set(False)


def stored(client: TestClient) -> int:
    engine: Engine = client.app.state.engine  # type: ignore[attr-defined]
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(events)).scalar_one())


def test_a_read_only_database_refuses_writes_with_503_and_readiness_follows(
    switched: tuple[TestClient, ReadOnlySwitch],
) -> None:
    client, read_only = switched
    anonymous = TestClient(client.app)
    health: WriteHealth = client.app.state.write_health  # type: ignore[attr-defined]
    health.probe_after_seconds = 0  # every /readyz tries its probe write
    incident = client.post("/incidents", json=DECLARE).json()["id"]
    before = stored(client)
    read_only.set(True)
    assert anonymous.get("/readyz").status_code == 200  # no write has failed yet

    for path, body in [("/incidents", DECLARE), (f"/incidents/{incident}/notes", {"text": "x"})]:
        refused = client.post(path, json=body)
        assert refused.status_code == 503, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.headers["retry-after"] == "30"
        assert refused.json()["detail"].startswith("database read-only")
    assert client.get(f"/incidents/{incident}").status_code == 200  # reads still work
    for caller in (anonymous, client):
        readiness = caller.get("/readyz")
        assert readiness.status_code == 503
        assert readiness.json()["detail"].startswith("database read-only: writes are failing")
    assert stored(client) == before

    read_only.set(False)
    # /readyz tries a write itself: a process out of rotation gets no writes to try.
    assert anonymous.get("/readyz").status_code == 200
    assert stored(client) == before  # the probe leaves nothing behind
    assert client.post("/incidents", json=DECLARE).status_code == 201


def test_a_fresh_write_failure_stands_until_a_write_succeeds(client: TestClient) -> None:
    health: WriteHealth = client.app.state.write_health  # type: ignore[attr-defined]
    anonymous = TestClient(client.app)
    health.failed(Cause.FULL)
    # A small probe might fit where the failed write did not: it waits its turn.
    refused = anonymous.get("/readyz")
    assert refused.status_code == 503
    assert refused.json()["detail"].startswith("database full: writes are failing")
    assert client.post("/incidents", json=DECLARE).status_code == 201
    assert anonymous.get("/readyz").status_code == 200


def test_readyz_answers_probes_and_tells_callers_with_a_token_more(client: TestClient) -> None:
    anonymous = TestClient(client.app).get("/readyz")
    assert anonymous.status_code == 200
    assert anonymous.json() == {"status": "ready", "database": "ok"}
    detailed = client.get("/readyz").json()
    assert detailed["status"] == "ready"
    assert {p["name"] for p in detailed["projections"]} >= {"incident_summary"}
    mistyped = TestClient(client.app, headers={"Authorization": f"Bearer {ADMIN_TOKEN}x"})
    assert mistyped.get("/readyz").status_code == 401


def test_readyz_names_lagging_read_models_only_to_callers_with_a_token(client: TestClient) -> None:
    client.post("/incidents", json=DECLARE)
    client.app.state.settings.ready_max_lag = -1  # type: ignore[attr-defined]
    anonymous = TestClient(client.app).get("/readyz")
    assert anonymous.status_code == 503
    assert anonymous.json()["detail"] == "the read models are not caught up yet"
    assert "projections" not in anonymous.json()
    detailed = client.get("/readyz")
    assert detailed.status_code == 503
    assert "incident_summary is 0 events behind" in detailed.json()["detail"]
    assert detailed.json()["projections"]
