"""SQLite's disk fills up under the service: writes answer 503 "database full", reads
keep working, /readyz reports it, nothing acknowledged is lost, and once there is room
again everything works without a restart.

Two ways to fill it: a small tmpfs (when the tests may mount one, as root), and SQLite's
own page limit (``PRAGMA max_page_count``), which raises the same SQLITE_FULL anywhere.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, func, select, text

from api.app import create_app
from application.settings import Settings
from eventstore.schema import events
from tests.api.conftest import ADMIN_TOKEN

DECLARE = {"title": "Disk almost full on db-01", "severity": "SEV2", "services": ["db"]}
NOTE = {"text": "the volume is at 99 percent " * 150}  # a few pages per write


class Disk(Protocol):
    def fill(self) -> None: ...
    def free(self) -> None: ...


class Tmpfs:
    """A filler file that takes all but a few KiB of the tmpfs the database lives on."""

    def __init__(self, mount: Path) -> None:
        self.filler = mount / "filler"

    def fill(self) -> None:
        chunk = b"\0" * 65536
        with self.filler.open("wb", buffering=0) as out, contextlib.suppress(OSError):
            while True:
                out.write(chunk)
        # Give back a little: the next write or two still fit, then the disk is full.
        os.truncate(self.filler, max(0, self.filler.stat().st_size - 24 * 1024))

    def free(self) -> None:
        self.filler.unlink()


class PageLimit:
    """``PRAGMA max_page_count`` a few pages above the database's size, on every connection."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.limit: int | None = None
        event.listen(engine, "connect", self._connected)

    def _connected(self, dbapi_connection: Any, _: Any) -> None:
        if self.limit is not None:
            dbapi_connection.execute(f"PRAGMA max_page_count = {self.limit}")

    def fill(self) -> None:
        with self.engine.connect() as conn:
            pages = int(conn.execute(text("PRAGMA page_count")).scalar_one())
        self.limit = pages + 4
        self.engine.dispose()

    def free(self) -> None:
        self.limit = None
        self.engine.dispose()


@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root; the page-limit variant covers SQLITE_FULL")
    path.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


@pytest.fixture(params=["tmpfs", "page-limit"])
def full_disk(
    request: pytest.FixtureRequest, sqlite_template: Path, tmp_path: Path
) -> Iterator[tuple[TestClient, Disk]]:
    with contextlib.ExitStack() as stack:
        if request.param == "tmpfs":
            directory = stack.enter_context(tmpfs(tmp_path / "disk", "2m"))
        else:
            directory = tmp_path
        database = directory / "incidents.db"
        shutil.copyfile(sqlite_template, database)
        settings = Settings(database_url=f"sqlite:///{database}", admin_token=ADMIN_TOKEN)
        app = create_app(settings)
        engine: Engine = app.state.engine
        # The page limit's listener goes on before the server starts its threads: added
        # while one of them makes its first connection, it races SQLAlchemy's listeners.
        disk: Disk = Tmpfs(directory) if request.param == "tmpfs" else PageLimit(engine)
        client = stack.enter_context(TestClient(app))
        client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        yield client, disk
        engine.dispose()  # close the files before the tmpfs goes


def stored(client: TestClient) -> int:
    engine: Engine = client.app.state.engine  # type: ignore[attr-defined]
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(events)).scalar_one())


def test_a_full_disk_answers_503_and_recovers_when_there_is_room(
    full_disk: tuple[TestClient, Disk],
) -> None:
    client, disk = full_disk
    incident = client.post("/incidents", json=DECLARE).json()["id"]
    before = stored(client)
    disk.fill()
    acknowledged, refusal = 0, None
    for _ in range(200):
        answer = client.post(f"/incidents/{incident}/notes", json=NOTE)
        assert answer.status_code in (201, 503), answer.text
        if answer.status_code == 503:
            refusal = answer
            break
        acknowledged += 1
    assert refusal is not None, "the disk never filled up"
    assert refusal.headers["content-type"] == "application/problem+json"
    assert refusal.headers["retry-after"] == "30"
    assert refusal.json()["detail"].startswith("database full")
    assert client.get(f"/incidents/{incident}/timeline").status_code == 200
    readiness = TestClient(client.app).get("/readyz")
    assert readiness.status_code == 503
    assert readiness.json()["detail"].startswith("database full: writes are failing")
    assert stored(client) == before + acknowledged  # every 201 is there, nothing else

    disk.free()
    assert client.post(f"/incidents/{incident}/notes", json=NOTE).status_code == 201
    assert TestClient(client.app).get("/readyz").status_code == 200  # a write succeeded
    assert stored(client) == before + acknowledged + 1
