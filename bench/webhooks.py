"""Outbound webhooks: deliveries per second to a local receiver, and the delay from an
append's commit to its delivery.

Throughput: a log of ``--events`` declared incidents, then one subscription (and then
ten) to a receiver on 127.0.0.1 answering 200 at once; the deliverer (the one ``serve``
and ``incidents project`` run) delivers them all, signed, one at a time per subscription
in log order, and the figure is deliveries per second. The reference, measured in the
same run: the same number of the same signed bodies POSTed to the same receiver by one
thread in a loop through the same HTTP client (outbound.http_sender.Sender), with no
database: what one ordered stream of requests costs by itself.

Delay: with the deliverer running as in ``serve`` (inline projections; an append wakes
it), ``--appends`` incidents are declared one at a time, 20 ms apart; each delay runs
from the moment the append returned (committed) to the moment the receiver read the
request. p50 and p99.

.venv/bin/python -m bench.webhooks                   # both backends, 2,000 events
.venv/bin/python -m bench.webhooks --backend sqlite --events 300 --appends 50
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

from cryptography.fernet import Fernet
from sqlalchemy import select

from application.bootstrap import Runtime, build
from application.logging_config import configure_logging
from application.settings import Settings
from bench.common import fresh_database, record
from bench.sizes import Sizes
from bench.stats import Figures, repeat, summarise
from domain import commands as c
from domain.values import Severity
from eventstore.schema import events
from outbound.http_sender import Sender
from outbound.signing import new_secret, standard_headers

ADMIN = {"actor": "bench", "source": "bench"}
KEY = Fernet.generate_key().decode()
"""One key for every runtime of a run, so each opens the secrets the others sealed."""
FAN_OUT = 10


class Receiver:
    """An asyncio HTTP/1.1 server answering every POST with 200 at once, counting them and
    noting when each message id first arrived (time.perf_counter())."""

    def __init__(self) -> None:
        self.count = 0
        self.arrived: dict[str, float] = {}
        self.url = ""
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._writers: list[asyncio.StreamWriter] = []

    def __enter__(self) -> Receiver:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *_: object) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        server = loop.run_until_complete(asyncio.start_server(self._client, "127.0.0.1", 0))
        port = server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/hook"
        self._ready.set()
        loop.run_forever()
        server.close()
        for writer in self._writers:
            writer.close()  # each connection's task then reads its end and returns
        pending = asyncio.all_tasks(loop)
        loop.run_until_complete(asyncio.wait(pending, timeout=5) if pending else asyncio.sleep(0))
        loop.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                message_id = ""
                for line in head.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.lower() == b"content-length":
                        length = int(value)
                    elif name.lower() == b"webhook-id":
                        message_id = value.strip().decode()
                await reader.readexactly(length)
                self.count += 1
                self.arrived.setdefault(message_id, time.perf_counter())
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, RuntimeError):
            writer.close()

    def wait_for(self, count: int, timeout: float = 600.0) -> None:
        deadline = time.monotonic() + timeout
        while self.count < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.count} of {count} deliveries arrived")
            time.sleep(0.002)


@contextmanager
def runtime_on(url: str, deliver: bool) -> Iterator[Runtime]:
    settings = Settings(
        database_url=url,
        secret_key=KEY,
        webhooks_allow_http=True,
        webhooks_allow_private=True,
        webhooks_deliver=deliver,
        log_level="WARNING",
        webhooks_concurrency=FAN_OUT,
    )
    configure_logging(settings)
    built = build(settings)
    try:
        yield built
    finally:
        built.close()


def declare(runtime: Runtime, number: int) -> None:
    command = c.DeclareIncident(
        incident_id=uuid4(),
        at=runtime.service.now(),
        title=f"Checkout returns 502 #{number}",
        severity=Severity.SEV2,
        services=("checkout",),
    )
    runtime.service.execute(command, ADMIN)


def subscribe(runtime: Runtime, url: str, count: int) -> None:
    for _ in range(count):
        runtime.webhooks.create(
            url=url,
            types=["incident.declared"],
            format="standard",
            description="bench",
            severity=[],
            services=[],
            actor="bench",
            now=datetime.now(UTC),
        )


def remove_subscriptions(runtime: Runtime) -> None:
    for subscription in runtime.webhooks.list():
        runtime.webhooks.delete(subscription.subscription_id)


def throughput(runtime: Runtime, events: int, subscriptions: int) -> float:
    """Deliveries per second of ``events`` events to ``subscriptions`` subscriptions, from the
    log's start (each subscription's checkpoint set back to 0)."""
    remove_subscriptions(runtime)
    with Receiver() as receiver:
        subscribe(runtime, receiver.url, subscriptions)
        with runtime.engine.begin() as conn:
            conn.exec_driver_sql("UPDATE webhook_subscriptions SET position = 0")
        started = time.perf_counter()
        stop = threading.Event()
        runner = threading.Thread(target=runtime.deliverer.run, args=(stop,), daemon=True)
        runner.start()
        receiver.wait_for(events * subscriptions)
        took = time.perf_counter() - started
        stop.set()
        runtime.deliverer.wake()
        runner.join(30)
    return events * subscriptions / took


def raw_posts(events: int) -> float:
    """The reference: the same signed bodies POSTed in a loop by one thread, no database."""
    sender = Sender(allow_private=True)
    secret = new_secret()
    body = b'{"type":"incident.declared","data":{}}' * 20
    with Receiver() as receiver:
        started = time.perf_counter()
        for _ in range(events):
            message_id = str(uuid4())
            headers = standard_headers([secret], message_id, int(time.time()), body)
            sender.post(receiver.url, headers, body)
        took = time.perf_counter() - started
    sender.close()
    return events / took


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[max(1, math.ceil(fraction * len(ordered))) - 1]


def delays(url: str, appends: int) -> Figures:
    """Commit-to-delivery delays (ms) with the deliverer running as ``serve`` runs it."""
    with runtime_on(url, deliver=True) as runtime, Receiver() as receiver:
        remove_subscriptions(runtime)
        subscribe(runtime, receiver.url, 1)
        committed: dict[int, float] = {}
        with runtime.serving():
            for number in range(appends):
                outcome = runtime.service.execute(
                    c.DeclareIncident(
                        incident_id=uuid4(),
                        at=runtime.service.now(),
                        title=f"Delay #{number}",
                        severity=Severity.SEV2,
                        services=("checkout",),
                    ),
                    ADMIN,
                )
                now = time.perf_counter()
                for position in outcome.result.positions:
                    committed[position] = now
                time.sleep(0.02)
            receiver.wait_for(appends, timeout=60)
        with runtime.engine.connect() as conn:
            ids = dict(conn.execute(select(events.c.position, events.c.event_id)).all())
        samples = [(receiver.arrived[str(ids[p])] - t) * 1000 for p, t in committed.items()]
    return {
        "delay_p50_ms": _percentile(samples, 0.5),
        "delay_p99_ms": _percentile(samples, 0.99),
        "delay_max_ms": max(samples),
    }


def measure(url: str, events: int, appends: int) -> Figures:
    with runtime_on(url, deliver=False) as runtime:
        if runtime.store.head_position() < events:
            for number in range(events):
                declare(runtime, number)
        one = throughput(runtime, events, 1)
        ten = throughput(runtime, events, FAN_OUT)
    reference = raw_posts(events)
    figures: Figures = {
        "one_subscription_per_s": one,
        "ten_subscriptions_per_s": ten,
        "raw_posts_per_s": reference,
        "one_vs_raw": one / reference,
    }
    figures.update(delays(url, appends))
    return figures


def run(backends: list[str], sizes: Sizes, workdir: Path) -> dict[str, Any]:
    """The suite's workload: ``sizes.webhook_events`` events, ``sizes.runs`` runs."""
    results = {}
    for backend in backends:
        with fresh_database(backend, workdir) as url:
            runs = repeat(
                sizes.runs,
                lambda _n, u=url: measure(u, sizes.webhook_events, sizes.webhook_appends),  # type: ignore[misc]
                f"webhooks {backend}",
            )
        results[backend] = summarise(runs)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", action="append", choices=["sqlite", "postgresql"])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--appends", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    backends = args.backend or ["sqlite", "postgresql"]
    figures: dict[str, Any] = {
        "events": args.events,
        "appends": args.appends,
        "load_before": ", ".join(f"{value:.1f}" for value in os.getloadavg()),
    }
    sizes_runs = args.runs
    with tempfile.TemporaryDirectory(prefix="incidents-bench-webhooks-") as tmp:
        for backend in backends:
            with fresh_database(backend, Path(tmp)) as url:
                runs = repeat(
                    sizes_runs,
                    lambda _n, u=url: measure(u, args.events, args.appends),  # type: ignore[misc]
                    f"webhooks {backend}",
                )
            figures[backend] = summarise(runs)
    figures["load_after"] = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    path = record("webhooks", figures)
    print(f"recorded in {path}")


if __name__ == "__main__":
    main()
