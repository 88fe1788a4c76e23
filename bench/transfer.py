"""Export and import of the whole log: events/s on SQLite and PostgreSQL, against raw bulk inserts.

.venv/bin/python -m bench.transfer --events 1000000 --rounds 3

Generates the history once on SQLite (bench/history.py), then, each round, moves it the
way an operator would: export SQLite -> import into PostgreSQL -> export PostgreSQL ->
import into SQLite. Each export and import runs in its own process (``--child``), so
its peak RSS shows whether it streams. The references are raw bulk inserts of the same
rows into a table of the same shape (columns, keys, unique constraints and index; no
triggers): COPY through psycopg's ``write_row`` on PostgreSQL, ``executemany`` through
sqlite3 on SQLite. Their rows are prepared in memory first and only the insert and the
commit are timed, so the reference is the database's own speed. Rounds alternate the
measurements, and the best of each is reported beside every figure, because on a
shared machine a single run mostly measures its neighbours. Import figures are for
loading and verifying the log; the read-model rebuild that ``incidents import`` runs
afterwards is measured by bench/rebuild.py.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import psycopg

from bench.common import RESULTS, engine_for, fresh_database, run_child
from bench.history import load
from bench.memory import peak_rss_mib
from domain.events import CURRENT_VERSIONS
from eventstore.engine import create_engine
from eventstore.transfer.export import export_log
from eventstore.transfer.import_log import import_log

TARGETS = {"import_to_raw_ratio": 0.5, "export_events_per_second": 100_000}


# --- the measured runs, each in a child process ----------------------------------------------


def child(operation: str, url: str, path: str) -> None:
    engine = create_engine(url)
    started, cpu = time.perf_counter(), time.process_time()
    if operation == "export":
        with open(path, "wb") as out:
            result: Any = export_log(engine, out)
    else:
        with open(path, "rb", buffering=1 << 20) as source:
            result = import_log(engine, source, known_types=CURRENT_VERSIONS)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    engine.dispose()
    figures = {
        "events": result.events,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "events_per_second": result.events / seconds,
        "peak_rss_mib": peak_rss_mib(),
        "sha256": result.sha256,
    }
    print(json.dumps(figures))


def measured(operation: str, backend: str, url: str, path: Path) -> dict[str, Any]:
    load_before = os.getloadavg()[0]
    figures = run_child("bench.transfer", "--child", operation, url, str(path))
    figures["load_average_before"] = load_before
    figures["load_average_after"] = os.getloadavg()[0]
    print(
        f"{backend} {operation}: {figures['events']:,} events in {figures['seconds']:.1f}s"
        f" = {figures['events_per_second']:,.0f} events/s"
        f" (cpu {figures['cpu_seconds']:.1f}s, peak RSS {figures['peak_rss_mib']:.0f} MiB,"
        f" load {load_before:.1f} -> {figures['load_average_after']:.1f})"
    )
    return figures


# --- the references: raw bulk inserts of the same rows ---------------------------------------


def _events(path: Path) -> Iterator[dict[str, Any]]:
    """The event lines of an export, parsed (header and trailer left out)."""
    with path.open("rb") as lines:
        next(lines)
        for line in lines:
            value = orjson.loads(line)
            if "trailer" in value:
                return
            yield value


def _text(document: dict[str, Any]) -> str:
    return orjson.dumps(document).decode()


def _postgres_rows(path: Path) -> list[tuple[Any, ...]]:
    return [
        (
            v["position"],
            v["stream_id"],
            v["version"],
            v["type"],
            v["schema_version"],
            _text(v["data"]),
            _text(v["metadata"]),
            v["event_id"],
            v["occurred_at"],
            v["recorded_at"],
            v["chain_hash"],
        )
        for v in _events(path)
    ]


def _sqlite_time(text: str) -> str:
    return f"{text[:10]} {text[11:26]}"


def _sqlite_rows(path: Path) -> list[tuple[Any, ...]]:
    return [
        (
            v["position"],
            v["stream_id"],
            v["version"],
            v["type"],
            v["schema_version"],
            _text(v["data"]),
            _text(v["metadata"]),
            v["event_id"].replace("-", ""),
            _sqlite_time(v["occurred_at"]),
            _sqlite_time(v["recorded_at"]),
            v["chain_hash"],
        )
        for v in _events(path)
    ]


def raw_postgres(url: str, rows: list[tuple[Any, ...]]) -> tuple[float, float]:
    """Seconds and CPU seconds to COPY ``rows`` into a copy of ``events`` and commit."""
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        conn.execute("CREATE TABLE events_raw (LIKE events INCLUDING ALL)")
        conn.commit()
        started, cpu = time.perf_counter(), time.process_time()
        with conn.cursor() as cursor, cursor.copy("COPY events_raw FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        conn.commit()
        return time.perf_counter() - started, time.process_time() - cpu


def raw_sqlite(url: str, rows: list[tuple[Any, ...]]) -> tuple[float, float]:
    """Seconds and CPU seconds to insert ``rows`` into a copy of ``events`` and commit."""
    conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    ddl = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'events'").fetchone()[0]
    conn.execute(ddl.replace("CREATE TABLE events", "CREATE TABLE events_raw", 1))
    conn.execute("CREATE INDEX ix_events_raw_recorded_at ON events_raw (recorded_at)")
    insert = "INSERT INTO events_raw VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    started, cpu = time.perf_counter(), time.process_time()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(insert, rows)
    conn.execute("COMMIT")
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    conn.close()
    return seconds, cpu_seconds


def reference(backend: str, url: str, path: Path) -> dict[str, Any]:
    rows = _postgres_rows(path) if backend == "postgresql" else _sqlite_rows(path)
    load_before = os.getloadavg()[0]
    insert = raw_postgres if backend == "postgresql" else raw_sqlite
    seconds, cpu_seconds = insert(url, rows)
    figures = {
        "events": len(rows),
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "events_per_second": len(rows) / seconds,
        "load_average_before": load_before,
        "load_average_after": os.getloadavg()[0],
    }
    print(
        f"{backend} raw bulk insert: {figures['events']:,} events in {seconds:.1f}s"
        f" = {figures['events_per_second']:,.0f} events/s (cpu {cpu_seconds:.1f}s,"
        f" load {load_before:.1f} -> {figures['load_average_after']:.1f})"
    )
    return figures


# --- the run ------------------------------------------------------------------------------------


MEASUREMENTS = (
    "sqlite_export",
    "postgresql_import",
    "postgresql_export",
    "sqlite_import",
    "postgresql_raw_bulk_insert",
    "sqlite_raw_bulk_insert",
)


def one_round(source: str, workdir: Path) -> dict[str, Any]:
    from_sqlite, from_postgres = workdir / "from-sqlite.jsonl", workdir / "from-postgres.jsonl"
    figures: dict[str, Any] = {"sqlite_export": measured("export", "sqlite", source, from_sqlite)}
    with fresh_database("postgresql", workdir) as target:
        figures["postgresql_import"] = measured("import", "postgresql", target, from_sqlite)
        figures["postgresql_export"] = measured("export", "postgresql", target, from_postgres)
    with fresh_database("sqlite", workdir) as target:
        figures["sqlite_import"] = measured("import", "sqlite", target, from_postgres)
    with fresh_database("postgresql", workdir) as target:
        figures["postgresql_raw_bulk_insert"] = reference("postgresql", target, from_sqlite)
    with fresh_database("sqlite", workdir) as target:
        figures["sqlite_raw_bulk_insert"] = reference("sqlite", target, from_sqlite)
    figures["same_file_from_both_backends"] = (
        figures["sqlite_export"]["sha256"] == figures["postgresql_export"]["sha256"]
    )
    return figures


def run(events: int, rounds: int, workdir: Path) -> dict[str, Any]:
    results: dict[str, Any] = {"events_generated": events, "rounds": []}
    with fresh_database("sqlite", workdir) as source:
        engine = engine_for(source)
        started = time.perf_counter()
        loaded = load(engine, events)
        engine.dispose()
        print(f"generated {loaded:,} events in {time.perf_counter() - started:.1f}s")
        for number in range(1, rounds + 1):
            print(f"round {number} of {rounds}")
            results["rounds"].append(one_round(source, workdir))
    best = {
        name: max(r[name]["events_per_second"] for r in results["rounds"]) for name in MEASUREMENTS
    }
    results["best_events_per_second"] = best
    results["same_file_from_both_backends"] = all(
        r["same_file_from_both_backends"] for r in results["rounds"]
    )
    for backend in ("sqlite", "postgresql"):
        ratio = best[f"{backend}_import"] / best[f"{backend}_raw_bulk_insert"]
        results[f"{backend}_import_to_raw_ratio"] = ratio
        print(
            f"{backend}: best export {best[f'{backend}_export']:,.0f} events/s,"
            f" best import {best[f'{backend}_import']:,.0f} events/s,"
            f" best raw bulk insert {best[f'{backend}_raw_bulk_insert']:,.0f} events/s,"
            f" import / raw = {ratio:.2f}"
        )
    return results


def write_results(results: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "transfer.json"
    payload = {
        "measured_at": datetime.now(UTC).isoformat(),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "targets": TARGETS,
        **results,
    }
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", nargs=3, metavar=("OPERATION", "URL", "FILE"))
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as workdir:
        results = run(args.events, args.rounds, Path(workdir))
    print(f"recorded in {write_results(results)}")


if __name__ == "__main__":
    main()
