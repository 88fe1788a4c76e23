"""``incidents verify-export FILE --public-key KEY``: an export from SQLite or PostgreSQL checked
with nothing but the file and the service's public key.

OK with the head on an untouched export; exit 1 naming the position when one byte of an
event changed (the trailer's digest fixed, so only the chain can tell), when an event
line is gone, when the key is not the one that signed, when the export is unsigned or a
kept checkpoint is not a prefix of it; exit 2 when the input cannot be read. An import of
the untouched file then passes ``incidents verify`` with the source's chain.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from application.log_checkpoints import LogSigner, public_pem
from cli.main import app
from eventstore import EventStore, NewEvent
from eventstore.chain import last_link
from eventstore.schema import events
from eventstore.transfer.export import export_log
from tests.cli.runner import run_cli
from tests.conftest import NewDatabase
from tests.support.log_files import as_version_1, changed_event, event_lines, without_event
from tests.support.transfer import BASE, import_bytes


@pytest.fixture
def key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "log-signing.key"
    monkeypatch.setenv("INCIDENTS_LOG_SIGNING_KEY_FILE", str(path))
    return path


@pytest.fixture
def no_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the settings would put a database: verify-export must never create it."""
    path = tmp_path / "never" / "incidents.db"
    monkeypatch.setenv("INCIDENTS_DATABASE_URL", f"sqlite:///{path}")
    return path


def fill(engine: Engine, events: int = 8) -> None:
    """Events in streams of one and two, so removing one leaves every stream's versions whole
    after it (the chain, not the version check, is what notices)."""
    store = EventStore(engine)
    for n in range(events):
        data = {"n": n, "text": f"observation {n}: é 🚒", "nested": {"b": 1, "a": [1.5, None]}}
        event = NewEvent(uuid.uuid4(), "test.recorded", data, BASE, metadata={"actor": "alice"})
        store.append(f"incident-{uuid.uuid4()}", [event], 0)


def exported(engine: Engine, key_file: Path, tmp_path: Path) -> Path:
    """The log exported by ``incidents export``, which signs the head with ``key_file``."""
    path = tmp_path / f"export-{uuid.uuid4().hex[:6]}.jsonl"
    done = run_cli("export", str(path), "--database-url", engine.url.render_as_string(False))
    assert done.exit_code == 0, done.output
    assert "signed by key" in done.stderr
    return path


def public_key(key_file: Path, tmp_path: Path, engine: Engine) -> Path:
    """The PEM an auditor got from GET /log/public-key."""
    path = tmp_path / "log-key.pem"
    path.write_text(public_pem(LogSigner(engine, key_file).public_key))
    return path


def verify_export(file: Path, key: Path, *args: str) -> tuple[int, str]:
    done = run_cli("verify-export", str(file), "--public-key", str(key), *args)
    return done.exit_code, done.stdout + done.stderr


def test_an_untouched_export_verifies_with_only_the_public_key(
    engine: Engine, key_file: Path, no_database: Path, tmp_path: Path
) -> None:
    fill(engine)
    export = exported(engine, key_file, tmp_path)
    key = public_key(key_file, tmp_path, engine)
    with engine.connect() as conn:
        head, digest = last_link(conn)

    code, out = verify_export(export, key)

    assert code == 0, out
    assert f"OK: 8 events, head position {head}, chain {digest.hex()}" in out
    assert not no_database.parent.exists()


def test_one_changed_byte_of_event_data_fails_at_its_position(
    engine: Engine, key_file: Path, tmp_path: Path
) -> None:
    fill(engine)
    export = exported(engine, key_file, tmp_path)
    key = public_key(key_file, tmp_path, engine)
    target = event_lines(export.read_bytes())[3]
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_bytes(changed_event(export.read_bytes(), 3, b'"observation 3', b'"observation 4'))

    code, out = verify_export(damaged, key)

    assert code == 1, out
    assert f"FAILED at line 5: position {target['position']} does not chain" in out


def test_a_removed_event_line_fails_at_the_next_position(
    engine: Engine, key_file: Path, tmp_path: Path
) -> None:
    fill(engine)
    export = exported(engine, key_file, tmp_path)
    key = public_key(key_file, tmp_path, engine)
    after = event_lines(export.read_bytes())[4]
    damaged = tmp_path / "shortened.jsonl"
    damaged.write_bytes(without_event(export.read_bytes(), 3))

    code, out = verify_export(damaged, key)

    assert code == 1, out
    assert f"FAILED at line 5: position {after['position']} does not chain" in out


def test_another_key_fails(engine: Engine, key_file: Path, tmp_path: Path) -> None:
    fill(engine, events=2)
    export = exported(engine, key_file, tmp_path)
    other = tmp_path / "other.pem"
    other.write_text(public_pem(Ed25519PrivateKey.generate().public_key()))

    code, out = verify_export(export, other)

    assert code == 1, out
    assert "is not signed by this key (the export's trailer)" in out


def test_an_unsigned_export_fails(engine: Engine, key_file: Path, tmp_path: Path) -> None:
    fill(engine, events=2)
    unsigned = tmp_path / "unsigned.jsonl"
    with unsigned.open("wb") as file:
        export_log(engine, file)

    code, out = verify_export(unsigned, public_key(key_file, tmp_path, engine))

    assert code == 1, out
    assert "carries no signed checkpoint" in out


def test_kept_checkpoints_must_be_prefixes_of_the_export(
    engine: Engine, backend: str, new_database: NewDatabase, key_file: Path, tmp_path: Path
) -> None:
    fill(engine, events=3)
    early = tmp_path / "early.json"
    early.write_bytes(orjson.dumps(LogSigner(engine, key_file).checkpoint().document()))
    fill(engine, events=2)
    export = exported(engine, key_file, tmp_path)
    key = public_key(key_file, tmp_path, engine)
    # A log written again from the start: a checkpoint of it is signed by the same key,
    # but the export does not contain that history.
    other = new_database(backend)
    fill(other, events=3)
    foreign = tmp_path / "foreign.json"
    foreign.write_bytes(orjson.dumps([LogSigner(other, key_file).checkpoint().document()]))

    code, out = verify_export(export, key, "--checkpoint", str(early))
    assert code == 0, out
    assert "1 kept checkpoint(s) contained" in out
    code, out = verify_export(export, key, "--checkpoint", str(early), "--checkpoint", str(foreign))
    assert code == 1, out
    assert "the kept checkpoint at position 3" in out
    assert "is not a prefix of this export's chain" in out


def test_unreadable_input_exits_2_and_a_version_1_file_cannot_be_proven(
    engine: Engine, key_file: Path, tmp_path: Path
) -> None:
    fill(engine, events=2)
    export = exported(engine, key_file, tmp_path)
    key = public_key(key_file, tmp_path, engine)
    not_a_key = tmp_path / "not-a-key.pem"
    not_a_key.write_text("hello")
    not_an_export = tmp_path / "hello.json"
    not_an_export.write_text('{"hello": "world"}\n')
    old = tmp_path / "old.jsonl"
    old.write_bytes(as_version_1(export.read_bytes()))

    assert verify_export(tmp_path / "missing.jsonl", key)[0] == 2
    code, out = verify_export(export, not_a_key)
    assert (code, "not a PEM Ed25519 key" in out) == (2, True)
    code, out = verify_export(not_an_export, key)
    assert (code, "not an incident-ledger-log file" in out) == (2, True)
    code, out = verify_export(old, key)
    assert (code, "format version 1: it carries no chain hashes" in out) == (1, True)


def test_an_imported_export_passes_verify_with_the_sources_chain(
    engine: Engine, backend: str, new_database: NewDatabase, key_file: Path, tmp_path: Path
) -> None:
    fill(engine)
    export = exported(engine, key_file, tmp_path)
    target = new_database(backend)

    import_bytes(target, export.read_bytes(), any_type=True)

    done = run_cli("verify", "--database-url", target.url.render_as_string(False))
    assert done.exit_code == 0, done.output
    with engine.connect() as conn:
        head, digest = last_link(conn)
    assert f"head position {head}, chain {digest.hex()}" in done.stderr
    assert chain_rows(target) == chain_rows(engine)


def chain_rows(engine: Engine) -> list[tuple[int, str]]:
    with engine.connect() as conn:
        query = select(events.c.position, events.c.chain_hash).order_by(events.c.position)
        rows = conn.execute(query).all()
    return [(int(p), str(h)) for p, h in rows]


def test_a_file_from_standard_input_verifies(
    engine: Engine, key_file: Path, tmp_path: Path
) -> None:
    fill(engine, events=2)
    export = exported(engine, key_file, tmp_path)
    key = public_key(key_file, tmp_path, engine)

    done = CliRunner().invoke(
        app, ["verify-export", "-", "--public-key", str(key)], input=export.read_bytes()
    )

    assert done.exit_code == 0, done.output
    assert "OK: 2 events" in done.stderr
