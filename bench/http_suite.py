"""The HTTP workloads of bench/http.py, repeated against one server per backend.

The server (``incidents serve``) runs on a database preloaded with generated events
and rebuilt read models; the load generator (bench/http_client.py) runs in the suite's
process, apart from the server's. Each commands run declares a new incident and has every
client POST notes to it (one hot stream); each timeline run has every client GET the
timeline of one incident holding ``timeline_entries`` notes (filled once).
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.http import NOTE, declare, serve
from bench.http_client import drive
from bench.preload import preloaded, rebuild_here
from bench.stats import Figures


class Server:
    """A running ``incidents serve`` and what the load generator needs to drive it."""

    def __init__(self, base: str, token: str, load: argparse.Namespace, url: str) -> None:
        self.base = base
        self.url = url  # the database's, for a reference server on the same database
        self.token = token
        self.load = load
        self.http = httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        self.timeline_incident: str | None = None

    def _drive(
        self,
        url: str,
        method: str = "GET",
        body: bytes | None = None,
        clients: int | None = None,
    ) -> dict[str, Any]:
        # In this process (not the server's), saving a load generator's start-up per run.
        return asyncio.run(
            drive(
                url,
                method=method,
                body=body,
                token=self.token,
                clients=clients or self.load.clients,
                warmup=self.load.warmup,
                seconds=self.load.seconds,
            )
        )

    def commands(self, _number: int) -> Figures:
        incident_id = declare(self.http)
        url = f"{self.base}/incidents/{incident_id}/notes"
        return _figures("commands", self._drive(url, "POST", orjson.dumps(NOTE)))

    def timeline(self, _number: int, entries: int, clients: int | None = None) -> Figures:
        """Timeline reads by ``clients`` at once (default: the load's); one client gives
        a read's own latency, many give the server's throughput and queueing."""
        if self.timeline_incident is None:
            self.timeline_incident = declare(self.http)
            path = f"/incidents/{self.timeline_incident}/notes"
            for _ in range(entries - 1):  # the declaration is the first entry
                self.http.post(path, json=NOTE).raise_for_status()
        url = f"{self.base}/incidents/{self.timeline_incident}/timeline"
        return _figures("reads", self._drive(url, clients=clients))


def _figures(unit: str, figures: dict[str, Any]) -> Figures:
    return {
        f"{unit}_per_s": figures["per_second"],
        "p50_ms": figures["p50_ms"],
        "p99_ms": figures["p99_ms"],
        "failed": float(figures["failed"]),
    }


@contextmanager
def server(backend: str, events: int, load: argparse.Namespace, workdir: Path) -> Iterator[Server]:
    """``incidents serve`` on a database with ``events`` generated events, projected."""
    token = "il_bench-" + secrets.token_urlsafe(16)
    with preloaded(backend, events, workdir) as (url, _loaded):
        rebuild_here(url)
        with serve(url, workdir, token) as base:
            running = Server(base, token, load, url)
            try:
                yield running
            finally:
                running.http.close()
