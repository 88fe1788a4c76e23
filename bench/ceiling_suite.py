"""Our note command over HTTP beside the stack's ceiling, both driven by wrk (``stack_ceiling``).

Per backend, one database is preloaded with generated events and projected, then
``incidents serve`` (bench/http_suite.py) and the ceiling (bench/stack_ceiling.py: bare
FastAPI, one driver INSERT per request into ``raw_events``) both run on it, each in its
own process. In every round and for each connection count, both sides get the same wrk
script for the same window, one after the other, in an order that changes every time;
the ratio ours / ceiling is taken within that round. Ours writes to ``STREAMS`` incidents
declared for that window, so its streams are as short in every round.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench import wrk
from bench.http import NOTE, declare, free_port
from bench.http_suite import Server, server
from bench.sizes import CEILING_CONNECTIONS, Sizes
from bench.stats import Figures, repeat, summarise
from bench.transfer_hook import Skipped

STREAMS = 4
"""Incidents ours writes to in one window: a few hot streams, as during a real incident."""


@contextmanager
def ceiling(backend: str, url: str, workdir: Path) -> Iterator[str]:
    """bench/stack_ceiling.py on a free port; yields its base URL once it stores a note."""
    port = free_port()
    log_path = workdir / f"ceiling-{port}.log"
    with log_path.open("wb") as log:
        command = ["serve", "--backend", backend, "--url", url, "--port", str(port)]
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.stack_ceiling", *command],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_stored(f"{base}/incidents/{uuid.uuid4()}/notes", process, log_path)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_stored(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    with httpx.Client() as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"the ceiling exited:\n{log.read_text()[-4000:]}")
            try:
                if http.post(url, json=NOTE).status_code == 201:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    raise RuntimeError(f"the ceiling stored no note within 60s:\n{log.read_text()[-4000:]}")


def _script(ours: Server, workdir: Path) -> Path:
    """A wrk script POSTing notes to ``STREAMS`` new incidents of ours, with our token (the
    ceiling reads neither the token nor the incident, but gets the same requests)."""
    paths = [f"/incidents/{declare(ours.http)}/notes" for _ in range(STREAMS)]
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {ours.token}"}
    name = workdir / f"notes-{uuid.uuid4().hex[:8]}.lua"
    return wrk.write_script(name, paths, orjson.dumps(NOTE).decode(), headers)


def _side(side: str, base: str, script: Path, connections: int, seconds: int) -> Figures:
    measured = wrk.run(base, script, connections, seconds)
    return {f"{side}_{name}_c{connections}": value for name, value in measured.figures().items()}


def _round(ours: Server, ceiling_base: str, seconds: int, workdir: Path, number: int) -> Figures:
    figures: Figures = {}
    for turn, connections in enumerate(CEILING_CONNECTIONS):
        script = _script(ours, workdir)
        sides = [("ours", ours.base), ("ceiling", ceiling_base)]
        if (number + turn) % 2:
            sides.reverse()
        for side, base in sides:
            figures.update(_side(side, base, script, connections, seconds))
        ceiling_per_s = figures[f"ceiling_per_s_c{connections}"]
        ours_per_s = figures[f"ours_per_s_c{connections}"]
        figures[f"ours_vs_ceiling_c{connections}"] = (
            ours_per_s / ceiling_per_s if ceiling_per_s else 0.0
        )
    return figures


def _warm_up(ours: Server, ceiling_base: str, seconds: int, workdir: Path) -> None:
    """Unmeasured load on both sides first: connections, caches, prepared statements."""
    script = _script(ours, workdir)
    for base in (ours.base, ceiling_base):
        wrk.run(base, script, max(CEILING_CONNECTIONS), seconds)


def run(backends: list[str], sizes: Sizes, workdir: Path) -> dict[str, Any]:
    """Per backend: every figure of ``sizes.ceiling_rounds`` rounds as median, min and max."""
    if not wrk.available():
        raise Skipped("wrk is not installed (Debian package wrk)")
    load = argparse.Namespace(clients=16, warmup=sizes.http_warmup, seconds=sizes.http_seconds)
    warm_up_seconds = max(1, round(sizes.http_warmup))
    results = {}
    for backend in backends:
        with (
            server(backend, sizes.http_events, load, workdir) as ours,
            ceiling(backend, ours.url, workdir) as ceiling_base,
        ):
            _warm_up(ours, ceiling_base, warm_up_seconds, workdir)
            once = partial(_round, ours, ceiling_base, sizes.ceiling_seconds, workdir)
            runs = repeat(sizes.ceiling_rounds, once, f"stack ceiling {backend}")
        results[backend] = summarise(runs)
    return results
