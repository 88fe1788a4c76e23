"""Concurrent duplicate deliveries: one incident, one set of entries, on every backend.

Ten threads deliver the same notification at the same moment, each through its own
IncidentService (its own state cache, as separate API processes would have), or all
through the application over HTTP. The computed incident id, the stream's version
check and the dedupe in ``decide`` must leave exactly one incident with each alert
recorded once.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from application.alert_ingestion import AlertIngestor, Generations, Recorded, incident_id_for
from application.service import CommandContext, IncidentService
from eventstore import EventStore
from monitoring.mapping import SeverityMap, from_alertmanager
from monitoring.payloads import AlertmanagerPayload
from projections.runner import ProjectionRunner
from projections.tables import incident_summaries, timeline_entries
from tests.api.helpers import ok
from tests.api.hooks_support import captured, ingest_token, only_incident, sender

THREADS = 10
T = TypeVar("T")


def at_once(work: Callable[[int], T], threads: int = THREADS) -> list[T]:
    """Run ``work(i)`` in ``threads`` threads released together."""
    barrier = threading.Barrier(threads)

    def run(number: int) -> T:
        barrier.wait()
        return work(number)

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(run, range(threads)))


def ingestors(engine: Engine, *, auto_resolve: bool = False) -> list[AlertIngestor]:
    return [
        AlertIngestor(
            IncidentService(EventStore(engine), ProjectionRunner()),
            Generations(),
            auto_resolve=auto_resolve,
        )
        for _ in range(THREADS)
    ]


def batch_of(body: dict[str, Any]) -> Any:
    return from_alertmanager(AlertmanagerPayload.model_validate(body), SeverityMap())


def event_types(engine: Engine) -> Counter[str]:
    return Counter(event.type for event in EventStore(engine).read_all(limit=10_000))


def count(engine: Engine, table: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def deliver_concurrently(engine: Engine, body: dict[str, Any], **options: Any) -> list[Recorded]:
    workers = ingestors(engine, **options)
    batch = batch_of(body)
    results = at_once(
        lambda n: workers[n].record(batch, CommandContext({"actor": f"alertmanager-{n}"}))
    )
    return [only for result in results for only in result]


def test_ten_concurrent_identical_firings_make_one_incident(engine: Engine) -> None:
    landed = deliver_concurrently(engine, captured("alertmanager-0.25-firing"))

    assert len({r.incident_id for r in landed}) == 1
    assert sorted(r.unchanged for r in landed) == [False] + [True] * (THREADS - 1)
    assert {r.version for r in landed} == {2}
    assert event_types(engine) == {"incident.declared": 1, "alert.fired": 1}
    assert count(engine, incident_summaries) == 1
    assert count(engine, timeline_entries) == 3  # the start, the declaration and the alert


def test_ten_concurrent_identical_resolutions_resolve_once(engine: Engine) -> None:
    deliver_concurrently(engine, captured("alertmanager-0.25-firing"))

    landed = deliver_concurrently(engine, captured("alertmanager-0.25-resolved"))

    assert sorted(r.unchanged for r in landed) == [False] + [True] * (THREADS - 1)
    assert event_types(engine) == {
        "incident.declared": 1,
        "alert.fired": 1,
        "alert.resolved": 1,
        "incident.alerts_cleared": 1,
    }
    assert count(engine, timeline_entries) == 5  # and the alert's end, and the all-clear


def test_ten_concurrent_refirings_after_the_incident_ended_open_one_new_incident(
    engine: Engine,
) -> None:
    start = datetime.now(UTC) - timedelta(hours=1)
    body = captured("alertmanager-0.25-firing")
    body["alerts"][0]["startsAt"] = start.isoformat()
    deliver_concurrently(engine, body, auto_resolve=True)
    resolved = captured("alertmanager-0.25-resolved")
    resolved["alerts"][0]["startsAt"] = start.isoformat()
    resolved["alerts"][0]["endsAt"] = (start + timedelta(minutes=5)).isoformat()
    deliver_concurrently(engine, resolved, auto_resolve=True)
    body["alerts"][0]["startsAt"] = (start + timedelta(minutes=30)).isoformat()

    landed = deliver_concurrently(engine, body, auto_resolve=True)

    group = batch_of(body).group
    assert {r.incident_id for r in landed} == {incident_id_for(group, 1)}
    assert sum(not r.unchanged for r in landed) == 1
    kinds = event_types(engine)
    assert kinds["incident.declared"] == 2
    assert kinds["incident.linked"] == 1
    assert kinds["alert.fired"] == 2
    assert count(engine, incident_summaries) == 2


def test_ten_concurrent_http_deliveries_make_one_incident(
    client: TestClient, engine: Engine
) -> None:
    body = captured("alertmanager-0.25-firing")
    with sender(client, f"Bearer {ingest_token(client)}") as am:
        answers = at_once(lambda _: only_incident(ok(am.post("/hooks/alertmanager", json=body))))

    assert len({answer["id"] for answer in answers}) == 1
    assert sorted(answer["unchanged"] for answer in answers) == [False] + [True] * (THREADS - 1)
    assert event_types(engine) == {"incident.declared": 1, "alert.fired": 1}
    assert ok(client.get("/incidents"))["items"][0]["alerts"] == {"firing": 1, "resolved": 0}


def test_an_unchanged_outcome_names_the_current_version_and_position(engine: Engine) -> None:
    service = IncidentService(EventStore(engine), ProjectionRunner())
    batch = batch_of(captured("alertmanager-0.25-firing"))
    ingestor = AlertIngestor(service, Generations())
    [first] = ingestor.record(batch, CommandContext({"actor": "am"}))
    head = service.store.head_position()

    [again] = ingestor.record(batch, CommandContext({"actor": "am"}))

    assert again == Recorded(first.incident_id, first.version, first.position, unchanged=True)
    assert service.store.head_position() == head == first.position
