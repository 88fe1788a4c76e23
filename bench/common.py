"""Fresh databases for benchmarks and a place to record their figures."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine

from application.schema_migrations import migrate
from eventstore.engine import create_engine
from eventstore.sealed_text import TextVault, install_default_vault

BENCH_SECRET_KEY = "m0kV7Xq2c8dJ4yR9tW1pZ6sB3nH5gL0aE2uK8fQ7vYc="  # noqa: S105 - sample data only
"""The secret key benchmarks seal note and alert text with: set for the service parts they
build and for the engines they make themselves (and their child processes)."""
os.environ.setdefault("INCIDENTS_SECRET_KEY", BENCH_SECRET_KEY)
install_default_vault(TextVault.from_secret(os.environ["INCIDENTS_SECRET_KEY"]))

POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
RESULTS = Path(__file__).parent / "results"


@contextmanager
def fresh_database(backend: str, workdir: Path) -> Iterator[str]:
    """A migrated, empty database URL; dropped (PostgreSQL) afterwards."""
    if backend == "sqlite":
        path = workdir / f"bench-{uuid.uuid4().hex[:8]}.db"
        url = f"sqlite:///{path}"
        _migrate(url)
        try:
            yield url
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    name = f"incidents_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    _migrate(url)
    try:
        yield url
    finally:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _migrate(url: str) -> None:
    engine = create_engine(url)
    migrate(engine)
    engine.dispose()


def engine_for(url: str) -> Engine:
    return create_engine(url)


def run_child(module: str, *args: str) -> dict[str, Any]:
    """Run ``python -m module args`` and parse the JSON it prints last (own process: own peak RSS)."""
    done = subprocess.run(
        [sys.executable, "-m", module, *args], check=False, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"{module} failed:\n{done.stderr}")
    output = done.stdout
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return result


def record(name: str, figures: dict[str, Any]) -> Path:
    """Write figures with the machine they were measured on to bench/results/."""
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    path = RESULTS / f"{stamp}-{name}.json"
    payload = {
        "measured_at": datetime.now(UTC).isoformat(),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": __import__("os").cpu_count(),
        **figures,
    }
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return path
