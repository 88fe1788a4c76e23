"""The HTTP API under concurrent clients: note commands per second and timeline read latency.

Each workload starts ``incidents serve`` as a subprocess on a free port against a fresh
database and drives it from a separate load-generator process (bench/http_client.py:
asyncio + httpx, one keep-alive connection per client). Requests that finish during
the warm-up are not counted.

commands  one incident; every client POSTs /incidents/{id}/notes in a loop.
timeline  --events generated events loaded and projected, then one incident with 500
          timeline entries; every client GETs /incidents/{id}/timeline in a loop.

.venv/bin/python -m bench.http --backend sqlite --backend postgresql --seconds 10 --events 1000000
.venv/bin/python -m bench.http --seconds 3 --events 20000  # a quick check
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.common import engine_for, fresh_database, record, run_child
from bench.history import load

INCIDENTS = Path(sys.executable).with_name("incidents")
TIMELINE_ENTRIES = 500
NOTE = {"text": "Error rate back under 1% after the rollback of deploy 4812"}
INCIDENT = {"title": "Checkout returns 502", "severity": "SEV2", "services": ["checkout"]}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serve(url: str, workdir: Path, token: str) -> Iterator[str]:
    """``incidents serve`` on a free port; yields its base URL once /readyz answers 200."""
    port = free_port()
    env = {**os.environ, "INCIDENTS_ADMIN_TOKEN": token, "INCIDENTS_LOG_LEVEL": "WARNING"}
    log_path = workdir / f"serve-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(INCIDENTS), "serve", "--port", str(port), "--database-url", url],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, token, process, log_path)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_ready(base: str, token: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}) as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"incidents serve exited:\n{log.read_text()[-4000:]}")
            try:
                if http.get(f"{base}/readyz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    raise RuntimeError(f"incidents serve was not ready within 60s:\n{log.read_text()[-4000:]}")


def _client(base: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def declare(http: httpx.Client) -> str:
    response = http.post("/incidents", json=INCIDENT)
    response.raise_for_status()
    incident_id: str = response.json()["id"]
    return incident_id


def drive(url: str, token: str, args: argparse.Namespace, **request: str) -> dict[str, Any]:
    """Run the load generator in its own process and return its figures."""
    options = [f"--{name}={value}" for name, value in request.items()]
    return run_child(
        "bench.http_client",
        f"--url={url}",
        f"--token={token}",
        f"--clients={args.clients}",
        f"--warmup={args.warmup}",
        f"--seconds={args.seconds}",
        *options,
    )


def report(backend: str, workload: str, figures: dict[str, Any], unit: str) -> None:
    failed = figures["failed"]
    print(
        f"{backend} {workload}: {figures['per_second']:,.0f} {unit}/s"
        f"  p50 {figures['p50_ms']:.1f} ms  p99 {figures['p99_ms']:.1f} ms"
        f"  max {figures['max_ms']:.1f} ms  ({figures['ok']:,} ok"
        + (f", {failed:,} failed: {figures['statuses']}" if failed else "")
        + f"; client used {figures['client_cpu_seconds']:.1f} s CPU)"
    )
    for status, detail in figures["failure_samples"].items():
        print(f"  first {status}: {detail}")


def commands(backend: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    token = "il_bench-" + secrets.token_urlsafe(16)
    with fresh_database(backend, workdir) as url, serve(url, workdir, token) as base:
        with _client(base, token) as http:
            incident_id = declare(http)
        figures = drive(
            f"{base}/incidents/{incident_id}/notes",
            token,
            args,
            method="POST",
            json=orjson.dumps(NOTE).decode(),
        )
    report(backend, "commands", figures, "commands")
    return figures


def timeline(backend: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    token = "il_bench-" + secrets.token_urlsafe(16)
    with fresh_database(backend, workdir) as url:
        engine = engine_for(url)
        started = time.perf_counter()
        loaded = load(engine, args.events)
        engine.dispose()
        print(
            f"{backend} timeline: loaded {loaded:,} events in {time.perf_counter() - started:.1f}s"
        )
        rebuilt = run_child("bench.rebuild_child", url)
        print(f"{backend} timeline: rebuilt read models in {rebuilt['seconds']:.1f}s")
        with serve(url, workdir, token) as base:
            with _client(base, token) as http:
                incident_id = declare(http)
                entries = _fill_timeline(http, incident_id)
            figures = drive(f"{base}/incidents/{incident_id}/timeline", token, args)
    report(backend, "timeline", figures, "reads")
    return {**figures, "events": loaded, "timeline_entries": entries}


def _fill_timeline(http: httpx.Client, incident_id: str) -> int:
    """Add notes until the incident's timeline has TIMELINE_ENTRIES entries (one page)."""
    path = f"/incidents/{incident_id}/timeline"
    have = len(http.get(path).raise_for_status().json()["entries"])
    for _ in range(TIMELINE_ENTRIES - have):
        http.post(f"/incidents/{incident_id}/notes", json=NOTE).raise_for_status()
    page = http.get(path).raise_for_status().json()
    if page["next"] is not None:
        raise RuntimeError("the timeline no longer fits one page")
    return len(page["entries"])


WORKLOADS = {"commands": commands, "timeline": timeline}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", action="append", choices=["sqlite", "postgresql"])
    parser.add_argument("--workload", action="append", choices=list(WORKLOADS))
    parser.add_argument("--seconds", type=float, default=10.0, help="measured (default 10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="not measured (default 2)")
    parser.add_argument("--events", type=int, default=1_000_000, help="preloaded for timeline")
    parser.add_argument("--clients", type=int, default=16, help="concurrent (default 16)")
    args = parser.parse_args()
    backends = args.backend or ["sqlite", "postgresql"]
    workloads = args.workload or list(WORKLOADS)
    results: dict[str, dict[str, Any]] = {name: {} for name in workloads}
    with tempfile.TemporaryDirectory(dir="/tmp", prefix="incidents-bench-http-") as workdir:
        for backend in backends:
            for name in workloads:
                results[name][backend] = WORKLOADS[name](backend, args, Path(workdir))
    settings = {
        "clients": args.clients,
        "seconds": args.seconds,
        "warmup_seconds": args.warmup,
        "events": args.events,
    }
    print(f"recorded in {record('http', {'http': {'settings': settings, **results}})}")


if __name__ == "__main__":
    main()
