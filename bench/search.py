"""Full-text search over a generated log: query latency, and what the index adds to a rebuild.

Loads ``--events`` generated events (bench/history.py: incidents with notes, some
amended, action items and postmortems) once per backend, then per run:

- rebuilds every read model without the search projection (the reference) and with it,
  in an order that alternates from run to run (projections/rebuild.py, worker processes
  as the service uses them). What search adds is with / without - 1: its documents
  table (a copy of most of the log's text) and its index. The full-text index alone is
  timed too: built over the swapped-in documents (FTS5 'rebuild'; the GIN index on
  PostgreSQL, whose tsvector column is computed as the documents are written);
- asks ``GET /search?q=...`` through the whole application in-process (starlette's
  TestClient: routing, auth, the query, snippets, serialisation; no network)
  ``--queries`` times for each two-word query below, beside a bare count of the same
  query's matches through the same engine (what finding the documents alone costs).

The generated texts have a small vocabulary, so the queries span the selectivities a
real log has: a rare pair, one that every incident's document holds, and one that
nearly every note holds (the worst case: of its half a million matches, the newest
10,000 are ranked, projections/search_queries.py; ``broad_ranked_newest`` says so).

.venv/bin/python -m bench.search                                    # both backends, 1,000,000
.venv/bin/python -m bench.search --backend sqlite --events 3000 --queries 10 --runs 1
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, Table, func, literal_column, select, text
from sqlalchemy.sql.elements import ColumnClause

from api.app import create_app
from application.settings import Settings
from bench.common import engine_for, record
from bench.preload import preloaded
from bench.sizes import Sizes
from bench.stats import Figures, brief, repeat, summarise
from projections.rebuild import rebuild
from projections.runner import default_projections
from projections.search import SearchProjection
from projections.search_index import build_text_index, fts_table
from projections.search_syntax import fts5_query, parse, tsquery
from projections.search_tables import search_documents
from projections.shadow_tables import made_after_swap

QUERIES = {
    "rare": "errors 17",
    "common": "pool limit",
    "broad": "p99 ms",
}
"""Two-word queries by how many documents they match: an incident title's words (about
one incident in 40), the root cause every incident has, the words of most notes."""

TOKEN = f"il_{secrets.token_urlsafe(16)}"
"""The admin token of the application under test, new each time."""


def _rebuild_seconds(engine: Engine, *, with_search: bool) -> tuple[float, float]:
    """How long a rebuild took, and the part of it spent building the full-text index
    over the swapped-in documents (0 without search)."""
    projections = [
        p for p in default_projections() if with_search or not isinstance(p, SearchProjection)
    ]
    building: list[float] = []

    def timed(conn: Connection, table: Table) -> None:
        started = time.perf_counter()
        build_text_index(conn, table)
        building.append(time.perf_counter() - started)

    made_after_swap(search_documents, timed)
    try:
        started = time.perf_counter()
        rebuild(engine, projections)
        return time.perf_counter() - started, sum(building)
    finally:
        made_after_swap(search_documents, build_text_index)


def _match_count(engine: Engine, q: str) -> int:
    """The query's matches, counted without ranking or snippets: the reference."""
    query = parse(q)
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            vector: ColumnClause[Any] = literal_column("document")
            statement = (
                select(func.count())
                .select_from(search_documents)
                .where(vector.op("@@")(tsquery(query)))
            )
            return int(conn.execute(statement).scalar_one())
        fts = fts_table(search_documents)
        counted = text(f'SELECT count(*) FROM "{fts}" WHERE "{fts}" MATCH :q')
        return int(conn.execute(counted, {"q": fts5_query(query)}).scalar_one())


def _median_ms(timings: list[float]) -> float:
    return statistics.median(timings) * 1000


@contextmanager
def _client(url: str) -> Iterator[TestClient]:
    settings = Settings(database_url=url, admin_token=TOKEN, log_level="WARNING")
    with TestClient(create_app(settings)) as client:
        client.headers["Authorization"] = f"Bearer {TOKEN}"
        yield client


def measure(url: str, number: int, queries: int) -> Figures:
    """One run: both rebuilds in turn, then each query ``queries`` times and its reference."""
    engine = engine_for(url)
    try:
        order = [False, True] if number % 2 == 0 else [True, False]
        seconds = {
            with_search: _rebuild_seconds(engine, with_search=with_search) for with_search in order
        }
        without, (with_search, index) = seconds[False][0], seconds[True]
        with engine.connect() as conn:
            documents = conn.execute(
                select(func.count()).select_from(search_documents)
            ).scalar_one()
        figures: Figures = {
            "rebuild_without_search_s": without,
            "rebuild_with_search_s": with_search,
            "search_share_of_rebuild": with_search / without - 1,
            "index_build_s": index,
            "index_share_of_rebuild": index / without,
            "documents": float(documents),
        }
        with _client(url) as client:
            for name, q in QUERIES.items():
                client.get("/search", params={"q": q}).raise_for_status()  # warm up
                timings, counts = [], []
                for _ in range(queries):
                    started = time.perf_counter()
                    response = client.get("/search", params={"q": q})
                    timings.append(time.perf_counter() - started)
                    response.raise_for_status()
                    started = time.perf_counter()
                    matches = _match_count(engine, q)
                    counts.append(time.perf_counter() - started)
                figures[f"{name}_p50_ms"] = _median_ms(timings)
                figures[f"{name}_count_p50_ms"] = _median_ms(counts)
                figures[f"{name}_matches"] = float(matches)
                figures[f"{name}_ranked_newest"] = float(response.json()["ranked_newest"] or 0)
        return figures
    finally:
        engine.dispose()


def run(backends: list[str], sizes: Sizes, workdir: Path) -> dict[str, Any]:
    """The suite's workload: load once per backend, then ``sizes.runs`` runs."""
    results = {}
    for backend in backends:
        with preloaded(backend, sizes.search_events, workdir) as (url, _loaded):
            runs = repeat(
                sizes.runs,
                lambda number, u=url: measure(u, number, sizes.search_queries),  # type: ignore[misc]
                f"search {backend}",
            )
        results[backend] = summarise(runs)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", action="append", choices=["sqlite", "postgresql"])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=25, help="requests timed per query and run")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    backends = args.backend or ["sqlite", "postgresql"]
    figures: dict[str, Any] = {"events": args.events, "queries": QUERIES}
    with tempfile.TemporaryDirectory(prefix="incidents-bench-search-", dir=Path.cwd()) as tmp:
        for backend in backends:
            with preloaded(backend, args.events, Path(tmp)) as (url, _loaded):
                runs = []
                for number in range(args.runs):
                    runs.append(measure(url, number, args.queries))
                    print(
                        f"  {backend} run {number + 1}/{args.runs}: {brief(runs[-1])}", flush=True
                    )
            figures[backend] = summarise(runs)
    print(f"recorded in {record('search', figures)}")


if __name__ == "__main__":
    main()
