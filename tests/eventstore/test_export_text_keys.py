"""Sealed text in a log file (eventstore/transfer/text_keys.py), on SQLite and PostgreSQL: the
keys of readable text travel with the events and open on a service with another secret key,
an erased note's key is in no export made after its redaction, and key lines are covered
by the trailer's digest."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any
from uuid import uuid4

import orjson
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Engine, select

from eventstore import EventStore
from eventstore.bulk_read import read_events_after
from eventstore.schema import text_erasures, text_keys
from eventstore.sealed_text import TextVault, install_vault
from eventstore.transfer.format import LogFileError
from tests.conftest import NewDatabase
from tests.eventstore.test_sealed_text import added, amended, redacted
from tests.support.log_files import resealed
from tests.support.transfer import event_count, export_bytes, import_bytes

SECRET_WORDS = "call jane.doe.7731@example.com"


def _log_with_an_erased_note(engine: Engine) -> tuple[str, str]:
    kept, gone = uuid4(), uuid4()
    store = EventStore(engine)
    store.append("incident-a", [added(kept, "the rollback began at 09:40")], 0)
    store.append("incident-a", [added(gone, SECRET_WORDS)], 1)
    store.append("incident-a", [amended(gone, f"{SECRET_WORDS} again"), redacted(gone)], 2)
    return f"note:incident-a:{kept}", f"note:incident-a:{gone}"


def _key_documents(file: bytes) -> list[dict[str, object]]:
    lines = file.splitlines()[1:-1]
    return [d for d in map(orjson.loads, lines) if "text_key" in d or "text_erasure" in d]


def test_keys_travel_and_open_under_another_secret_key(
    engine: Engine, backend: str, new_database: NewDatabase
) -> None:
    kept, gone = _log_with_an_erased_note(engine)
    exported = export_bytes(engine)

    keys = _key_documents(exported)
    assert [d["text_key"]["scope"] for d in keys if "text_key" in d] == [kept]  # type: ignore[index]
    erasures = [d["text_erasure"] for d in keys if "text_erasure" in d]
    assert [(e["scope"], e["erased_by"], e["reason"]) for e in erasures] == [  # type: ignore[index]
        (gone, "alice", "PII")
    ]
    assert SECRET_WORDS.encode() not in exported

    copy = new_database(backend)
    other = TextVault.from_secret(Fernet.generate_key().decode())
    install_vault(copy, other)
    import_bytes(copy, exported, any_type=True)

    with copy.connect() as conn:
        texts = [e.data.get("text") for e in read_events_after(conn, 0, 100)]
        key_id, wrapped = conn.execute(select(text_keys.c.key_id, text_keys.c.wrapped_key)).one()
        erasure = conn.execute(select(text_erasures)).one()
    assert texts[0] == "the rollback began at 09:40"
    for erased in texts[1:3]:
        assert erased["redacted"] is True
        assert (erased["redacted_by"], erased["reason"]) == ("alice", "PII")
    # Wrapped again under the importing service's own key, not the exporter's.
    original = next(d["text_key"]["key"] for d in keys if "text_key" in d)  # type: ignore[index]
    assert other.unwrap(bytes(wrapped), key_id) == base64.b64decode(original)  # type: ignore[arg-type]
    assert (erasure.scope, erasure.position) == (gone, 4)


Lines = list[bytes]


def _key_line(lines: Lines) -> int:
    """The index of the file's first text key line."""
    return next(i for i, line in enumerate(lines) if line.startswith(b'{"text_key"'))


def _with_key(lines: Lines, index: int, change: Callable[[dict[str, Any]], object]) -> Lines:
    """The lines with the text key document on line ``index`` changed by ``change``."""
    document = orjson.loads(lines[index])
    change(document["text_key"])
    return [
        *lines[:index],
        orjson.dumps(document, option=orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE),
        *lines[index + 1 :],
    ]


def _refused_import(
    engine: Engine,
    backend: str,
    new_database: NewDatabase,
    change: Callable[[Lines], tuple[Lines, str]],
    *,
    reseal: bool = True,
) -> Engine:
    """Export a log with an erased note, change its lines, and import them into a fresh
    database: the import fails with the message ``change`` names and writes no event.
    ``reseal`` recomputes the trailer's digest, as whoever changes a file can."""
    _log_with_an_erased_note(engine)
    changed, message = change(export_bytes(engine).splitlines(keepends=True))
    copy = new_database(backend)
    file = b"".join(changed)
    with pytest.raises(LogFileError, match=message):
        import_bytes(copy, resealed(file) if reseal else file, any_type=True)
    assert event_count(copy) == 0
    return copy


def test_an_altered_key_line_is_refused_and_nothing_is_written(
    engine: Engine, backend: str, new_database: NewDatabase
) -> None:
    def another_key(lines: Lines) -> tuple[Lines, str]:
        changed = _with_key(lines, _key_line(lines), lambda key: key.update(key="A" * 43 + "="))
        return changed, "SHA-256 of the event lines does not match"

    _refused_import(engine, backend, new_database, another_key, reseal=False)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"key": "not base64!"}, "not base64"),
        ({"key": "AAAA"}, "not 32 bytes"),
        ({"scope": ""}, "scope must be text"),
        ({"extra": 1}, "has scope, key_id and key"),
        ({"key_id": "../../etc"}, "32 lowercase hex digits"),
    ],
)
def test_a_malformed_key_line_is_refused_by_line(
    engine: Engine, backend: str, new_database: NewDatabase, change: dict[str, object], message: str
) -> None:
    def malformed(lines: Lines) -> tuple[Lines, str]:
        index = _key_line(lines)
        return _with_key(
            lines, index, lambda key: key.update(change)
        ), f"line {index + 1}: .*{message}"

    copy = _refused_import(engine, backend, new_database, malformed)
    with copy.connect() as conn:
        assert conn.execute(select(text_keys)).first() is None


def test_an_event_after_the_keys_is_refused(
    engine: Engine, backend: str, new_database: NewDatabase
) -> None:
    def moved(lines: Lines) -> tuple[Lines, str]:
        first_key = next(i for i, line in enumerate(lines) if line.startswith(b'{"text_'))
        changed = [*lines[: first_key - 1], *lines[first_key:-1], lines[first_key - 1], lines[-1]]
        return changed, "an event line after the text keys"

    _refused_import(engine, backend, new_database, moved)


def test_a_repeated_key_line_is_refused_by_line(
    engine: Engine, backend: str, new_database: NewDatabase
) -> None:
    def repeated(lines: Lines) -> tuple[Lines, str]:
        index = _key_line(lines)
        changed = [*lines[: index + 1], lines[index], *lines[index + 1 :]]
        return changed, f"line {index + 2}: a second text key line"

    _refused_import(engine, backend, new_database, repeated)


def test_a_file_missing_a_sealed_events_key_is_refused(
    engine: Engine, backend: str, new_database: NewDatabase
) -> None:
    # The trailer's digest is not signed: whoever drops a key line can recompute it. The
    # import still refuses a sealed event whose text neither opens nor was erased.
    def dropped(lines: Lines) -> tuple[Lines, str]:
        kept = [line for line in lines if not line.startswith(b'{"text_key"')]
        return kept, "position 1 holds sealed text, but the file has"

    _refused_import(engine, backend, new_database, dropped)


def test_a_key_under_another_scope_does_not_count_as_the_events_key(
    engine: Engine, backend: str, new_database: NewDatabase
) -> None:
    # A key belongs to its event's scope: one filed under another is not the event's key.
    def misfiled(lines: Lines) -> tuple[Lines, str]:
        scope = f"note:incident-a:{uuid4()}"
        changed = _with_key(lines, _key_line(lines), lambda key: key.update(scope=scope))
        return changed, "position 1 holds sealed text, but the file has"

    _refused_import(engine, backend, new_database, misfiled)


def test_a_key_no_sealed_event_of_the_file_bears_is_refused(
    engine: Engine, backend: str, new_database: NewDatabase
) -> None:
    # A key is stored under its event's position: one whose event is not in the file has
    # none, and an export never writes such a line.
    def stray(lines: Lines) -> tuple[Lines, str]:
        index = _key_line(lines)
        key_id = uuid4().hex
        extra = _with_key(lines, index, lambda key: key.update(key_id=key_id))[index]
        changed = [*lines[: index + 1], extra, *lines[index + 1 :]]
        return changed, f"key id {key_id}, which no event of the file with sealed text bears"

    copy = _refused_import(engine, backend, new_database, stray)
    with copy.connect() as conn:
        assert conn.execute(select(text_keys)).first() is None
