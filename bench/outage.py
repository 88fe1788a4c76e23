"""PostgreSQL cut off under load: what clients see, what is kept, what is logged.

``incidents serve`` runs on a fresh PostgreSQL database reached through a TCP proxy
(tests/tcp_proxy.py). Writers POST notes (each 201 is an acknowledged write) and
readers GET timelines and the log, each on one keep-alive connection, for ``--seconds``;
in the middle the proxy is cut for ``--cut`` seconds (connections reset, new ones
refused). Afterwards it counts: 500s (must be 0), answers during the cut that are 503
problem+json and those that are not, acknowledged writes missing from the log (must be
0), and the server's log lines that contain the token (must be 0).

.venv/bin/python -m bench.outage            # 30 s, cut for 8 s; bench/results/outage-<date>.json
.venv/bin/python -m bench.outage --seconds 10 --cut 3
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.engine import make_url

from bench.common import RESULTS, engine_for, fresh_database
from eventstore.schema import events
from tests.integration.servers import ADMIN_TOKEN, incidents_server
from tests.tcp_proxy import TcpProxy

INCIDENT = {"title": "Checkout returns 502", "severity": "SEV2", "services": ["checkout"]}


@dataclass
class Tally:
    """Every answer, by phase; the texts of acknowledged notes."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    answers: Counter[str] = field(default_factory=Counter)
    during_cut: Counter[str] = field(default_factory=Counter)
    acknowledged: list[str] = field(default_factory=list)

    def add(self, kind: str, in_cut: bool) -> None:
        with self.lock:
            self.answers[kind] += 1
            if in_cut:
                self.during_cut[kind] += 1


def kind_of(response: httpx.Response) -> str:
    if response.status_code == 503:
        problem = response.headers.get("content-type") == "application/problem+json"
        retry = response.headers.get("retry-after", "").isdigit()
        return "503 problem+json" if problem and retry else "503 other"
    return str(response.status_code)


class Cut:
    """When the proxy was down (monotonic seconds)."""

    def __init__(self) -> None:
        self.start = float("inf")
        self.end = float("inf")

    def covers(self, sent: float, answered: float) -> bool:
        return self.start <= sent and answered <= self.end


def client_loop(
    base: str, stop: threading.Event, cut: Cut, tally: Tally, request: Any, name: str
) -> None:
    sequence = 0
    with httpx.Client(
        base_url=base, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=10
    ) as client:
        while not stop.is_set():
            sequence += 1
            sent = time.monotonic()
            try:
                response, note = request(client, f"{name}-{sequence}")
                kind = kind_of(response)
            except httpx.HTTPError as exc:
                response, note, kind = None, None, f"transport error: {type(exc).__name__}"
            tally.add(kind, cut.covers(sent, time.monotonic()))
            if response is not None and response.status_code == 201 and note is not None:
                with tally.lock:
                    tally.acknowledged.append(note)
            if response is not None and response.status_code == 503:
                time.sleep(0.05)  # a polite client would wait Retry-After; a busy one not long


def run(seconds: float, cut_seconds: float, writers: int, readers: int) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory() as workdir,
        fresh_database("postgresql", Path(workdir)) as url,
    ):
        parsed = make_url(url)
        with TcpProxy(parsed.host or "127.0.0.1", parsed.port or 5432) as proxy:
            proxied = parsed.set(port=proxy.port).render_as_string(hide_password=False)
            with incidents_server(proxied, Path(workdir)) as served:
                with served.admin() as admin:
                    incidents = [
                        admin.post("/incidents", json=INCIDENT).json()["id"] for _ in range(writers)
                    ]
                figures = drive(served.url, proxy, incidents, seconds, cut_seconds, readers)
                log_text = served.log.read_text(errors="replace")
        figures.update(check_log(url, figures.pop("_acknowledged"), log_text))
    return figures


def drive(
    base: str,
    proxy: TcpProxy,
    incidents: list[str],
    seconds: float,
    cut_seconds: float,
    readers: int,
) -> dict[str, Any]:
    stop, cut, tally = threading.Event(), Cut(), Tally()

    def writer(incident: str) -> Any:
        def write(client: httpx.Client, note: str) -> tuple[httpx.Response, str]:
            return client.post(f"/incidents/{incident}/notes", json={"text": note}), note

        return write

    def read(client: httpx.Client, name: str) -> tuple[httpx.Response, None]:
        if name.endswith(("0", "2", "4", "6", "8")):
            return client.get(f"/incidents/{incidents[0]}/timeline"), None
        return client.get("/events", params={"limit": 50}), None

    threads = [
        threading.Thread(target=client_loop, args=(base, stop, cut, tally, writer(i), f"w{n}"))
        for n, i in enumerate(incidents)
    ] + [
        threading.Thread(target=client_loop, args=(base, stop, cut, tally, read, f"r{n}"))
        for n in range(readers)
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    time.sleep((seconds - cut_seconds) / 2)
    cut.start = time.monotonic()
    proxy.cut()
    time.sleep(cut_seconds)
    proxy.restore()
    cut.end = time.monotonic()
    time.sleep(max(0.0, seconds - (time.monotonic() - started)))
    stop.set()
    for thread in threads:
        thread.join(15)
    during = dict(tally.during_cut)
    return {
        "seconds": round(time.monotonic() - started, 1),
        "cut_seconds": round(cut.end - cut.start, 1),
        "writers": len(incidents),
        "readers": readers,
        "answers": dict(tally.answers),
        "answers_500": tally.answers.get("500", 0),
        "during_cut": during,
        "during_cut_503_problem_json": during.get("503 problem+json", 0),
        "during_cut_other": sum(v for k, v in during.items() if k != "503 problem+json"),
        "acknowledged_writes": len(tally.acknowledged),
        "_acknowledged": tally.acknowledged,
    }


def check_log(url: str, acknowledged: list[str], log_text: str) -> dict[str, Any]:
    engine = engine_for(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(events.c.data).where(events.c.type == "timeline.note_added")
            ).all()
    finally:
        engine.dispose()
    stored = {row.data.get("text") for row in rows}
    lines = log_text.splitlines()
    return {
        "notes_stored": len(stored),
        "acknowledged_writes_lost": sum(1 for note in acknowledged if note not in stored),
        "log_lines": len(lines),
        "log_lines_with_token": sum(1 for line in lines if ADMIN_TOKEN in line),
        "log_lines_database_fault": sum(1 for line in lines if "request.database_fault" in line),
        "log_lines_request_failed": sum(1 for line in lines if "request.failed" in line),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--cut", type=float, default=8.0)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--readers", type=int, default=2)
    args = parser.parse_args()
    figures = run(args.seconds, args.cut, args.writers, args.readers)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"outage-{stamp}.json"
    payload = {"measured_at": datetime.now(UTC).isoformat(), **figures}
    path.write_text(json.dumps(payload, indent=2) + "\n")
    print(json.dumps(payload, indent=2))
    print(f"written to {path}")


if __name__ == "__main__":
    main()
