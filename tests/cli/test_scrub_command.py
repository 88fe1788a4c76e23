"""``incidents scrub`` after a redaction: the erased text and its data key are in none of
the SQLite database's files (``secure_delete`` zeroes deleted rows, the search index is
merged, the write-ahead log emptied); on PostgreSQL the keys table is rewritten."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from api.app import create_app
from application.settings import Settings
from eventstore.engine import create_engine
from eventstore.schema import text_keys
from tests.api.conftest import ADMIN_TOKEN
from tests.api.helpers import declare, ok
from tests.cli.runner import run_cli

TOKEN = b"zqxjvw7731"
"""A word written nowhere else: its bytes on disk can only come from the note."""


def _files(database: Path) -> bytes:
    return b"".join(
        path.read_bytes()
        for path in database.parent.iterdir()
        if path.name.startswith(database.name)
    )


def _searchable_note(settings: Settings) -> tuple[str, str]:
    """A note holding TOKEN, found by search: (incident id, note id)."""
    with TestClient(create_app(settings)) as client:
        client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        incident_id = declare(client)
        answer = client.post(
            f"/incidents/{incident_id}/notes",
            json={"text": f"Customer {TOKEN.decode()}@example.com called"},
        )
        assert ok(client.get("/search", params={"q": TOKEN.decode()}))["items"]
    return incident_id, answer.json()["note_id"]


def _redact(settings: Settings, incident_id: str, note_id: str) -> None:
    with TestClient(create_app(settings)) as client:
        client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        ok(
            client.patch(
                f"/incidents/{incident_id}/timeline/{note_id}",
                json={"redacted": True, "reason": "PII"},
            )
        )
        assert ok(client.get("/search", params={"q": TOKEN.decode()}))["items"] == []


def _wrapped_key(engine: Engine) -> bytes:
    with engine.connect() as conn:
        (wrapped,) = conn.execute(select(text_keys.c.wrapped_key)).scalars().all()
    return bytes(wrapped)


def _redacted_note(settings: Settings, engine: Engine) -> bytes:
    """A note holding TOKEN, found by search, then redacted; its wrapped data key."""
    incident_id, note_id = _searchable_note(settings)
    wrapped = _wrapped_key(engine)
    _redact(settings, incident_id, note_id)
    return wrapped


def _redacted_note_at(url: str, settings: Settings) -> bytes:
    """``_redacted_note`` in the database at ``url``, through an engine of its own."""
    engine = create_engine(url)
    try:
        return _redacted_note(settings, engine)
    finally:
        engine.dispose()


def _copied_template(tmp_path: Path, sqlite_template: Path) -> tuple[Path, str, Settings]:
    """A migrated SQLite database of its own: its file, URL and the service's settings."""
    database = tmp_path / "db" / "incidents.db"
    database.parent.mkdir()
    database.write_bytes(sqlite_template.read_bytes())
    url = f"sqlite:///{database}"
    settings = Settings(
        database_url=url,
        admin_token=ADMIN_TOKEN,
        log_signing_key_file=str(tmp_path / "log-signing.key"),
    )
    return database, url, settings


def test_after_scrub_the_sqlite_files_hold_neither_the_text_nor_its_key(
    tmp_path: Path, sqlite_template: Path
) -> None:
    database, url, settings = _copied_template(tmp_path, sqlite_template)
    engine = create_engine(url)
    try:
        # Before the redaction the text is on disk (the read models hold it): the check
        # below can see it.
        with TestClient(create_app(settings)) as client:
            client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
            incident_id = declare(client)
            client.post(f"/incidents/{incident_id}/notes", json={"text": f"kept {TOKEN.decode()}"})
        run_cli("scrub", "--database-url", url)
        assert TOKEN in _files(database)
    finally:
        engine.dispose()

    database.unlink()
    for leftover in database.parent.iterdir():
        leftover.unlink()
    database.write_bytes(sqlite_template.read_bytes())
    wrapped = _redacted_note_at(url, settings)
    done = run_cli("scrub", "--database-url", url)
    assert done.exit_code == 0, done.stdout + done.stderr
    assert "OK" in done.stdout + done.stderr

    on_disk = _files(database)
    assert TOKEN not in on_disk
    assert wrapped not in on_disk


def test_scrub_runs_on_either_database(database_url: str, engine: Engine) -> None:
    done = run_cli("scrub", "--database-url", database_url)

    assert done.exit_code == 0, done.stdout + done.stderr
    expected = "VACUUM FULL text_keys" if engine.dialect.name == "postgresql" else "optimize"
    assert expected in done.stdout + done.stderr


@pytest.mark.parametrize("rebuilt", ["before the redaction", "after the redaction"])
def test_a_rebuild_leaves_no_trace_of_the_redacted_text_either(
    tmp_path: Path, sqlite_template: Path, rebuilt: str
) -> None:
    # A rebuild drops the tables it replaces, which held the note's text when it ran:
    # zeroed as they go, or the text of a note redacted later would stay in free pages.
    database, url, settings = _copied_template(tmp_path, sqlite_template)

    def rebuild() -> None:
        done = run_cli("rebuild", "--database-url", url)
        assert done.exit_code == 0, done.stdout + done.stderr

    engine = create_engine(url)
    try:
        incident_id, note_id = _searchable_note(settings)
        wrapped = _wrapped_key(engine)
        if rebuilt == "before the redaction":
            rebuild()
        _redact(settings, incident_id, note_id)
    finally:
        engine.dispose()
    if rebuilt == "after the redaction":
        rebuild()
    done = run_cli("scrub", "--database-url", url)
    assert done.exit_code == 0, done.stdout + done.stderr

    on_disk = _files(database)
    assert TOKEN not in on_disk
    assert wrapped not in on_disk


def test_scrub_exits_1_and_claims_nothing_while_a_reader_keeps_the_log(
    tmp_path: Path, sqlite_template: Path
) -> None:
    # A reader holding a snapshot keeps SQLite's write-ahead log in use: the checkpoint
    # cannot empty it, and the log may still hold the note. The checkpoint answers "busy"
    # rather than failing, so scrub has to look at its answer.
    database, url, settings = _copied_template(tmp_path, sqlite_template)
    wrapped = _redacted_note_at(url, settings)
    wal = database.parent / f"{database.name}-wal"
    reader = sqlite3.connect(database)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM events").fetchone()
        held = run_cli("scrub", "--database-url", url, "--wait", "0.2")
        output = held.stdout + held.stderr
        assert held.exit_code == 1, output
        assert "kept reading" in output
        assert "OK" not in output
        assert wal.stat().st_size > 0
    finally:
        reader.close()

    done = run_cli("scrub", "--database-url", url)
    assert done.exit_code == 0, done.stdout + done.stderr
    on_disk = _files(database)
    assert TOKEN not in on_disk
    assert wrapped not in on_disk


def test_scrub_by_a_role_that_does_not_own_the_tables_exits_1(engine: Engine) -> None:
    # PostgreSQL skips VACUUM of another role's table with a warning alone: an OK then
    # would say erased text had left the files when nothing was done.
    if engine.dialect.name != "postgresql":
        pytest.skip("table owners are PostgreSQL's")
    role = f"scrub_reader_{uuid4().hex[:8]}"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
        conn.exec_driver_sql(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
    try:
        url = engine.url.set(username=role).render_as_string(hide_password=False)
        done = run_cli("scrub", "--database-url", url)

        assert done.exit_code == 1, done.stdout + done.stderr
        assert f"the role {role} does not own search_documents, text_keys" in done.stderr
        assert "OK" not in done.stdout + done.stderr
    finally:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f"DROP OWNED BY {role}")
            conn.exec_driver_sql(f"DROP ROLE {role}")
