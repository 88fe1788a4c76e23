"""``incidents verify`` on SQLite and PostgreSQL: OK with the head on an untouched log; exit 1
naming the first bad position after an event is changed behind the triggers' back, and
a checkpoint taken before the change no longer contained; checkpoints not signed by the
key refused."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import uuid4

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, text

from application.log_checkpoints import LogSigner, public_pem
from eventstore import EventStore
from eventstore.bulk_read import read_events_after
from tests.cli.runner import run_cli
from tests.conftest import NewDatabase
from tests.eventstore.test_hash_chain import event, fill, unguarded


@pytest.fixture
def key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "log-signing.key"
    monkeypatch.setenv("INCIDENTS_LOG_SIGNING_KEY_FILE", str(path))
    return path


def verify(database_url: str, *args: str) -> tuple[int, str]:
    done = run_cli("verify", *args, "--database-url", database_url)
    return done.exit_code, done.stdout + done.stderr


def kept(engine: Engine, key_file: Path, tmp_path: Path) -> Path:
    """A checkpoint of the log now, saved as an auditor would save GET /log/checkpoint."""
    path = tmp_path / f"checkpoint-{uuid4().hex[:6]}.json"
    path.write_bytes(orjson.dumps(LogSigner(engine, key_file).checkpoint().document()))
    return path


def test_an_untouched_log_verifies_with_its_checkpoints(
    store: EventStore, database_url: str, key_file: Path, tmp_path: Path
) -> None:
    fill(store)
    early = kept(store.engine, key_file, tmp_path)
    store.append(f"incident-{uuid4()}", [event(9)], None)
    late = kept(store.engine, key_file, tmp_path)
    code, out = verify(database_url, "--checkpoint", str(early), "--checkpoint", str(late))
    assert code == 0, out
    head = orjson.loads(late.read_bytes())
    assert f"head position {head['position']}" in out
    assert head["chain_hash"] in out
    assert "2 checkpoint(s) contained" in out


def test_a_changed_event_fails_at_its_position_and_breaks_an_earlier_checkpoint(
    store: EventStore, database_url: str, key_file: Path, tmp_path: Path
) -> None:
    fill(store)
    checkpoint = kept(store.engine, key_file, tmp_path)
    with store.engine.connect() as conn:
        target = read_events_after(conn, 0, 100)[2]
    with unguarded(store.engine), store.engine.begin() as conn:
        conn.execute(
            text("UPDATE events SET type = 'Noteb' WHERE position = :p"), {"p": target.position}
        )
    code, out = verify(database_url)
    assert code == 1
    assert f"FAILED at position {target.position}" in out
    code, out = verify(database_url, "--checkpoint", str(checkpoint))
    assert code == 1
    assert f"FAILED at position {target.position}" in out


def test_a_log_rewritten_from_the_start_no_longer_contains_a_kept_checkpoint(
    new_database: NewDatabase, backend: str, key_file: Path, tmp_path: Path
) -> None:
    # A database owner deletes everything and writes a new history: its own chain verifies,
    # but the checkpoint an auditor kept from the first history does not.
    first = new_database(backend)
    fill(EventStore(first))
    checkpoint = kept(first, key_file, tmp_path)
    second = new_database(backend)
    fill(EventStore(second))
    code, out = verify(second.url.render_as_string(hide_password=False))
    assert code == 0, out
    code, out = verify(
        second.url.render_as_string(hide_password=False), "--checkpoint", str(checkpoint)
    )
    assert code == 1
    assert "not a prefix of this log" in out


def test_a_checkpoint_signed_by_another_key_is_refused(
    store: EventStore, database_url: str, key_file: Path, tmp_path: Path
) -> None:
    fill(store, streams=1)
    checkpoint = kept(store.engine, key_file, tmp_path)
    other = tmp_path / "other.pem"
    other.write_text(public_pem(Ed25519PrivateKey.generate().public_key()))
    code, out = verify(database_url, "--checkpoint", str(checkpoint), "--public-key", str(other))
    assert code == 1
    assert "not signed by this key" in out
    forged = orjson.loads(checkpoint.read_bytes())
    forged["position"] -= 1
    checkpoint.write_bytes(orjson.dumps(forged))
    code, out = verify(database_url, "--checkpoint", str(checkpoint))
    assert code == 1
    assert "not signed by this key" in out


@pytest.mark.parametrize(
    ("field", "changed", "named"),
    [
        ("position", str, "position must be a whole number"),
        ("position", float, "position must be a whole number"),
        ("position", lambda p: p > 0, "position must be a whole number"),
        ("chain_hash", str.upper, "chain_hash must be 64 lowercase hexadecimal digits"),
        ("signature", lambda s: None, "signature must be a string"),
    ],
)
def test_a_checkpoint_written_otherwise_than_the_service_writes_it_is_not_read(
    store: EventStore,
    database_url: str,
    key_file: Path,
    tmp_path: Path,
    field: str,
    changed: Callable[[Any], Any],
    named: str,
) -> None:
    # "22" for 22 or a hash in capitals still names the same checkpoint, and the signature
    # would verify over the value it resembles: a changed copy is refused, not read kindly.
    fill(store, streams=1)
    checkpoint = kept(store.engine, key_file, tmp_path)
    assert verify(database_url, "--checkpoint", str(checkpoint))[0] == 0
    document = orjson.loads(checkpoint.read_bytes())
    document[field] = changed(document[field])
    checkpoint.write_bytes(orjson.dumps(document))
    code, out = verify(database_url, "--checkpoint", str(checkpoint))
    assert code == 2, out
    assert named in " ".join(out.split())
    assert f"{checkpoint}: " in out  # the whole path, on one line


def test_a_check_never_makes_the_signing_key_it_misses(
    store: EventStore, database_url: str, key_file: Path, tmp_path: Path
) -> None:
    # Kept from a service whose key is elsewhere (a relative path read from another
    # directory, a typo): a key made now would call every genuine checkpoint forged.
    fill(store)
    held = kept(store.engine, key_file, tmp_path)
    elsewhere = tmp_path / "typo" / "log-signing.key"

    done = run_cli(
        "verify",
        "--checkpoint",
        str(held),
        "--database-url",
        database_url,
    )
    assert done.exit_code == 0, done.output
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("INCIDENTS_LOG_SIGNING_KEY_FILE", str(elsewhere))
        code, out = verify(database_url, "--checkpoint", str(held))
        assert code == 2
        assert "no signing key there" in out
        assert not elsewhere.exists()
        assert verify(database_url)[0] == 0  # no checkpoint to check: no key needed
        public = tmp_path / "public.pem"
        public.write_text(public_pem(LogSigner(store.engine, key_file).public_key))
        code, out = verify(database_url, "--checkpoint", str(held), "--public-key", str(public))
        assert code == 0, out
    not_a_key = tmp_path / "not-a-key[1].pem"
    not_a_key.write_text("hello")
    code, out = verify(database_url, "--checkpoint", str(held), "--public-key", str(not_a_key))
    assert code == 2
    assert "not-a-key[1].pem: the public key is not a PEM Ed25519 key" in out


@pytest.mark.parametrize(
    ("column", "value"), [("data", "{not json"), ("occurred_at", "garbage"), ("data", "7")]
)
def test_an_event_whose_stored_text_does_not_read_fails_at_its_position(
    engine: Engine, database_url: str, key_file: Path, column: str, value: str
) -> None:
    # Text columns on SQLite take anything: what verify exists to find is never a crash.
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's jsonb and timestamp columns refuse such values")
    fill(EventStore(engine))
    with engine.connect() as conn:
        target = read_events_after(conn, 0, 100)[1]
    with unguarded(engine), engine.begin() as conn:
        conn.execute(
            text(f"UPDATE events SET {column} = :v WHERE position = :p"),
            {"v": value, "p": target.position},
        )

    code, out = verify(database_url)

    assert code == 1, out
    assert f"FAILED at position {target.position}" in out
    assert "Traceback" not in out
