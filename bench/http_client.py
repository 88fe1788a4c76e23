"""Load generator of bench/http.py: concurrent keep-alive clients, one request at a time each.

Runs in its own process so the server under test and the client do not share an
interpreter. Every client sends the same request in a loop until the run ends; only
requests that complete inside the measurement window (after the warm-up) count. The
last line printed is JSON: requests per second, latency percentiles in milliseconds,
and status counts (anything but 2xx is counted, never retried).

.venv/bin/python -m bench.http_client --url http://127.0.0.1:8000/healthz --seconds 3
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import time
from collections import Counter
from typing import Any

import httpx
import orjson


def percentile(ordered: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list (0.0 for an empty one)."""
    if not ordered:
        return 0.0
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


async def drive(
    url: str,
    *,
    method: str,
    body: bytes | None,
    token: str | None,
    clients: int,
    warmup: float,
    seconds: float,
) -> dict[str, Any]:
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if body is not None:
        headers["Content-Type"] = "application/json"
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    samples: dict[str, str] = {}  # the first failure of each kind, to say what went wrong
    response_bytes = 0
    warmup_requests = 0

    async with httpx.AsyncClient(limits=limits, timeout=60.0, headers=headers) as client:
        started = time.perf_counter()
        measure_from = started + warmup
        measure_until = measure_from + seconds

        async def one_client() -> None:
            nonlocal response_bytes, warmup_requests
            while True:
                sent = time.perf_counter()
                if sent >= measure_until:
                    return
                try:
                    response = await client.request(method, url, content=body)
                    status = str(response.status_code)
                    size = len(response.content)
                    detail = response.text[:300]
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                    size = 0
                    detail = str(exc)[:300]
                if not status.startswith("2"):
                    samples.setdefault(status, detail)
                done = time.perf_counter()
                if done < measure_from:
                    warmup_requests += 1
                elif done <= measure_until:
                    statuses[status] += 1
                    response_bytes += size
                    if status.startswith("2"):
                        latencies.append(done - sent)
                if not status.isdigit():
                    await asyncio.sleep(0.01)  # a transport error: do not spin

        cpu_started = time.process_time()
        await asyncio.gather(*(one_client() for _ in range(clients)))
        client_cpu = time.process_time() - cpu_started

    latencies.sort()
    ok = len(latencies)
    total = sum(statuses.values())
    return {
        "method": method,
        "clients": clients,
        "warmup_seconds": warmup,
        "seconds": seconds,
        "warmup_requests": warmup_requests,
        "requests": total,
        "ok": ok,
        "failed": total - ok,
        "statuses": dict(sorted(statuses.items())),
        "failure_samples": samples,
        "per_second": ok / seconds,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "max_ms": (latencies[-1] if latencies else 0.0) * 1000,
        "mean_ms": (sum(latencies) / ok if ok else 0.0) * 1000,
        "mean_response_bytes": response_bytes / total if total else 0.0,
        "client_cpu_seconds": client_cpu,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--method", default="GET")
    parser.add_argument("--json", help="Request body, sent as application/json.")
    parser.add_argument("--token", help="Bearer token.")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    body = orjson.dumps(orjson.loads(args.json)) if args.json is not None else None
    figures = asyncio.run(
        drive(
            args.url,
            method=args.method.upper(),
            body=body,
            token=args.token,
            clients=args.clients,
            warmup=args.warmup,
            seconds=args.seconds,
        )
    )
    sys.stdout.write(orjson.dumps(figures).decode() + "\n")


if __name__ == "__main__":
    main()
