"""Insights over a year of incidents: ``GET /insights/incidents?group_by=month``.

Generates ``--incidents`` incidents with realistic times over one year (2025) straight
into the insights read model (``incident_insights``, as the projection writes its
rows, in the order they started), then reads the figures for that year by month
through the whole FastAPI application in-process (starlette's TestClient: routing,
auth, the query, serialisation; no network), ``--reads`` times per run. The
reference, read the same number of times in the same run, is a bare
``SELECT count(*)`` over the same rows (the year's started_at range) through the same
engine: what merely finding the rows costs.

The mix: 92 % incidents, then drills, maintenance and false alarms; 2 % duplicates;
severities weighted towards SEV3-SEV4; one to three of 20 services; a team label on
most, an env label on some. Detection a few minutes after the start, acknowledgement
minutes later (3 % never acknowledged), mitigation for 85 % and resolution for 95 %,
each log-normally distributed around tens of minutes to hours.

.venv/bin/python -m bench.insights                                   # both backends, 100,000
.venv/bin/python -m bench.insights --backend sqlite --incidents 5000 --reads 10
"""

from __future__ import annotations

import argparse
import math
import os
import random
import secrets
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.app import create_app
from application.settings import Settings
from bench.common import engine_for, fresh_database, record
from bench.sizes import Sizes
from bench.stats import Figures, brief, repeat, summarise
from projections.insight_tables import incident_insights
from projections.insights import INTERVALS, microseconds
from projections.new_rows import insert_new
from projections.summary import labels_text

YEAR_START = datetime(2025, 1, 1, tzinfo=UTC)
YEAR_END = datetime(2026, 1, 1, tzinfo=UTC)
PATH = "/insights/incidents"
PARAMS = {"from": "2025-01-01", "to": "2026-01-01", "group_by": "month"}
SERVICES = [f"service-{n:02d}" for n in range(20)]
TEAMS = ("payments", "search", "platform", "checkout", "identity")
CHUNK = 5000
"""Rows written per statement while loading."""


def _lognormal(rng: random.Random, median_seconds: float, sigma: float) -> timedelta:
    return timedelta(seconds=median_seconds * math.exp(rng.gauss(0, sigma)))


def _row(rng: random.Random, number: int, started: datetime) -> dict[str, Any]:
    detected = started + _lognormal(rng, 240, 1.0)
    acknowledged = detected + _lognormal(rng, 180, 0.9) if rng.random() < 0.97 else None
    mitigated = detected + _lognormal(rng, 2700, 1.1) if rng.random() < 0.85 else None
    resolved = None
    if rng.random() < 0.95:
        resolved = (mitigated or detected) + _lognormal(rng, 3600, 1.2)
    labels = {"team": rng.choice(TEAMS)} if rng.random() < 0.8 else {}
    if rng.random() < 0.3:
        labels["env"] = rng.choice(("prod", "staging"))
    kind = rng.choices(("incident", "drill", "maintenance", "false_alarm"), weights=(92, 3, 3, 2))[
        0
    ]
    row: dict[str, Any] = {
        "incident_id": UUID(int=rng.getrandbits(128)),
        "kind": kind,
        "severity": rng.choices(("SEV1", "SEV2", "SEV3", "SEV4", "SEV5"), (2, 8, 30, 40, 20))[0],
        "services": "," + ",".join(rng.sample(SERVICES, rng.randint(1, 3))) + ",",
        "labels": labels,
        "labels_text": labels_text(labels),
        "status": "resolved" if resolved is not None else "investigating",
        "started_at": started,
        "detected_at": detected,
        "acknowledged_at": acknowledged,
        "mitigated_at": mitigated,
        "resolved_at": resolved,
        "duplicate_of": UUID(int=rng.getrandbits(128)) if rng.random() < 0.02 else None,
        "position": number,
    }
    row["duplicate_targets"] = [str(row["duplicate_of"])] if row["duplicate_of"] else []
    for column, (end, start) in INTERVALS.items():
        row[column] = microseconds(row[end], row[start])
    return row


def rows(count: int, seed: int = 2025) -> Iterator[dict[str, Any]]:
    """``count`` incidents started over 2025, oldest first (as a log would declare them)."""
    rng = random.Random(seed)
    span = (YEAR_END - YEAR_START).total_seconds()
    starts = sorted(rng.uniform(0, span) for _ in range(count))
    for number, offset in enumerate(starts, start=1):
        yield _row(rng, number, YEAR_START + timedelta(seconds=offset))


def load(url: str, count: int) -> float:
    """Write ``count`` generated rows into the read model; the seconds it took."""
    started = time.perf_counter()
    engine = engine_for(url)
    batch: list[dict[str, Any]] = []
    with engine.begin() as conn:
        for row in rows(count):
            batch.append(row)
            if len(batch) == CHUNK:
                insert_new(conn, incident_insights, batch)
                batch = []
        insert_new(conn, incident_insights, batch)
    with engine.connect() as conn:  # fresh statistics, as a settled database has
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("ANALYZE incident_insights")
        else:
            conn.exec_driver_sql("ANALYZE")
        conn.commit()
    engine.dispose()
    return time.perf_counter() - started


def _ms(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[max(1, math.ceil(fraction * len(ordered))) - 1] * 1000


@contextmanager
def reader(url: str) -> Iterator[tuple[TestClient, Any]]:
    """The application in-process as a client, and an engine for the reference query."""
    token = "il_bench-" + secrets.token_urlsafe(16)
    settings = Settings(database_url=url, admin_token=token, log_level="WARNING")
    engine = engine_for(url)
    try:
        with TestClient(create_app(settings), headers={"Authorization": f"Bearer {token}"}) as c:
            yield c, engine
    finally:
        engine.dispose()


def measure(client: TestClient, engine: Any, reads: int) -> Figures:
    """One run: ``reads`` insights answers and as many reference counts, taking turns (the
    count of rows is reported as ``rows``)."""
    t = incident_insights
    count = select(func.count()).where(t.c.started_at >= YEAR_START, t.c.started_at < YEAR_END)
    answers: list[float] = []
    counts: list[float] = []
    groups = rows_counted = 0
    with engine.connect() as conn:
        for _ in range(reads):
            began = time.perf_counter()
            response = client.get(PATH, params=PARAMS)
            answers.append(time.perf_counter() - began)
            response.raise_for_status()
            groups = len(response.json()["groups"])
            began = time.perf_counter()
            rows_counted = conn.execute(count).scalar_one()
            counts.append(time.perf_counter() - began)
    return {
        "month_p50_ms": _ms(answers, 0.5),
        "month_p90_ms": _ms(answers, 0.9),
        "count_p50_ms": _ms(counts, 0.5),
        "count_p90_ms": _ms(counts, 0.9),
        "month_vs_count": statistics.median(answers) / statistics.median(counts),
        "groups": groups,
        "rows": rows_counted,
    }


def run(backends: list[str], sizes: Sizes, workdir: Path) -> dict[str, Any]:
    """The suite's workload: load once per backend, then ``sizes.runs`` runs of reads."""
    results = {}
    for backend in backends:
        with fresh_database(backend, workdir) as url:
            seconds = load(url, sizes.insights_incidents)
            print(f"  insights {backend}: loaded {sizes.insights_incidents:,} in {seconds:.1f}s")
            with reader(url) as (client, engine):
                client.get(PATH, params=PARAMS).raise_for_status()  # warm up
                runs = repeat(
                    sizes.runs,
                    lambda _n, c=client, e=engine: measure(c, e, sizes.insights_reads),  # type: ignore[misc]
                    f"insights {backend}",
                )
        results[backend] = summarise(runs)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", action="append", choices=["sqlite", "postgresql"])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--reads", type=int, default=20, help="answers timed per run")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    backends = args.backend or ["sqlite", "postgresql"]
    figures: dict[str, Any] = {
        "incidents": args.incidents,
        "reads": args.reads,
        "load_before": ", ".join(f"{value:.1f}" for value in os.getloadavg()),
    }
    with tempfile.TemporaryDirectory(prefix="incidents-bench-insights-") as tmp:
        for backend in backends:
            with fresh_database(backend, Path(tmp)) as url:
                seconds = load(url, args.incidents)
                print(f"{backend}: loaded {args.incidents:,} incidents in {seconds:.1f}s")
                with reader(url) as (client, engine):
                    client.get(PATH, params=PARAMS).raise_for_status()
                    runs = []
                    for number in range(args.runs):
                        runs.append(measure(client, engine, args.reads))
                        print(f"  run {number + 1}/{args.runs}: {brief(runs[-1])}", flush=True)
            figures[backend] = summarise(runs)
    figures["load_after"] = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    path = record("insights", figures)
    print(f"recorded in {path}")


if __name__ == "__main__":
    main()
