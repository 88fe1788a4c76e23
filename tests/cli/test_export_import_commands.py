"""``incidents export`` and ``import``: what the commands print, refuse and leave behind.

The store-level transfer they wrap is tested in tests/eventstore/test_export_import.py.
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine

from application.log_checkpoints import LogSigner, public_pem
from eventstore.chain import last_link
from tests.cli.runner import run_cli
from tests.conftest import NewDatabase
from tests.support.read_models import assert_same_rows, read_log, snapshot
from tests.support.transfer import event_count, without_header, write_history


@pytest.fixture(autouse=True)
def key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The signing key export makes on first use, kept in the test's own directory."""
    path = tmp_path / "log-signing.key"
    monkeypatch.setenv("INCIDENTS_LOG_SIGNING_KEY_FILE", str(path))
    return path


def test_cli_exports_and_imports_with_read_models(
    engine: Engine, backend: str, new_database: NewDatabase, tmp_path: Path
) -> None:
    write_history(engine)
    source_url = engine.url.render_as_string(hide_password=False)
    target = new_database(backend)
    target_url = target.url.render_as_string(hide_password=False)
    exported = tmp_path / "log.jsonl"

    done = run_cli("export", str(exported), "--database-url", source_url)
    assert done.exit_code == 0, done.output
    head = read_log(engine)[-1].position
    assert f"exported {event_count(engine):,} events (head position {head})" in done.stderr
    with engine.connect() as conn:
        chain = last_link(conn)[1].hex()
    assert f"chain {chain}, signed by key " in done.stderr
    assert not exported.with_name("log.jsonl.partial").exists()
    assert exported.stat().st_mode & 0o777 == 0o600  # it holds the keys of the log's text

    done = run_cli("import", str(exported), "--database-url", target_url)
    assert done.exit_code == 0, done.output
    assert f"imported {event_count(engine):,} events (head position {head}" in done.stderr
    assert f"checksum verified, hash chain verified (head {chain})" in done.stderr
    assert "read models rebuilt" in done.stderr
    assert read_log(target) == read_log(engine)
    assert_same_rows(snapshot(engine), snapshot(target))

    done = run_cli("import", str(exported), "--database-url", target_url)
    assert done.exit_code == 1
    assert "import refused: the database already holds events" in done.stderr
    assert "Nothing was imported." in done.stderr

    to_stdout = run_cli("export", "-", "--database-url", source_url)
    assert to_stdout.exit_code == 0, to_stdout.output
    assert without_header(to_stdout.stdout_bytes) == without_header(exported.read_bytes())


def test_cli_refuses_a_truncated_file(engine: Engine, history_file: bytes, tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.jsonl"
    truncated.write_bytes(history_file[: len(history_file) - 40])
    trailer_line = len(history_file.splitlines())

    done = run_cli("import", str(truncated), "--database-url", engine.url.render_as_string(False))

    assert done.exit_code == 1
    assert f"import refused: line {trailer_line}: the line is cut short" in done.stderr
    assert "Nothing was imported." in done.stderr
    assert event_count(engine) == 0
    missing = run_cli("import", str(tmp_path / "nope.jsonl"), "--database-url", "sqlite://")
    assert missing.exit_code == 1
    assert "No such file" in missing.stderr


def test_export_never_writes_over_a_database(engine: Engine, tmp_path: Path) -> None:
    write_history(engine)
    url = engine.url.render_as_string(hide_password=False)
    other = tmp_path / "other.db"
    other.write_bytes(b"SQLite format 3\x00" + bytes(100))
    targets = [other]
    if engine.dialect.name == "sqlite":
        database = Path(engine.url.database or "")
        targets += [database, database.with_name(database.name + "-wal")]
    for target in targets:
        before = target.read_bytes() if target.exists() else None

        done = run_cli("export", str(target), "--database-url", url)

        assert done.exit_code == 1, target
        assert "export failed:" in done.stderr
        assert (target.read_bytes() if target.exists() else None) == before
    assert event_count(engine) > 0
    empty = run_cli("export", "", "--database-url", url)
    assert empty.exit_code == 1
    assert "the file name is empty" in empty.stderr


def test_export_writes_through_a_link_and_into_a_pipe(engine: Engine, tmp_path: Path) -> None:
    write_history(engine)
    url = engine.url.render_as_string(hide_password=False)
    real = tmp_path / "backups" / "log.jsonl"
    real.parent.mkdir()
    link = tmp_path / "latest.jsonl"
    link.symlink_to(real)

    done = run_cli("export", str(link), "--database-url", url)

    assert done.exit_code == 0, done.output
    assert link.is_symlink()
    assert real.read_bytes().startswith(b'{"')
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_bytes()))
    reader.start()
    done = run_cli("export", str(pipe), "--database-url", url)
    reader.join(timeout=30)
    assert done.exit_code == 0, done.output
    assert without_header(received[0]) == without_header(real.read_bytes())
    assert stat.S_ISFIFO(pipe.stat().st_mode)


def _signed_export(engine: Engine, tmp_path: Path, key_file: Path) -> tuple[Path, Path]:
    """A history exported to a file, and the public key of the key that signed its head."""
    write_history(engine)
    url = engine.url.render_as_string(hide_password=False)
    exported = tmp_path / "log.jsonl"
    assert run_cli("export", str(exported), "--database-url", url).exit_code == 0
    ours = tmp_path / "ours.pem"
    ours.write_text(public_pem(LogSigner(engine, key_file).public_key))
    return exported, ours


def test_import_with_a_public_key_takes_only_a_file_that_key_signed(
    engine: Engine, backend: str, new_database: NewDatabase, tmp_path: Path, key_file: Path
) -> None:
    exported, ours = _signed_export(engine, tmp_path, key_file)
    theirs = tmp_path / "theirs.pem"
    theirs.write_text(public_pem(Ed25519PrivateKey.generate().public_key()))
    target = new_database(backend)
    target_url = target.url.render_as_string(hide_password=False)

    refused = run_cli(
        "import", str(exported), "--public-key", str(theirs), "--database-url", target_url
    )
    assert refused.exit_code == 1, refused.output
    assert "import refused: the file's signed checkpoint: " in refused.stderr
    assert "Nothing was imported." in refused.stderr
    assert event_count(target) == 0

    unreadable = run_cli(
        "import", str(exported), "--public-key", str(exported), "--database-url", target_url
    )
    assert unreadable.exit_code == 2, unreadable.output
    assert event_count(target) == 0

    done = run_cli("import", str(exported), "--public-key", str(ours), "--database-url", target_url)
    assert done.exit_code == 0, done.output
    assert "signature verified" in " ".join(done.stderr.split())
    assert read_log(target) == read_log(engine)


def test_import_without_a_public_key_says_the_signature_went_unchecked(
    engine: Engine, backend: str, new_database: NewDatabase, tmp_path: Path
) -> None:
    write_history(engine)
    exported = tmp_path / "log.jsonl"
    url = engine.url.render_as_string(hide_password=False)
    assert run_cli("export", str(exported), "--database-url", url).exit_code == 0
    target = new_database(backend).url.render_as_string(hide_password=False)

    done = run_cli("import", str(exported), "--database-url", target)

    assert done.exit_code == 0, done.output
    assert "was not checked: --public-key checks it" in " ".join(done.stderr.split())


def test_export_leaves_a_partial_file_it_did_not_make_alone(engine: Engine, tmp_path: Path) -> None:
    # Another export writing the same name, or one cut off: neither is truncated or taken
    # over, and neither is removed.
    write_history(engine)
    url = engine.url.render_as_string(hide_password=False)
    target = tmp_path / "log.jsonl"
    partial = tmp_path / "log.jsonl.partial"
    partial.write_bytes(b"another export's first lines\n")

    done = run_cli("export", str(target), "--database-url", url)

    assert done.exit_code == 1, done.output
    assert "log.jsonl.partial exists: another export is writing it" in " ".join(done.stderr.split())
    assert partial.read_bytes() == b"another export's first lines\n"
    assert not target.exists()
    partial.unlink()
    assert run_cli("export", str(target), "--database-url", url).exit_code == 0
    assert target.exists()
    assert not partial.exists()


def _with_trailer(exported: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    """A copy of ``exported`` whose trailer ``change`` has edited (the SHA-256 covers the
    lines before the trailer; the signature, the head only)."""
    *lines, trailer = exported.read_bytes().splitlines(keepends=True)
    document = orjson.loads(trailer)
    change(document)
    edited = exported.with_name("edited.jsonl")
    edited.write_bytes(b"".join(lines) + orjson.dumps(document) + b"\n")
    return edited


def test_import_prints_what_a_trailer_says_of_its_signer_as_typed_and_refuses_an_unsigned_one(
    engine: Engine, backend: str, new_database: NewDatabase, tmp_path: Path, key_file: Path
) -> None:
    exported, ours = _signed_export(engine, tmp_path, key_file)

    unsigned = _with_trailer(exported, lambda trailer: trailer.pop("checkpoint"))
    target = new_database(backend).url.render_as_string(hide_password=False)
    refused = run_cli("import", str(unsigned), "--public-key", str(ours), "--database-url", target)
    assert refused.exit_code == 1, refused.output
    assert "carries no signed checkpoint" in " ".join(refused.stderr.split())
    assert run_cli("import", str(unsigned), "--database-url", target).exit_code == 0

    # key_id is outside the signature: markup in it is printed, not obeyed, and the
    # import it follows has committed by then.
    odd = _with_trailer(exported, lambda trailer: trailer["checkpoint"].update(key_id="[/]"))
    target = new_database(backend).url.render_as_string(hide_password=False)
    done = run_cli("import", str(odd), "--database-url", target)
    assert done.exit_code == 0, done.output
    assert "(key [/]) was not checked" in " ".join(done.stderr.split())
    assert "read models rebuilt" in done.stderr
