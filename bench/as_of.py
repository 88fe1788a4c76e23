"""Reading the past: latency of ``?as_of=`` on one incident with 10,000 events.

An incident is built through the service itself (IncidentService on an EventStore,
inline projections, a clock stepping one second per call so recorded times are
distinct): declared, then notes, amendments, action items and their progress,
participants and postmortem edits in batches of commands, then resolved and its
postmortem reviewed, published and revised. The reads go through the whole FastAPI
application in-process (starlette's TestClient: routing, auth, serialisation, no
network). Each read replays the incident's stream up to a cut chosen at random over
its life, half of them by log position and half by recorded time; the live reads
(no ``as_of``) are measured alongside for scale.

.venv/bin/python -m bench.as_of                        # both backends, 10,000 events
.venv/bin/python -m bench.as_of --backend sqlite --events 2000 --reads 20   # a quick check
"""

from __future__ import annotations

import argparse
import json
import os
import platform
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
from bench.common import RESULTS, engine_for, fresh_database
from domain import commands as c
from domain.errors import DomainError
from domain.values import stream_id_for
from eventstore import EventStore
from projections.runner import ProjectionRunner

START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
BATCH = 50
"""Commands appended together: one transaction per batch keeps building the incident quick."""
VIEWS = {
    "summary": "/incidents/{id}",
    "timeline": "/incidents/{id}/timeline",
    "postmortem": "/incidents/{id}/postmortem",
}
SECTIONS = ("summary", "impact", "root_cause", "resolution", "lessons_learned")


class SteppingClock:
    """One second later at every call, so each append has its own recorded time."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def _activity(rng: random.Random, incident_id: UUID, clock: SteppingClock) -> Iterator[c.Command]:
    """An endless mix of what responders do during and after an incident."""
    notes: list[UUID] = []
    open_items: list[UUID] = []
    started: list[UUID] = []
    step = 0
    while True:
        step += 1
        at = clock.now
        roll = rng.random()
        if roll < 0.5 or not notes:
            notes.append(uuid4())
            text = f"observation {step}: p99 at {rng.randrange(100, 2000)} ms"
            yield c.AddNote(incident_id=incident_id, at=at, note_id=notes[-1], text=text)
        elif roll < 0.6:
            note = rng.choice(notes[-50:])
            text = f"corrected observation {step}"
            yield c.AmendNote(incident_id=incident_id, at=at, note_id=note, text=text)
        elif roll < 0.68:
            open_items.append(uuid4())
            yield c.AddActionItem(
                incident_id=incident_id,
                at=at,
                item_id=open_items[-1],
                title=f"Fix {step}",
                kind=rng.choice(["corrective", "preventative"]),
                owner=rng.choice(["alice", "bob", "carol"]),
                due_date=date(2026, 3, 9) + timedelta(days=rng.randrange(60)),
            )
        elif roll < 0.74 and (open_items or started):
            if started and (not open_items or rng.random() < 0.5):
                item, status = started.pop(), "done"
            else:
                item, status = open_items.pop(), "in_progress"
                started.append(item)
            yield c.ChangeActionItemStatus(
                incident_id=incident_id, at=at, item_id=item, status=status
            )
        elif roll < 0.8:
            yield c.AddParticipant(incident_id=incident_id, at=at, person=f"responder-{step}")
        else:
            yield c.EditPostmortemSection(
                incident_id=incident_id,
                at=at,
                section=rng.choice(SECTIONS),
                text=f"Draft {step}:\n" + "details of the failure\n" * rng.randrange(3, 30),
            )


def _execute(service: IncidentService, batch: list[c.Command]) -> None:
    """Append the batch at once; if one of its commands breaks a rule, the others one by one."""
    metadata = {"actor": "bench", "source": "bench"}
    try:
        service.execute(batch, metadata)
    except DomainError:
        for command in batch:
            try:
                service.execute(command, metadata)
            except DomainError:
                continue


def _closing(incident_id: UUID, at: datetime) -> list[c.Command]:
    """Resolve, write the required sections, review, publish, and open revision 2."""
    edits = [
        c.EditPostmortemSection(incident_id=incident_id, at=at, section=s, text=f"Final {s}.")
        for s in ("summary", "root_cause", "resolution")
    ]
    return [
        c.ChangeStatus(incident_id=incident_id, at=at, status="resolved"),
        *edits,
        c.RequestPostmortemReview(incident_id=incident_id, at=at),
        c.PublishPostmortem(incident_id=incident_id, at=at),
        c.EditPostmortemSection(
            incident_id=incident_id, at=at, section="root_cause", text="Revised root cause."
        ),
    ]


def build(url: str, events: int, seed: int = 11) -> UUID:
    """One incident with about ``events`` events, through the service; returns its id."""
    clock = SteppingClock(START)
    engine = engine_for(url)
    store = EventStore(engine, clock=clock)
    service = IncidentService(store, ProjectionRunner(), clock=clock)
    incident_id = uuid4()
    title = "Checkout returns 502"
    declare = c.DeclareIncident(incident_id=incident_id, at=clock(), title=title, severity="SEV2")
    service.execute(declare, {"actor": "bench", "source": "bench"})
    activity = _activity(random.Random(seed), incident_id, clock)
    until = events - len(_closing(incident_id, clock.now))
    stream = stream_id_for(incident_id)
    while (version := store.stream_version(stream)) < until:
        _execute(service, [next(activity) for _ in range(min(BATCH, until - version))])
    _execute(service, _closing(incident_id, clock.now))
    engine.dispose()
    return incident_id


def percentiles(samples: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {
        "p50_ms": round(cuts[49] * 1000, 2),
        "p99_ms": round(cuts[98] * 1000, 2),
        "max_ms": round(max(samples) * 1000, 2),
        "reads": len(samples),
    }


def measure(backend: str, events: int, reads: int, workdir: Path) -> dict[str, Any]:
    with fresh_database(backend, workdir) as url:
        started = time.perf_counter()
        incident_id = build(url, events)
        built = time.perf_counter() - started
        store = EventStore(engine_for(url))
        recorded = store.read_stream(stream_id_for(incident_id))
        store.engine.dispose()
        print(f"{backend}: built an incident of {len(recorded):,} events in {built:.1f}s")
        rng = random.Random(5)
        cuts = [
            str(event.position) if n % 2 == 0 else event.recorded_at.isoformat()
            for n, event in enumerate(rng.choice(recorded) for _ in range(reads))
        ]
        token = "il_bench-" + secrets.token_urlsafe(16)
        settings = Settings(database_url=url, admin_token=token, log_level="WARNING")
        figures: dict[str, Any] = {"events": len(recorded), "build_seconds": round(built, 1)}
        headers = {"Authorization": f"Bearer {token}"}
        with TestClient(create_app(settings), headers=headers) as client:
            for view, template in VIEWS.items():
                path = template.format(id=incident_id)
                for _ in range(3):  # warm up connections and caches
                    client.get(path, params={"as_of": cuts[0]}).raise_for_status()
                figures[view] = {
                    "as_of": percentiles([_timed(client, path, {"as_of": cut}) for cut in cuts]),
                    "live": percentiles([_timed(client, path, {}) for _ in range(reads)]),
                }
                past, live = figures[view]["as_of"], figures[view]["live"]
                print(
                    f"{backend} {view}: as_of p50 {past['p50_ms']:.1f} ms"
                    f" p99 {past['p99_ms']:.1f} ms; live p50 {live['p50_ms']:.1f} ms"
                    f" p99 {live['p99_ms']:.1f} ms ({reads} reads each)"
                )
    return figures


def _timed(client: TestClient, path: str, params: dict[str, str]) -> float:
    started = time.perf_counter()
    client.get(path, params=params).raise_for_status()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", action="append", choices=["sqlite", "postgresql"])
    parser.add_argument("--events", type=int, default=10_000, help="in the incident (10,000)")
    parser.add_argument("--reads", type=int, default=200, help="per view and mode (200)")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory(dir="/tmp", prefix="incidents-bench-as-of-") as workdir:
        for backend in args.backend or ["sqlite", "postgresql"]:
            results[backend] = measure(backend, args.events, args.reads, Path(workdir))
    payload = {
        "measured_at": datetime.now(UTC).isoformat(),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "reads_through": "the FastAPI app in-process (starlette TestClient)",
        "as_of": results,
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "as_of.json"
    path.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"recorded in {path}")


if __name__ == "__main__":
    main()
