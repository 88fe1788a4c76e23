"""Rendering the incident page: GET /ui/incidents/{id} beside the JSON timeline it shows.

One incident per size (50 and 500 timeline entries) is built through the service itself
(IncidentService on an EventStore, inline projections, a clock stepping one second per
call): declared, then notes (some amended, so their earlier texts are rendered too),
action items and postmortem edits in the proportions of a busy response. Both reads go
through the whole FastAPI application in-process (starlette's TestClient: routing,
auth, templates or serialisation, no network): the page signed in with the session
cookie, GET /incidents/{id}/timeline with a bearer token. They take turns, in an order
that changes from read to read, and each is reported as its median and p90; the page
also reads the summary, action items, postmortem and the slider's moments, which the
timeline alone does not. Figures are printed and recorded, never asserted.

.venv/bin/python -m bench.web_render                     # both backends, 200 reads each
.venv/bin/python -m bench.web_render --quick             # 30 reads each
.venv/bin/python -m bench.web_render --backend sqlite --sizes 50 --reads 20
"""

from __future__ import annotations

import argparse
import random
import secrets
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from fastapi.testclient import TestClient

from api.app import create_app
from application.service import IncidentService
from application.settings import Settings
from bench.common import engine_for, fresh_database, record
from bench.http_client import percentile
from domain import commands as c
from eventstore import EventStore
from projections.runner import ProjectionRunner

START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
BATCH = 50
"""Commands appended together: one transaction per batch keeps building quick."""
SECTIONS = ("summary", "impact", "root_cause", "resolution", "lessons_learned")
ACTOR = {"actor": "bench", "source": "bench"}


class SteppingClock:
    """One second later at every call, so each append has its own recorded time."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def _activity(rng: random.Random, incident_id: UUID, clock: SteppingClock) -> Iterator[c.Command]:
    """Commands that each add one timeline entry, with amendments (which add none) between."""
    notes: list[UUID] = []
    step = 0
    while True:
        step += 1
        at = clock.now
        roll = rng.random()
        if notes and roll < 0.1:
            text = f"corrected observation {step}: p99 back under 300 ms"
            yield c.AmendNote(incident_id=incident_id, at=at, note_id=rng.choice(notes), text=text)
            continue
        if roll < 0.8:
            notes.append(uuid4())
            text = f"observation {step}: p99 at {rng.randrange(100, 2000)} ms on **checkout**"
            yield c.AddNote(incident_id=incident_id, at=at, note_id=notes[-1], text=text)
        elif roll < 0.9:
            yield c.AddActionItem(
                incident_id=incident_id,
                at=at,
                item_id=uuid4(),
                title=f"Fix {step}",
                kind=rng.choice(["corrective", "preventative"]),
                owner=rng.choice(["alice", "bob", "carol"]),
                due_date=date(2026, 3, 9) + timedelta(days=rng.randrange(60)),
            )
        else:
            text = f"Draft {step}:\n" + "details of the failure\n" * rng.randrange(3, 12)
            section = rng.choice(SECTIONS)
            yield c.EditPostmortemSection(
                incident_id=incident_id, at=at, section=section, text=text
            )


def build(url: str, entries: int, seed: int = 7) -> UUID:
    """One incident whose timeline has ``entries`` entries (its declaration among them)."""
    clock = SteppingClock(START)
    engine = engine_for(url)
    service = IncidentService(EventStore(engine, clock=clock), ProjectionRunner(), clock=clock)
    incident_id = uuid4()
    declare = c.DeclareIncident(
        incident_id=incident_id, at=clock(), title="Checkout returns 502", severity="SEV2"
    )
    service.execute(declare, ACTOR)
    activity = _activity(random.Random(seed), incident_id, clock)
    added, batch = 1, []
    while added < entries:
        command = next(activity)
        added += not isinstance(command, c.AmendNote)
        batch.append(command)
        if len(batch) == BATCH or added == entries:
            service.execute(batch, ACTOR)
            batch = []
    engine.dispose()
    return incident_id


def figures(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 2),
        "p90_ms": round(percentile(ordered, 0.90) * 1000, 2),
        "reads": len(ordered),
    }


def _timed(client: TestClient, path: str) -> tuple[float, int]:
    started = time.perf_counter()
    answer = client.get(path)
    took = time.perf_counter() - started
    answer.raise_for_status()
    return took, len(answer.content)


def measure_size(
    page: TestClient, api: TestClient, incident_id: UUID, reads: int
) -> dict[str, Any]:
    """``reads`` reads of the page and of the JSON timeline, taking turns."""
    paths = {"page": f"/ui/incidents/{incident_id}", "json": f"/incidents/{incident_id}/timeline"}
    clients = {"page": page, "json": api}
    shown = len(api.get(paths["json"], params={"limit": 500}).json()["entries"])
    samples: dict[str, list[float]] = {"page": [], "json": []}
    sizes: dict[str, int] = {}
    for name in ("page", "json", "page", "json"):  # warm up connections and caches
        _timed(clients[name], paths[name])
    for number in range(reads):
        for name in ("page", "json") if number % 2 == 0 else ("json", "page"):
            took, sizes[name] = _timed(clients[name], paths[name])
            samples[name].append(took)
    result: dict[str, Any] = {"timeline_entries": shown}
    for name in ("page", "json"):
        result[name] = {**figures(samples[name]), "bytes": sizes[name]}
    result["page_to_json_median"] = round(
        result["page"]["median_ms"] / result["json"]["median_ms"], 2
    )
    return result


def measure(backend: str, sizes: list[int], reads: int, workdir: Path) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with fresh_database(backend, workdir) as url:
        built = {size: build(url, size) for size in sizes}
        token = "il_bench-" + secrets.token_urlsafe(16)
        settings = Settings(database_url=url, admin_token=token, log_level="WARNING")
        app = create_app(settings)
        headers = {"Authorization": f"Bearer {token}"}
        with TestClient(app, headers=headers) as api, TestClient(app) as page:
            signed_in = page.post("/ui/sign-in", data={"token": token, "next": "/ui/incidents"})
            signed_in.raise_for_status()
            for size, incident_id in built.items():
                result = measure_size(page, api, incident_id, reads)
                results[str(size)] = result
                html, json = result["page"], result["json"]
                print(
                    f"{backend} {result['timeline_entries']} entries: page median"
                    f" {html['median_ms']:.1f} ms p90 {html['p90_ms']:.1f} ms"
                    f" ({html['bytes'] / 1024:.0f} KiB); JSON timeline median"
                    f" {json['median_ms']:.1f} ms p90 {json['p90_ms']:.1f} ms"
                    f" ({json['bytes'] / 1024:.0f} KiB); {reads} reads each",
                    flush=True,
                )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", action="append", choices=["sqlite", "postgresql"])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 500], help="(50 500)")
    parser.add_argument("--reads", type=int, default=200, help="of each, per size (200)")
    parser.add_argument("--quick", action="store_true", help="30 reads of each")
    args = parser.parse_args()
    reads = 30 if args.quick else args.reads
    results = {}
    with tempfile.TemporaryDirectory(dir="/tmp", prefix="incidents-bench-web-") as workdir:
        for backend in args.backend or ["sqlite", "postgresql"]:
            results[backend] = measure(backend, args.sizes, reads, Path(workdir))
    path = record(
        "web_render" + ("-quick" if args.quick else ""),
        {
            "reads_through": "the FastAPI app in-process (starlette TestClient)",
            "web_render": results,
        },
    )
    print(f"recorded in {path}")


if __name__ == "__main__":
    main()
