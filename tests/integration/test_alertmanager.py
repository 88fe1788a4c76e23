"""A real Prometheus Alertmanager notifying a real ``incidents serve``, on loopback.

Alerts are fired and resolved with ``amtool``; Alertmanager delivers them through a
``webhook_configs`` receiver (bearer ingest token) and a ``pagerduty_configs`` receiver
whose ``url`` points at /hooks/pagerduty/v2/enqueue. The incidents are checked through
the API. Debian's ``prometheus-alertmanager`` package provides both binaries (.ci/run
installs it); without them the tests skip, except under ``CI=true`` where they fail.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from eventstore import EventStore
from eventstore.engine import create_engine
from tests.integration.servers import (
    Served,
    cli,
    eventually,
    free_port,
    incidents_server,
    stop,
    wait_until_ready,
)

pytestmark = pytest.mark.slow

ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
AMTOOL = shutil.which("amtool")
IN_CI = os.environ.get("CI", "").lower() == "true"
FIXTURE = Path(__file__).parent.parent / "fixtures" / "monitoring" / "alertmanager-0.25-firing.json"


def _require_binaries() -> tuple[str, str]:
    if ALERTMANAGER and AMTOOL:
        return ALERTMANAGER, AMTOOL
    reason = (
        "prometheus-alertmanager and amtool are not installed"
        " (apt-get install -y prometheus-alertmanager)"
    )
    if IN_CI:
        pytest.fail(f"CI=true requires Alertmanager: {reason}")
    pytest.skip(reason)


CONFIG = """
route:
  receiver: webhook
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
  routes:
    - receiver: pagerduty
      matchers: ['via="pagerduty"']
receivers:
  - name: webhook
    webhook_configs:
      - url: {base}/hooks/alertmanager
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: {token}
  - name: pagerduty
    pagerduty_configs:
      - routing_key: {routing_key}
        url: {base}/hooks/pagerduty/v2/enqueue
        send_resolved: true
"""


@dataclass(frozen=True)
class Alertmanager:
    url: str
    amtool: str

    def add(self, *labels: str, start: datetime, end: datetime | None = None) -> None:
        """``amtool alert add`` with a summary annotation, as an operator would."""
        args = [
            self.amtool,
            "alert",
            "add",
            *labels,
            "--annotation=summary=Disk almost full on db-01",
            f"--start={rfc3339(start)}",
            f"--alertmanager.url={self.url}",
        ]
        if end is not None:
            args.append(f"--end={rfc3339(end)}")
        done = subprocess.run(args, capture_output=True, text=True, check=False, timeout=30)
        assert done.returncode == 0, done.stderr


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[tuple[Served, str, str]]:
    """The service, an ingest token (CLI) and a pagerduty routing key (CLI)."""
    token = cli(database_url, "tokens", "create", "alertmanager", "--scope", "ingest").strip()
    routing_key = cli(
        database_url, "integrations", "create", "am-pd", "--kind", "pagerduty", "--service", "db"
    ).strip()
    with incidents_server(database_url, tmp_path) as served:
        yield served, token, routing_key


@pytest.fixture
def alertmanager(served: tuple[Served, str, str], tmp_path: Path) -> Iterator[Alertmanager]:
    binary, amtool = _require_binaries()
    server, token, routing_key = served
    config = tmp_path / "alertmanager.yml"
    config.write_text(CONFIG.format(base=server.url, token=token, routing_key=routing_key))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "alertmanager.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.path={tmp_path / 'am-data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",
                "--log.level=debug",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_until_ready(f"{url}/-/ready", process, log, "Alertmanager")
            yield Alertmanager(url, amtool)
        finally:
            stop(process)


def incidents_from(server: Served, source: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = server.get("/incidents")["items"]
    return [item for item in items if item["source"] == source]


def timeline_kinds(server: Served, incident_id: str) -> dict[str, dict[str, Any]]:
    entries = server.get(f"/incidents/{incident_id}/timeline")["entries"]
    return {entry["kind"]: entry for entry in entries}


def test_alertmanager_webhook_fires_and_resolves_one_incident(
    served: tuple[Served, str, str], alertmanager: Alertmanager
) -> None:
    server = served[0]
    start = (datetime.now(UTC) - timedelta(minutes=2)).replace(microsecond=0)
    labels = ("alertname=DiskFull", "severity=critical", "service=db-01")
    alertmanager.add(*labels, start=start)

    [incident] = eventually(lambda: incidents_from(server, "alertmanager"), what="the incident")
    assert incident["title"] == "Disk almost full on db-01"
    assert (incident["severity"], incident["services"]) == ("SEV1", ["db-01"])
    assert incident["detected_at"] == rfc3339(start)
    assert incident["declared_by"] == "alertmanager"

    end = (datetime.now(UTC) - timedelta(seconds=5)).replace(microsecond=0)
    alertmanager.add(*labels, start=start, end=end)

    entries = eventually(
        lambda: (k := timeline_kinds(server, incident["id"])) and "alert_resolved" in k and k,
        what="the resolution",
    )
    assert entries["alert_fired"]["occurred_at"] == rfc3339(start)
    assert entries["alert_resolved"]["occurred_at"] == rfc3339(end)
    assert entries["alert_fired"]["recorded_at"] > rfc3339(start)
    assert "alerts_cleared" in entries
    [again] = incidents_from(server, "alertmanager")
    assert again["alerts"] == {"firing": 0, "resolved": 1}
    assert again["detected_at"] == rfc3339(start)


def test_alertmanager_pagerduty_notifier_triggers_and_resolves(
    served: tuple[Served, str, str], alertmanager: Alertmanager
) -> None:
    server = served[0]
    start = (datetime.now(UTC) - timedelta(minutes=1)).replace(microsecond=0)
    labels = ("alertname=QueueBacklog", "severity=warning", "via=pagerduty")
    alertmanager.add(*labels, start=start)

    [incident] = eventually(lambda: incidents_from(server, "pagerduty"), what="the incident")
    assert incident["title"].startswith("[FIRING:1] QueueBacklog")
    assert (incident["severity"], incident["services"]) == ("SEV2", ["db"])
    assert incident["declared_by"] == "integration:am-pd"

    alertmanager.add(*labels, start=start, end=datetime.now(UTC) - timedelta(seconds=2))

    eventually(
        lambda: incidents_from(server, "pagerduty")[0]["alerts"] == {"firing": 0, "resolved": 1},
        what="the resolve event",
    )
    assert incidents_from(server, "alertmanager") == []


def test_ten_concurrent_deliveries_to_the_live_server_make_one_incident(
    served: tuple[Served, str, str],
) -> None:
    server, token, _ = served
    body = json.loads(FIXTURE.read_text())["body"]
    barrier = threading.Barrier(10)

    def deliver(_: int) -> dict[str, Any]:
        with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
            barrier.wait()
            response = client.post(f"{server.url}/hooks/alertmanager", json=body)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()["incidents"][0]
        return answer

    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(deliver, range(10)))

    assert len({answer["id"] for answer in answers}) == 1
    assert sorted(answer["unchanged"] for answer in answers) == [False] + [True] * 9
    kinds = [
        entry["kind"] for entry in server.get(f"/incidents/{answers[0]['id']}/timeline")["entries"]
    ]
    assert sorted(kinds) == ["alert_fired", "declared", "started"]
    engine = create_engine(server.database_url)
    try:
        stream = EventStore(engine).read_stream(f"incident-{answers[0]['id']}")
    finally:
        engine.dispose()
    assert [event.type for event in stream] == ["incident.declared", "alert.fired"]
