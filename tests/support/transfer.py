"""Moving a log between databases: a realistic history, export and import in memory.

Shared by the store-level transfer tests, the ``incidents export`` / ``import`` command
tests and the position-hole tests, which all move the same kind of log.
"""

from __future__ import annotations

import io
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Engine, func, select

from application.service import IncidentService
from bench.history import load as load_generated_history
from domain.events import CURRENT_VERSIONS
from eventstore import EventStore
from eventstore.schema import events
from eventstore.transfer.export import export_log
from eventstore.transfer.import_log import import_log
from projections.runner import ProjectionRunner
from tests.clocks import FakeClock
from tests.support.command_writer import CommandWriter

BASE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
AWKWARD_ACTOR = 'zoë "on-call" \\ ops\tteam'


def write_history(engine: Engine, seed: int = 11) -> None:
    """About a thousand events of varied incidents, and read models rebuilt from them."""
    load_generated_history(engine, 700)
    clock = FakeClock(BASE, timedelta(milliseconds=1500))
    service = IncidentService(EventStore(engine, clock=clock), ProjectionRunner(), clock=clock)
    CommandWriter(service, random.Random(seed), actor=AWKWARD_ACTOR).write(250)
    ProjectionRunner().rebuild(engine)


def export_bytes(engine: Engine, **options: Any) -> bytes:
    out = io.BytesIO()
    export_log(engine, out, **options)
    return out.getvalue()


def import_bytes(engine: Engine, data: bytes, *, any_type: bool = False) -> None:
    """Import as the CLI does, refusing event types this release does not know unless told."""
    import_log(engine, io.BytesIO(data), known_types=None if any_type else CURRENT_VERSIONS)


def event_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(events)).scalar_one())


def without_header(data: bytes) -> list[bytes]:
    """A log file's lines but its header (export time, backend) and its trailer's signed
    checkpoint (signing time): the part two exports of one log write alike."""
    lines = data.splitlines(keepends=True)[1:]
    trailer = orjson.loads(lines[-1])
    trailer.pop("checkpoint", None)
    return [*lines[:-1], orjson.dumps(trailer, option=orjson.OPT_SORT_KEYS)]
