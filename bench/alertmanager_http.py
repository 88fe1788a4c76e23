"""Alertmanager notifications over HTTP from concurrent senders (``alertmanager_http``).

Per backend, ``incidents serve`` runs on a fresh database and wrk POSTs to
``/hooks/alertmanager`` with an ingest-scope token (bench/hook_script.py: every request
a new alert group of 10 firing alerts, so every notification declares an incident).
Each round runs one window per connection count. After each window the incidents the
log declared are read back, once the server has finished what wrk left in flight, and
matched with the incident ids of wrk's 2xx answers: every answer must name an incident
declared in that window, and the declared incidents no answer named can only be
requests still in flight when wrk stopped (at most one per connection).

.venv/bin/python -m bench.suite --quick --only alertmanager_http
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from application.tokens import Scope, TokenStore
from bench import hook_script, wrk
from bench.common import engine_for, fresh_database
from bench.http import serve
from bench.sizes import HOOK_CONNECTIONS, Sizes
from bench.stats import Figures, repeat, summarise
from bench.transfer_hook import Skipped
from domain.values import STREAM_PREFIX

SETTLE_SECONDS = 30.0
"""The most the server gets to finish the notifications in flight when a window closes."""
QUIET_SECONDS = 0.6
"""A declaration count unchanged for this long: the server has finished them."""
HEAD = text("SELECT coalesce(max(position), 0) FROM events")
DECLARED = text(
    "SELECT stream_id FROM events WHERE type = 'incident.declared' AND position > :after"
)


@dataclass(frozen=True)
class HookServer:
    """A running server on its own database, and the token Alertmanager would send."""

    base: str
    engine: Engine
    token: str


def _head(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(HEAD).scalar_one())


def declared(engine: Engine, after: int) -> set[str]:
    """Ids of the incidents declared after log position ``after``, read from the events."""
    with engine.connect() as conn:
        streams = conn.execute(DECLARED, {"after": after}).scalars()
        return {stream.removeprefix(STREAM_PREFIX) for stream in streams}


def _settled(engine: Engine, after: int) -> set[str]:
    """``declared`` once the count has stopped moving: wrk's last requests are finished."""
    deadline = time.monotonic() + SETTLE_SECONDS
    found, quiet_since = declared(engine, after), time.monotonic()
    while time.monotonic() - quiet_since < QUIET_SECONDS and time.monotonic() < deadline:
        time.sleep(0.1)
        latest = declared(engine, after)
        if len(latest) != len(found):
            found, quiet_since = latest, time.monotonic()
    return found


def window(server: HookServer, connections: int, seconds: int, workdir: Path) -> Figures:
    """One wrk window with its own groups; its figures named with the connection count."""
    prefix = uuid.uuid4().hex[:8]
    answers_file = workdir / f"answers-{prefix}.txt"
    script = hook_script.write(workdir / f"hook-{prefix}.lua", prefix, server.token, answers_file)
    after = _head(server.engine)
    measured = wrk.run(server.base, script, connections, seconds)
    answered = answers_file.read_text().split()
    incidents = _settled(server.engine, after)
    figures = {
        **measured.figures(),
        "ok": float(len(answered)),
        "declared": float(len(incidents)),
        # Expected 0: a 2xx answer naming no new incident, or the same one twice.
        "ok_not_declared": float(len(answered) - len(incidents.intersection(answered))),
        # Expected 0 to `connections`: recorded, but wrk stopped before the answer came.
        "declared_not_ok": float(len(incidents.difference(answered))),
    }
    return {f"{name}_c{connections}": value for name, value in figures.items()}


def _round(server: HookServer, seconds: int, workdir: Path, _number: int) -> Figures:
    figures: Figures = {}
    for connections in HOOK_CONNECTIONS:
        figures.update(window(server, connections, seconds, workdir))
    return figures


@contextmanager
def running(backend: str, workdir: Path) -> Iterator[HookServer]:
    """``incidents serve`` on a fresh database, with an ingest token made for the sender."""
    with fresh_database(backend, workdir) as url:
        engine = engine_for(url)
        try:
            token = TokenStore(engine).create("alertmanager", {Scope.INGEST})
            admin = "il_bench-" + secrets.token_urlsafe(16)
            with serve(url, workdir, admin) as base:
                yield HookServer(base, engine, token)
        finally:
            engine.dispose()


def run(backends: list[str], sizes: Sizes, workdir: Path) -> dict[str, Any]:
    """Per backend: every figure of ``sizes.hook_rounds`` rounds as median, min and max."""
    if not wrk.available():
        raise Skipped("wrk is not installed (Debian package wrk)")
    results = {}
    for backend in backends:
        with running(backend, workdir) as server:
            # Unmeasured first: connections, caches, the server's first requests.
            window(server, max(HOOK_CONNECTIONS), 1, workdir)
            once = partial(_round, server, sizes.hook_seconds, workdir)
            runs = repeat(sizes.hook_rounds, once, f"alertmanager over HTTP {backend}")
        results[backend] = summarise(runs)
    return results
