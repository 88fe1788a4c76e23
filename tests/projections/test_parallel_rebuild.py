"""A rebuild split over worker processes gives exactly the rows of one in a single process.

The parallel path is forced on small logs (``parallel_from=0``) and small pages, so
incidents are split over pages as well as partitions. Each test runs on SQLite and
PostgreSQL (tests/conftest.py).
"""

from __future__ import annotations

import multiprocessing
import random
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import Engine, create_engine, func, insert, select, text

from application.service import IncidentService
from domain.commands import EditPostmortemSection
from domain.events import NoteAdded, encode, event_type, schema_version
from domain.values import NoteVisibility, Section, stream_id_for
from eventstore import EventStore, NewEvent
from eventstore.bulk_read import read_events_between
from eventstore.engine import create_engine as store_engine
from eventstore.schema import events
from eventstore.stream_partitions import (
    KEYS,
    StreamPartition,
    sample_stream_keys,
    split_streams,
)
from projections import partitioned_rebuild, scratch_merge
from projections.partition_worker import PartitionJob, run_partition
from projections.partitioned_rebuild import PartitionFailed
from projections.rebuild import SUFFIX, rebuild
from projections.runner import default_projections
from projections.search_tables import search_documents
from projections.tables import timeline_entries
from tests.clocks import FakeClock
from tests.projections.rebuild_support import BASE, make_service
from tests.support.command_writer import CommandWriter
from tests.support.read_models import (
    assert_caught_up,
    assert_same_rows,
    assert_timeline_exactly_once,
    checkpoint_positions,
    snapshot,
)


def _write(engine: Engine, seed: int, commands: int) -> tuple[IncidentService, CommandWriter]:
    """A history over many incidents with every kind of event, projected inline."""
    rng = random.Random(seed)
    service = make_service(engine, FakeClock(BASE, lambda: timedelta(seconds=rng.randint(1, 90))))
    writer = CommandWriter(service, rng, declare_share=0.1, extras_share=0.5)
    writer.write(commands)
    return service, writer


@pytest.fixture
def replays(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Notes each parallel replay the rebuild starts (True while one runs)."""
    started: list[bool] = []
    original = partitioned_rebuild.replay_in_partitions

    def spy(*args: Any, **kwargs: Any) -> None:
        started.append(True)
        try:
            original(*args, **kwargs)
        finally:
            started[-1] = False

    monkeypatch.setattr("projections.rebuild.replay_in_partitions", spy)
    return started


def test_a_rebuild_in_two_processes_equals_the_inline_read_models_and_one_process(
    engine: Engine, replays: list[bool]
) -> None:
    service, _ = _write(engine, 20261206, 400)
    head = service.store.head_position()
    kinds = Counter(r.type for r in service.store.read_all(0, 10_000))
    for kind in (
        "incident.declared",
        "timeline.note_amended",
        "timeline.note_redacted",
        "action_item.added",
        "action_item.status_changed",
        "postmortem.section_edited",
        "incident.participant_added",
    ):
        assert kinds[kind] > 0, f"the history has no {kind}"
    inline = snapshot(engine)
    progressed: list[int] = []

    reached = rebuild(
        engine,
        default_projections(),
        progressed.append,
        processes=2,
        parallel_from=0,
        batch_size=7,
    )

    assert replays == [False], "the rebuild did not go through worker processes"
    assert reached == head
    assert sum(progressed) == head, "progress must count every event once"
    assert_same_rows(inline, snapshot(engine), "parallel rebuild: ")
    assert_caught_up(engine)
    rebuild(engine, default_projections(), processes=1)
    assert_same_rows(inline, snapshot(engine), "one process: ")


def test_appends_during_the_parallel_replay_are_caught_up_before_the_swap(
    engine: Engine, replays: list[bool]
) -> None:
    service, writer = _write(engine, 7, 250)
    head = service.store.head_position()
    during: list[Any] = []

    def progress(count: int) -> None:
        if not during:
            assert replays == [True], "progress came outside the parallel replay"
            writer.write(20)  # inline: the live tables take them, the shadow must too
            during.append(snapshot(engine))

    reached = rebuild(
        engine, default_projections(), progress, processes=3, parallel_from=0, batch_size=11
    )

    assert during, "no progress was reported during the replay"
    assert reached == service.store.head_position() > head
    assert_same_rows(during[0], snapshot(engine), "after appends during the rebuild: ")
    assert_timeline_exactly_once(engine)


def test_drafts_the_workers_wrote_are_rewritten_by_appends_caught_up_after_them(
    engine: Engine, replays: list[bool]
) -> None:
    """A worker knows which documents it stored and COPYs the rest; after the workers, the
    catch-up must not take a draft they stored for a new one (PostgreSQL's COPY would
    fail on its key)."""
    service, _ = _write(engine, 31, 300)
    with engine.connect() as conn:
        drafts = conn.execute(
            select(search_documents.c.incident_id, search_documents.c.ref).where(
                search_documents.c.ref.like("%@draft")
            )
        ).all()
    assert drafts, "the history wrote no draft"
    during: list[Any] = []

    def progress(count: int) -> None:
        if not during:
            for incident_id, ref in drafts:
                section = Section(ref.partition("@")[0])
                edit = EditPostmortemSection(
                    incident_id=incident_id, at=BASE, section=section, text=f"Again {ref}"
                )
                service.execute(edit, {"actor": "tester"})
            during.append(snapshot(engine))

    rebuild(engine, default_projections(), progress, processes=2, parallel_from=0, batch_size=13)

    assert replays == [False], "the rebuild did not go through worker processes"
    assert during, "no progress was reported during the replay"
    rebuilt = snapshot(engine)
    assert_same_rows(during[0], rebuilt, "drafts edited during the rebuild: ")
    bodies = {row["body"] for row in rebuilt[search_documents.name].values()}
    assert {f"Again {ref}" for _, ref in drafts} <= bodies


def _undecodable(store: EventStore) -> None:
    """An event written by a newer release: no release reading this log may guess at it."""
    note = NewEvent(
        event_id=uuid4(),
        type="timeline.note_added",
        data={"note_id": str(uuid4()), "text": "from the future"},
        occurred_at=BASE,
        schema_version=99,
    )
    store.append(f"incident-{uuid4()}", [note], 0)


def test_a_failing_worker_fails_the_rebuild_without_swapping(engine: Engine) -> None:
    service, _ = _write(engine, 11, 120)
    _undecodable(service.store)
    before, positions = snapshot(engine), checkpoint_positions(engine)
    folder = Path(str(engine.url.database)).parent
    if engine.dialect.name == "sqlite":  # as a rebuild whose process was killed leaves it
        (folder / f"{Path(str(engine.url.database)).name}.rebuild-stale").mkdir()

    with pytest.raises(PartitionFailed, match=r"UnknownSchemaVersion: timeline\.note_added"):
        rebuild(engine, default_projections(), processes=2, parallel_from=0, batch_size=9)

    assert_same_rows(before, snapshot(engine), "after the failed rebuild: ")
    assert checkpoint_positions(engine) == positions
    if engine.dialect.name == "sqlite":
        assert not list(folder.glob("*.rebuild-*")), "scratch files were left behind"


def test_a_worker_reports_its_failure_with_the_error_instead_of_raising(engine: Engine) -> None:
    _write(engine, 5, 20)
    reports = multiprocessing.get_context("spawn").Queue()
    # No shadow tables were created: the first page cannot be written.
    job = PartitionJob(
        url=engine.url.render_as_string(hide_password=False),
        names=tuple(p.name for p in default_projections()),
        partition=0,
        streams=StreamPartition(KEYS, rest=True),
        until=EventStore(engine).head_position(),
        span=50,
    )

    run_partition(job, reports)

    kind, partition, (error, details) = reports.get(timeout=10)
    assert (kind, partition) == ("failed", 0)
    assert "incident_summaries__rebuild" in error
    assert "Traceback" in details


class Renamed:
    """A default projection under another name: no worker could make it from its name."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = f"renamed_{inner.name}"
        self.version = inner.version
        self.tables = inner.tables

    def using(self, tables: Any) -> Renamed:
        return Renamed(self.inner.using(tables))

    def apply(self, conn: Any, batch: Any) -> None:
        self.inner.apply(conn, batch)


def test_small_logs_and_projections_workers_cannot_make_rebuild_in_process(
    engine: Engine, replays: list[bool]
) -> None:
    service, _ = _write(engine, 3, 60)
    inline = snapshot(engine)
    head = service.store.head_position()

    assert rebuild(engine, default_projections(), processes=2, parallel_from=head + 1) == head
    assert rebuild(engine, [Renamed(p) for p in default_projections()], parallel_from=0) == head
    assert rebuild(engine, default_projections(), processes=1, parallel_from=0) == head

    assert replays == []
    assert_same_rows(inline, snapshot(engine))


def test_stream_partitions_hold_every_event_exactly_once(engine: Engine) -> None:
    store = EventStore(engine)
    streams = [f"incident-{uuid4()}" for _ in range(40)] + ["not-an-incident", "ends-in-Z", "x"]
    for stream in streams:
        event = NewEvent(event_id=uuid4(), type="test.happened", data={}, occurred_at=BASE)
        store.append(stream, [event], 0)
    everything = [r.position for r in store.read_all(0, 1000)]

    with engine.connect() as conn:
        weights = sample_stream_keys(conn, everything[-1])
        assert sum(weights.values()) == len(everything)
        for count in (1, 2, 3, 16):
            parts = [
                [r.position for r in read_events_between(conn, 0, 10**9, p.condition())]
                for p in split_streams(weights, count)
            ]
            assert sorted(p for part in parts for p in part) == everything
            assert all(part == sorted(part) for part in parts)
            if count == 2:
                assert abs(len(parts[0]) - len(parts[1])) <= 2, "two partitions, not even"
    with pytest.raises(ValueError, match="from 1 to 256"):
        split_streams(weights, 257)


def test_partitions_of_a_sample_are_about_even() -> None:
    rng = random.Random(4)
    weights = Counter({key: rng.randint(1, 400) for key in KEYS})
    weights["other"] = 150
    for count in (2, 3, 4):
        partitions = split_streams(weights, count)
        loads = [sum(weights[k] for k in p.keys) for p in partitions]
        loads[0] += weights["other"]
        assert max(loads) - min(loads) <= 400, f"{count} partitions: {loads}"
        assert [p.rest for p in partitions] == [True] + [False] * (count - 1)
        assert sorted(k for p in partitions for k in p.keys) == sorted(KEYS)


def test_a_stretch_of_positions_without_events_is_passed_over(engine: Engine) -> None:
    service, writer = _write(engine, 9, 80)
    incident_id = next(iter(writer.incidents))
    stream = stream_id_for(incident_id)
    note = NoteAdded(
        occurred_at=BASE, note_id=uuid4(), text="after the gap", visibility=NoteVisibility.PUBLIC
    )
    head = service.store.head_position()
    # A log imported from elsewhere keeps its positions, holes and all.
    with engine.begin() as conn:
        conn.execute(
            insert(events).values(
                position=head + 5000,
                stream_id=stream,
                version=service.store.stream_version(stream) + 1,
                type=event_type(note),
                schema_version=schema_version(note),
                data=encode(note),
                metadata={"actor": "importer"},
                event_id=uuid4(),
                occurred_at=BASE,
                recorded_at=BASE,
            )
        )
    assert rebuild(engine, default_projections(), processes=1) == head + 5000
    in_process = snapshot(engine)

    assert rebuild(engine, default_projections(), processes=2, parallel_from=0, batch_size=5) == (
        head + 5000
    )

    assert_same_rows(in_process, snapshot(engine), "over a hole in the positions: ")
    with engine.connect() as conn:
        entries = conn.execute(select(timeline_entries).where(timeline_entries.c.text == note.text))
        assert len(entries.all()) == 1


PERSISTENCE = text(
    "SELECT relname, relpersistence FROM pg_class"
    " WHERE relkind = 'r' AND relname = ANY(:names) ORDER BY relname"
)


def test_postgresql_shadows_are_unlogged_while_replayed_and_logged_once_swapped_in(
    engine: Engine, replays: list[bool]
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("UNLOGGED tables are PostgreSQL's")
    _write(engine, 11, 150)
    inline = snapshot(engine)
    live = sorted({table.name for p in default_projections() for table in p.tables})
    shadows = [name + SUFFIX for name in live]
    seen: list[set[str]] = []

    def persistence_of(names: list[str]) -> dict[str, str]:
        with engine.connect() as conn:
            return dict(conn.execute(PERSISTENCE, {"names": names}).all())

    def during_replay(_: int) -> None:
        seen.append(set(persistence_of(shadows).values()))

    rebuild(
        engine,
        default_projections(),
        during_replay,
        processes=2,
        parallel_from=0,
        batch_size=50,
    )

    assert replays == [False], "the rebuild did not go through worker processes"
    assert seen, "the replay reported no progress"
    assert all(kinds == {"u"} for kinds in seen), seen  # u: unlogged
    assert persistence_of(live) == dict.fromkeys(live, "p")  # p: permanent (logged)
    assert persistence_of(shadows) == {}
    assert_same_rows(inline, snapshot(engine), "unlogged replay: ")


def test_sqlite_workers_each_write_a_scratch_file_and_the_log_gets_their_rows_at_the_merge(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("scratch files are SQLite's: PostgreSQL's workers write the shadows")
    _write(engine, 13, 150)
    inline = snapshot(engine)
    timeline_shadow = timeline_entries.name + SUFFIX
    merged: list[tuple[list[str], int, int]] = []
    merge = scratch_merge.merge_scratch_files

    def rows_in(url: str) -> int:
        counting = create_engine(url)
        try:
            with counting.connect() as conn:
                counted = conn.execute(text(f'SELECT count(*) FROM "{timeline_shadow}"'))
                return int(counted.scalar_one())
        finally:
            counting.dispose()

    def spy(target: Engine, paths: list[str], tables: list[Any]) -> None:
        in_files = sum(rows_in(f"sqlite:///{path}") for path in paths)
        merged.append((list(paths), rows_in(str(target.url)), in_files))
        merge(target, paths, tables)

    monkeypatch.setattr(partitioned_rebuild, "merge_scratch_files", spy)
    rebuild(engine, default_projections(), processes=2, parallel_from=0, batch_size=40)

    assert len(merged) == 1, "the rebuild did not go through worker processes"
    paths, in_log, in_files = merged[0]
    assert len(set(paths)) == len(paths) == 2, paths
    assert str(engine.url.database) not in paths
    assert in_log == 0, "a worker wrote into the log's database before the merge"
    with engine.connect() as conn:
        live = conn.execute(select(func.count()).select_from(timeline_entries)).scalar_one()
    assert in_files == live > 0
    assert_same_rows(inline, snapshot(engine), "merged from scratch files: ")


def test_a_rebuild_needs_no_more_of_the_pool_than_two_connections(engine: Engine) -> None:
    # The server rebuilds on the engine that serves its requests, whose pool may be as
    # small as INCIDENTS_DB_POOL_SIZE=1 (one connection and one of overflow). On
    # PostgreSQL the rebuild holds its lock's and its own, and samples the streams and
    # finishes the shadows on others; SQLite's merge takes the second.
    _write(engine, 17, 120)
    inline = snapshot(engine)
    small = store_engine(engine.url, pool_size=1, max_overflow=1, pool_timeout=3)
    try:
        rebuild(small, default_projections(), processes=2, parallel_from=0, batch_size=40)
    finally:
        small.dispose()
    assert_same_rows(inline, snapshot(engine), "rebuilt on a pool of two: ")
