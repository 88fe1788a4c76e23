"""``incidents export`` and ``import``: a log moves between databases whole, or not at all.

Histories are realistic: complete incidents from bench/history.py written straight to
the log, then commands through IncidentService (notes amended and redacted, action
items, postmortem edits) by an actor whose name needs escaping everywhere. Store-level
tests run on SQLite and PostgreSQL; one test moves a log SQLite -> PostgreSQL -> SQLite.
"""

from __future__ import annotations

import hashlib
import io
import random
import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson
import psycopg
import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from application.service import IncidentService
from bench.history import load as load_generated_history
from cli.main import app as cli
from domain.events import CURRENT_VERSIONS
from eventstore import EventStore, NewEvent
from eventstore.engine import create_engine
from eventstore.schema import events
from eventstore.transfer.bulk_insert import BulkInsertRefused
from eventstore.transfer.export import export_log
from eventstore.transfer.format import LogFileError
from eventstore.transfer.import_log import DatabaseNotEmpty, import_log
from projections.runner import ProjectionRunner
from tests.clocks import FakeClock
from tests.conftest import POSTGRES_ADMIN_URL
from tests.projections.worker_support import (
    CommandWriter,
    assert_same_rows,
    read_log,
    read_model_tables,
    snapshot,
)

BASE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
AWKWARD_ACTOR = 'zoë "on-call" \\ ops\tteam'

NewDatabase = Callable[[str], Engine]


@pytest.fixture
def new_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[NewDatabase]:
    """Makes more fresh, migrated databases of either backend within one test."""
    engines: list[Engine] = []
    postgres: list[str] = []

    def make(backend: str) -> Engine:
        if backend == "sqlite":
            path = tmp_path / f"{uuid.uuid4().hex[:8]}.db"
            shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
            url = f"sqlite:///{path}"
        else:
            template = request.getfixturevalue("postgres_template")
            name = f"incidents_test_{uuid.uuid4().hex[:12]}"
            with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            postgres.append(name)
            url = f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
        engines.append(create_engine(url))
        return engines[-1]

    yield make
    for engine in engines:
        engine.dispose()
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        for name in postgres:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def write_history(engine: Engine, seed: int = 11) -> None:
    """About a thousand events of varied incidents, and read models rebuilt from them."""
    load_generated_history(engine, 700)
    clock = FakeClock(BASE, timedelta(milliseconds=1500))
    service = IncidentService(EventStore(engine, clock=clock), ProjectionRunner(), clock=clock)
    CommandWriter(service, random.Random(seed), actor=AWKWARD_ACTOR).write(250)
    ProjectionRunner().rebuild(engine)


def export_bytes(engine: Engine, **options: Any) -> bytes:
    out = io.BytesIO()
    export_log(engine, out, **options)
    return out.getvalue()


def import_bytes(engine: Engine, data: bytes, *, any_type: bool = False) -> None:
    """Import as the CLI does, refusing event types this release does not know unless told."""
    import_log(engine, io.BytesIO(data), known_types=None if any_type else CURRENT_VERSIONS)


def event_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(events)).scalar_one())


def read_model_rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return sum(
            int(conn.execute(select(func.count()).select_from(table)).scalar_one())
            for table in read_model_tables()
        )


def without_header(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)[1:]


def resealed(lines: list[bytes]) -> bytes:
    """A file whose header and trailer agree with ``lines`` (header + events, no trailer)."""
    body = lines[1:]
    header = orjson.loads(lines[0])
    header["head_position"] = orjson.loads(body[-1])["position"] if body else 0
    trailer = {
        "events": len(body),
        "sha256": hashlib.sha256(b"".join(body)).hexdigest(),
        "trailer": "incident-ledger-log",
    }
    return (
        orjson.dumps(header, option=orjson.OPT_APPEND_NEWLINE)
        + b"".join(body)
        + orjson.dumps(trailer, option=orjson.OPT_APPEND_NEWLINE)
    )


def new_event(**data: Any) -> NewEvent:
    return NewEvent(uuid.uuid4(), "test.recorded", data, BASE, metadata={"actor": "test"})


# --- round trips ------------------------------------------------------------------------------


def test_a_round_trip_keeps_every_event_and_read_model(
    engine: Engine, backend: str, new_database: NewDatabase
) -> None:
    write_history(engine)
    exported = export_bytes(engine)
    copy = new_database(backend)

    import_bytes(copy, exported)
    ProjectionRunner().rebuild(copy)

    source_log = read_log(engine)
    assert len(source_log) > 900
    assert read_log(copy) == source_log  # every column of every event
    tables = snapshot(engine)
    assert {"incident_summaries", "timeline_entries", "action_items", "postmortem_sections"} <= (
        {name for name, rows in tables.items() if rows}
    )
    assert_same_rows(tables, snapshot(copy))
    assert without_header(export_bytes(copy)) == without_header(exported)
    # The next append continues after the imported head, on both backends.
    appended = EventStore(copy).append("stream-after-import", [new_event()], 0)
    assert appended.position == source_log[-1].position + 1


def test_values_that_need_escaping_survive_the_trip(
    engine: Engine, backend: str, new_database: NewDatabase
) -> None:
    store = EventStore(engine)
    awkward = {
        "text": 'tab\there, newline\nthere, "quotes", back\\slash, \\N, \\., é, 🚒, \u2028',
        "numbers": [0, -1, 2**62, 0.1, 1.5e-9, 123456.789],
        "nested": {"z": [True, False, None, {}], "a": {"b": {"c": []}}},
        "empty": "",
    }
    store.append("odd\tstream\\with\nspecials", [new_event(**awkward)], 0)
    store.append(
        "incident-other",
        [
            NewEvent(
                uuid.uuid4(),
                "test.recorded",
                {},
                datetime(2026, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
                metadata={"request_id": "r\\1", "list": ["x", 1]},
            )
        ],
        0,
    )
    exported = export_bytes(engine)
    copy = new_database(backend)

    import_bytes(copy, exported, any_type=True)

    assert read_log(copy) == read_log(engine)
    assert without_header(export_bytes(copy)) == without_header(exported)


def test_an_empty_log_round_trips(engine: Engine, backend: str, new_database: NewDatabase) -> None:
    exported = export_bytes(engine)
    copy = new_database(backend)

    import_bytes(copy, exported)

    assert exported.count(b"\n") == 2
    assert event_count(copy) == 0
    assert EventStore(copy).append("stream-a", [new_event()], 0).position == 1


@pytest.mark.postgres
def test_sqlite_to_postgresql_to_sqlite_changes_nothing(new_database: NewDatabase) -> None:
    sqlite_source = new_database("sqlite")
    write_history(sqlite_source, seed=5)
    from_sqlite = export_bytes(sqlite_source)

    postgres = new_database("postgresql")
    import_bytes(postgres, from_sqlite)
    ProjectionRunner().rebuild(postgres)
    from_postgres = export_bytes(postgres)

    sqlite_again = new_database("sqlite")
    import_bytes(sqlite_again, from_postgres)
    ProjectionRunner().rebuild(sqlite_again)
    from_sqlite_again = export_bytes(sqlite_again)

    headers = [orjson.loads(f.split(b"\n", 1)[0]) for f in (from_sqlite, from_postgres)]
    assert [h["source_backend"] for h in headers] == ["sqlite", "postgresql"]
    assert headers[0]["head_position"] == headers[1]["head_position"] > 900
    assert without_header(from_postgres) == without_header(from_sqlite)
    assert without_header(from_sqlite_again) == without_header(from_sqlite)
    expected = snapshot(sqlite_source)
    assert_same_rows(expected, snapshot(postgres), "postgresql: ")
    assert_same_rows(expected, snapshot(sqlite_again), "sqlite again: ")


def test_export_reads_one_snapshot_and_does_not_block_writers(
    engine: Engine, backend: str, new_database: NewDatabase
) -> None:
    store = EventStore(engine)
    for n in range(30):
        store.append(f"stream-{n}", [new_event(n=n)], 0)
    appended_during_export: list[int] = []

    def append_meanwhile(position: int, head: int) -> None:
        if 0 < position < head and not appended_during_export:
            result = store.append("stream-late", [new_event(late=True)], 0)
            appended_during_export.append(result.position)

    exported = export_bytes(engine, progress=append_meanwhile, batch_size=7)

    assert appended_during_export == [31]
    copy = new_database(backend)
    import_bytes(copy, exported, any_type=True)
    assert [r.position for r in read_log(copy)] == list(range(1, 31))


# --- refusals ---------------------------------------------------------------------------------


def test_import_refuses_a_database_that_has_events(
    engine: Engine, backend: str, new_database: NewDatabase
) -> None:
    source = new_database(backend)
    EventStore(source).append("stream-a", [new_event(), new_event()], 0)
    EventStore(engine).append("stream-b", [new_event()], 0)
    before = read_log(engine)

    with pytest.raises(DatabaseNotEmpty, match="already holds events"):
        import_bytes(engine, export_bytes(source))

    assert read_log(engine) == before


def _cut_mid_line(lines: list[bytes]) -> bytes:
    data = b"".join(lines)
    return data[: len(data) - len(lines[-1]) - len(lines[-2]) // 2]


def _flip_text(lines: list[bytes]) -> bytes:
    # A changed letter inside a string: still valid JSON, caught by the checksum alone.
    target = next(i for i, line in enumerate(lines) if b"observation" in line)
    damaged = lines[:]
    damaged[target] = lines[target].replace(b"observation", b"observatioN", 1)
    return b"".join(damaged)


def _flip_byte(lines: list[bytes]) -> bytes:
    damaged = lines[:]
    line = bytearray(lines[5])
    line[line.index(b"{", 1)] ^= 0x01  # the opening brace of "data" becomes "z"
    damaged[5] = bytes(line)
    return b"".join(damaged)


def _reseal_with(change: Callable[[dict[str, Any]], None]) -> Callable[[list[bytes]], bytes]:
    """Damage the content of event line 3, then recompute header and trailer to match."""

    def damage(lines: list[bytes]) -> bytes:
        event = orjson.loads(lines[3])
        change(event)
        changed = [*lines[:3], orjson.dumps(event, option=orjson.OPT_APPEND_NEWLINE), *lines[4:]]
        return resealed(changed[:-1])

    return damage


DAMAGE: dict[str, tuple[Callable[[list[bytes]], bytes], type[Exception], str]] = {
    "truncated mid-line": (_cut_mid_line, LogFileError, "the file is truncated"),
    "missing trailer": (lambda ls: b"".join(ls[:-1]), LogFileError, "without a trailer"),
    "flipped letter": (_flip_text, LogFileError, "SHA-256 of the event lines does not match"),
    "flipped byte": (_flip_byte, LogFileError, "line 6: not valid JSON"),
    "removed line": (
        lambda ls: b"".join([*ls[:-2], ls[-1]]),
        LogFileError,
        "lines are missing or were added",
    ),
    "bad line": (
        lambda ls: b"".join([*ls[:4], b"hello\n", *ls[4:]]),
        LogFileError,
        "line 5: not valid JSON",
    ),
    "more after the trailer": (
        lambda ls: b"".join([*ls, ls[3]]),
        LogFileError,
        "more after the trailer",
    ),
    "empty file": (lambda ls: b"", LogFileError, "the file is empty"),
    "not an export": (
        lambda ls: b'{"hello": "world"}\n',
        LogFileError,
        "line 1: not an incident-ledger-log file",
    ),
    "version gap": (
        _reseal_with(lambda e: e.update(version=e["version"] + 1)),
        LogFileError,
        "line 4: stream incident-",
    ),
    "time without offset": (
        _reseal_with(lambda e: e.update(occurred_at="2026-01-01T00:00:00")),
        LogFileError,
        "line 4: occurred_at must be a UTC time",
    ),
    "unknown type": (
        _reseal_with(lambda e: e.update(type="incident.teleported")),
        LogFileError,
        "'incident.teleported' is unknown to this release",
    ),
    "NUL character": (
        _reseal_with(lambda e: e["metadata"].update(actor="a\x00b")),
        LogFileError,
        "NUL character",
    ),
    "duplicate event id": (
        lambda ls: resealed(
            [
                *ls[:4],
                orjson.dumps(
                    {**orjson.loads(ls[4]), "event_id": orjson.loads(ls[3])["event_id"]},
                    option=orjson.OPT_APPEND_NEWLINE,
                ),
                *ls[5:-1],
            ]
        ),
        BulkInsertRefused,
        "event_id",
    ),
}


@pytest.fixture(scope="module")
def history_file(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """One exported history for every damage test; the damage is to the file, not the log."""
    path = tmp_path_factory.mktemp("history") / "history.db"
    shutil.copyfile(sqlite_template, path)
    engine = create_engine(f"sqlite:///{path}")
    write_history(engine)
    exported = export_bytes(engine)
    engine.dispose()
    return exported


@pytest.mark.parametrize("damage", list(DAMAGE), ids=list(DAMAGE))
def test_a_damaged_file_is_refused_and_nothing_is_written(
    engine: Engine, history_file: bytes, damage: str
) -> None:
    damaged, error, message = DAMAGE[damage]

    with pytest.raises(error, match=message):
        import_bytes(engine, damaged(history_file.splitlines(keepends=True)))

    assert (event_count(engine), read_model_rows(engine)) == (0, 0)
    # Nothing half-done is left behind: the intact file still goes in, positions unchanged.
    import_bytes(engine, history_file)
    assert without_header(export_bytes(engine)) == without_header(history_file)
    appended = EventStore(engine).append("stream-after-import", [new_event()], 0)
    assert appended.position == orjson.loads(history_file.split(b"\n", 1)[0])["head_position"] + 1


# --- command line -----------------------------------------------------------------------------


def run_cli(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), env={"COLUMNS": "200"})


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
    assert not exported.with_name("log.jsonl.partial").exists()

    done = run_cli("import", str(exported), "--database-url", target_url)
    assert done.exit_code == 0, done.output
    assert f"imported {event_count(engine):,} events (head position {head}" in done.stderr
    assert "checksum verified" in done.stderr
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


def test_event_ids_and_times_are_written_in_one_spelling(engine: Engine) -> None:
    event_id = UUID("0b6f5f6e-1c2d-4e3f-8a9b-0c1d2e3f4a5b")
    store = EventStore(engine, clock=lambda: datetime(2026, 5, 1, 12, 0, tzinfo=UTC))
    store.append("stream-a", [NewEvent(event_id, "test.recorded", {"b": 1, "a": 2}, BASE)], 0)

    line = export_bytes(engine).splitlines()[1]

    assert line == (
        b'{"data":{"a":2,"b":1},"event_id":"0b6f5f6e-1c2d-4e3f-8a9b-0c1d2e3f4a5b",'
        b'"metadata":{},"occurred_at":"2026-03-02T09:00:00.000000+00:00","position":1,'
        b'"recorded_at":"2026-05-01T12:00:00.000000+00:00","schema_version":1,'
        b'"stream_id":"stream-a","type":"test.recorded","version":1}'
    )
