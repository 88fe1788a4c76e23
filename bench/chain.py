"""What the hash chain and sealed text cost appends, and how fast ``incidents verify`` walks
a log.

Appends: the same appends three ways, taking turns on the same database in the same run:
``plain`` (no chain and text stored in clear — the reference: this benchmark replaces
the function that hashes an event's fields with one that returns no hash, so the
canonical bytes are not made and ``chain_hash`` stays NULL,
and the read of the log's end with one of its last position alone; the store still
numbers the events after that position itself, a read of the rightmost index page, and
PostgreSQL still notifies in the same round trip), ``chain`` (text in clear) and
``chain_and_sealing`` (as the service appends).
Then the log those appends wrote is read back with its sealed text opened, beside the
same read as stored. The appends:
- one event per transaction, ``EventStore.append`` at its expected version (the direct
  path the service takes without inline read models), ``--appends`` of them;
- group commit: 8 threads adding notes through ``IncidentService`` (the command writer
  commits what waits in one transaction), ``--per-writer`` each.

On SQLite the same kind of appends are also made with the bare driver (sqlite3), one row
per transaction with nothing else: into ``events`` alone (SQLite numbers it), after
reading the log's end with a precomputed hash in ``chain_hash``, and with a row in
``text_keys`` as well for the events a real append seals. That is what the database
itself charges for the chain and the keys, before any Python of ours runs.

Verify: ``--events`` generated events written straight into the log, numbered and
chained as appends chain them, then walked by ``verify_chain`` in one process and in
two (``incidents verify`` walks a SQLite log of 100,000 events or more in ranges, one
process per CPU up to four); the reference is reading the same events
(``read_events_after``) without hashing them.

.venv/bin/python -m bench.chain                       # both backends
.venv/bin/python -m bench.chain --backend sqlite --appends 500 --events 20000
.venv/bin/python -m bench.chain --verify-only         # the walk alone
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import eventstore.direct_append as direct
import eventstore.event_inserts as event_inserts
import eventstore.store as store_module
from application.bootstrap import build
from application.settings import Settings
from bench.appends import history, ours
from bench.common import engine_for, fresh_database, record
from bench.history import load
from bench.raw_driver import sqlite_connect, sqlite_params
from bench.service_writers import timed_writers
from domain.erasable_text import SEALED_FIELDS, sealing_scope
from eventstore.bulk_read import read_events_after
from eventstore.chain import LOG_END
from eventstore.chain_verify import verify_chain
from eventstore.notify import CHANNEL
from eventstore.sealed_text import SealedBatch
from eventstore.store import EventStore

WRITERS = 8


def _in_clear(_engine: Any, rows: Any) -> SealedBatch:
    return SealedBatch([event for _, event in rows], [], [])


def _unhashed(previous: bytes, *_fields: Any) -> tuple[bytes, str | None]:
    return previous, None


_END_UNCHAINED = "SELECT max(position), NULL FROM events"
_END_UNCHAINED_AND_NOTIFY = (
    "SELECT max(position), NULL,"
    f" pg_notify('{CHANNEL}', (coalesce(max(position), 0) + %s)::text) FROM events"
)
CHAIN_LEFT_OUT: dict[tuple[Any, str], Any] = {
    (event_inserts, "chained"): _unhashed,
    (event_inserts, "LOG_END"): _END_UNCHAINED,
    (event_inserts, "LOG_END_AND_NOTIFY"): _END_UNCHAINED_AND_NOTIFY,
    (direct, "LOG_END"): _END_UNCHAINED,
    (direct, "LOG_END_AND_NOTIFY"): _END_UNCHAINED_AND_NOTIFY,
}
SEALING_LEFT_OUT: dict[tuple[Any, str], Any] = {
    (store_module, "seal_events"): _in_clear,
    (direct, "seal_events"): _in_clear,
}


@contextmanager
def left_out(replaced: dict[tuple[Any, str], Any]) -> Iterator[None]:
    """Appends skip what ``replaced`` replaces while this lasts."""
    saved = {key: getattr(*key) for key in replaced}
    for (module, name), value in replaced.items():
        setattr(module, name, value)
    try:
        yield
    finally:
        for (module, name), value in saved.items():
            setattr(module, name, value)


def single_appends(url: str, count: int, seed: int) -> float:
    engine = engine_for(url)
    try:
        batch = history(count, seed=seed)
        latencies = ours(EventStore(engine), batch)
        return len(latencies) / sum(latencies)
    finally:
        engine.dispose()


def group_commit(url: str, per_writer: int) -> float:
    """Notes per second from ``WRITERS`` threads through the service's command writer."""
    runtime = build(Settings(database_url=url, projection_mode="worker", log_level="WARNING"))
    try:
        seconds, _ = timed_writers(runtime.service, WRITERS, per_writer)
        return WRITERS * per_writer / seconds
    finally:
        runtime.close()


def appends(backend: str, workdir: Path, count: int, per_writer: int, run: int) -> dict[str, float]:
    figures: dict[str, float] = {}
    with fresh_database(backend, workdir) as url:
        sides: list[tuple[str, Callable[[], Any]]] = [
            ("plain", lambda: left_out({**CHAIN_LEFT_OUT, **SEALING_LEFT_OUT})),
            ("chain", lambda: left_out(SEALING_LEFT_OUT)),
            ("chain_and_sealing", nullcontext),
        ]
        turn = run % len(sides)
        for name, context in sides[turn:] + sides[:turn]:
            with context():
                figures[f"single_{name}_per_s"] = single_appends(
                    url, count, seed=100 + run * 3 + len(figures)
                )
                figures[f"group_{name}_per_s"] = group_commit(url, per_writer)
        figures.update(reading_sealed(url))
        if backend == "sqlite":
            figures.update(bare(url, count, run))
    for kind in ("single", "group"):
        plain = figures[f"{kind}_plain_per_s"]
        figures[f"{kind}_chain_cost"] = 1 - figures[f"{kind}_chain_per_s"] / plain
        figures[f"{kind}_total_cost"] = 1 - figures[f"{kind}_chain_and_sealing_per_s"] / plain
    return figures


_BARE_EVENT = (
    "INSERT INTO events (stream_id, version, type, schema_version, data, metadata, event_id,"
    " occurred_at, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_BARE_CHAINED = (
    "INSERT INTO events (position, stream_id, version, type, schema_version, data, metadata,"
    " event_id, occurred_at, recorded_at, chain_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_BARE_KEY = "INSERT INTO text_keys (position, key_id, scope, wrapped_key) VALUES (?, ?, ?, ?)"


def bare_rows(url: str, count: int, seed: int, *, chain: bool, keys: bool) -> float:
    """SQLite: appends per second of ``count`` generated events through sqlite3, one
    transaction each, chained after the log's end read in it and (for sealed types) with a
    key row when asked; every value is made before the clock starts."""
    conn = sqlite_connect(url)
    try:
        prepared = []
        for row in history(count, seed=seed):
            event = sqlite_params(row, row["occurred_at"])
            scope = sealing_scope(row["stream_id"], row["type"], row["data"])
            key = (
                (row["event_id"].hex, scope, secrets.token_bytes(61))
                if keys and row["type"] in SEALED_FIELDS and scope is not None
                else None
            )
            prepared.append((event, secrets.token_hex(32) if chain else None, key))
        began = time.perf_counter()
        for event, link, key in prepared:
            conn.execute("BEGIN IMMEDIATE")
            if link is None:
                conn.execute(_BARE_EVENT, event)
            else:
                last = conn.execute(LOG_END).fetchone()
                position = last[0] + 1 if last else 1
                conn.execute(_BARE_CHAINED, (position, *event, link))
                if key is not None:  # keys are only asked for with the chain
                    conn.execute(_BARE_KEY, (position, *key))
            conn.execute("COMMIT")
        return count / (time.perf_counter() - began)
    finally:
        conn.close()


def bare(url: str, count: int, run: int) -> dict[str, float]:
    """The bare driver's three kinds of append, in an order that rotates with ``run``."""
    sides = [("events", False, False), ("chain", True, False), ("chain_and_keys", True, True)]
    turn = run % len(sides)
    figures = {
        f"bare_{name}_per_s": bare_rows(url, count, 900 + run * 3 + i, chain=chain, keys=keys)
        for i, (name, chain, keys) in enumerate(sides[turn:] + sides[:turn])
    }
    plain = figures["bare_events_per_s"]
    figures["bare_chain_cost"] = 1 - figures["bare_chain_per_s"] / plain
    figures["bare_total_cost"] = 1 - figures["bare_chain_and_keys_per_s"] / plain
    return figures


def reading_sealed(url: str) -> dict[str, float]:
    """Reading back the log just appended (its notes sealed on a third of the appends) with
    the text opened, beside reading it as stored."""
    engine = engine_for(url)
    speeds: dict[str, float] = {}
    try:
        for name, as_stored in (("read_opened_per_s", False), ("read_as_stored_per_s", True)):
            began = time.perf_counter()
            with engine.connect() as conn:
                after, read = 0, 0
                while batch := read_events_after(conn, after, 1000, as_stored=as_stored):
                    read += len(batch)
                    after = batch[-1].position
            speeds[name] = read / (time.perf_counter() - began)
    finally:
        engine.dispose()
    speeds["opening_cost"] = 1 - speeds["read_opened_per_s"] / speeds["read_as_stored_per_s"]
    return speeds


def verifying(backend: str, workdir: Path, events: int) -> dict[str, float]:
    with fresh_database(backend, workdir) as url:
        engine = engine_for(url)
        try:
            load(engine, events)
            began = time.perf_counter()
            with engine.connect() as conn:
                verdict = verify_chain(conn)
            walk = time.perf_counter() - began
            assert verdict.ok, verdict.reason
            began = time.perf_counter()
            with engine.connect() as conn:
                split = verify_chain(conn, processes=2)
            walk_split = time.perf_counter() - began
            assert split == verdict, (split, verdict)
            began = time.perf_counter()
            with engine.connect() as conn:
                after, read = 0, 0
                while batch := read_events_after(conn, after, 5000):
                    read += len(batch)
                    after = batch[-1].position
            reading = time.perf_counter() - began
        finally:
            engine.dispose()
    return {
        "verify_per_s": verdict.events / walk,
        "verify_two_processes_per_s": verdict.events / walk_split,
        "read_only_per_s": read / reading,
        "verify_vs_read": (verdict.events / walk) / (read / reading),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", action="append", choices=["sqlite", "postgresql"])
    parser.add_argument("--appends", type=int, default=2000)
    parser.add_argument("--per-writer", type=int, default=250)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--verify-only", action="store_true", help="only the walk (recorded as chain-verify)"
    )
    args = parser.parse_args()
    figures: dict[str, Any] = {
        "appends": args.appends,
        "per_writer": args.per_writer,
        "writers": WRITERS,
        "events": args.events,
        "load_before": ", ".join(f"{value:.1f}" for value in os.getloadavg()),
    }
    with tempfile.TemporaryDirectory(prefix="incidents-bench-chain-") as tmp:
        for backend in args.backend or ["sqlite", "postgresql"]:
            runs = []
            for run in range(args.runs):
                measured = (
                    {}
                    if args.verify_only
                    else appends(backend, Path(tmp), args.appends, args.per_writer, run)
                )
                measured.update(verifying(backend, Path(tmp), args.events))
                runs.append(measured)
                print(backend, run + 1, {k: round(v, 3) for k, v in measured.items()}, flush=True)
            figures[backend] = {
                name: {
                    "median": statistics.median(r[name] for r in runs),
                    "min": min(r[name] for r in runs),
                    "max": max(r[name] for r in runs),
                }
                for name in runs[0]
            }
    figures["load_after"] = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"recorded in {record('chain-verify' if args.verify_only else 'chain', figures)}")


if __name__ == "__main__":
    main()
