"""Alertmanager notifications ingested per second: 10 alerts each, every one a new group.

Three phases through the whole application in-process (FastAPI TestClient: routing,
auth, parsing, the domain, the append and the inline projections, no network):

fire      N notifications, each a new alert group of 10 firing alerts: a new incident
          (declaration + 10 alert.fired = 11 events) per notification;
redeliver the same N notifications again: duplicates, nothing appended;
resolve   N notifications resolving every alert: 10 alert.resolved + alerts_cleared.

.venv/bin/python -m bench.alertmanager --backend sqlite --backend postgresql --notifications 500
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from api.app import create_app
from application.settings import Settings
from application.tokens import Scope, TokenStore
from bench.common import fresh_database, record

ALERTS = 10
START = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0)


def notification(group: int, status: str = "firing") -> dict[str, Any]:
    ends = (
        "0001-01-01T00:00:00Z" if status == "firing" else (START + timedelta(minutes=5)).isoformat()
    )
    alerts = [
        {
            "status": status,
            "labels": {
                "alertname": f"Bench{group}",
                "instance": f"host-{number:02d}:9100",
                "severity": "warning",
                "service": f"service-{group % 40}",
            },
            "annotations": {"summary": f"Benchmark alert {number} of group {group}"},
            "startsAt": (START + timedelta(seconds=number)).isoformat(),
            "endsAt": ends,
            "generatorURL": "http://prometheus:9090/graph",
            "fingerprint": f"{group:08x}{number:08x}",
        }
        for number in range(ALERTS)
    ]
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="Bench{group}"}}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "bench",
        "groupLabels": {"alertname": f"Bench{group}"},
        "commonLabels": {"alertname": f"Bench{group}", "severity": "warning"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": alerts,
    }


def timed(count: int, send: Callable[[int], None]) -> float:
    started = time.perf_counter()
    for group in range(count):
        send(group)
    return time.perf_counter() - started


def measure(backend: str, count: int, workdir: Path) -> dict[str, Any]:
    figures: dict[str, Any] = {"notifications": count, "alerts_per_notification": ALERTS}
    with fresh_database(backend, workdir) as url:
        settings = Settings(database_url=url, log_level="WARNING", log_format="json")
        with TestClient(create_app(settings)) as client:
            tokens: TokenStore = client.app.state.tokens  # type: ignore[attr-defined]
            client.headers["Authorization"] = f"Bearer {tokens.create('bench', {Scope.INGEST})}"

            def post(body: dict[str, Any]) -> None:
                response = client.post("/hooks/alertmanager", json=body)
                assert response.status_code == 200, response.text

            for warmup in range(20):  # connections, caches, first-request imports
                post(notification(1_000_000 + warmup))
            for phase, status in [
                ("fire", "firing"),
                ("redeliver", "firing"),
                ("resolve", "resolved"),
            ]:
                seconds = timed(count, lambda group, s=status: post(notification(group, s)))  # type: ignore[misc]
                rate = count / seconds
                figures[phase] = {
                    "seconds": round(seconds, 3),
                    "notifications_per_second": round(rate, 1),
                    "alerts_per_second": round(rate * ALERTS, 1),
                    "ms_per_notification": round(1000 * seconds / count, 2),
                }
                print(
                    f"{backend:10s} {phase:9s} {rate:8.1f} notifications/s"
                    f" = {rate * ALERTS:8.1f} alerts/s ({1000 * seconds / count:.1f} ms each)"
                )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--notifications", type=int, default=500)
    parser.add_argument("--backend", action="append", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as workdir:
        for backend in args.backend or ["sqlite", "postgresql"]:
            results[backend] = measure(backend, args.notifications, Path(workdir))
    print(f"recorded in {record('alertmanager', {'alertmanager': results})}")


if __name__ == "__main__":
    main()
