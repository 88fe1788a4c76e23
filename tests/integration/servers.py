"""``incidents serve`` as a real process on a free loopback port, for real monitoring clients."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

INCIDENTS = Path(sys.executable).with_name("incidents")
ADMIN_TOKEN = "il_integration-admin"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cli(database_url: str, *args: str) -> str:
    """Run ``incidents ARGS --database-url URL``; its standard output."""
    done = subprocess.run(
        [str(INCIDENTS), *args, "--database-url", database_url],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@dataclass(frozen=True)
class Served:
    url: str
    database_url: str
    log: Path
    process: subprocess.Popen[bytes] | None = field(default=None, compare=False)
    """The server process, for tests that signal it themselves."""

    def admin(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=10
        )

    def get(self, path: str) -> Any:
        with self.admin() as client:
            response = client.get(path)
        assert response.status_code == 200, response.text
        return response.json()


def wait_until_ready(url: str, process: subprocess.Popen[bytes], log: Path, what: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{what} exited early:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{what} did not become ready:\n{log.read_text(errors='replace')[-3000:]}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


@contextmanager
def incidents_server(
    database_url: str, tmp_path: Path, *options: str, **env: str
) -> Iterator[Served]:
    """``incidents serve [OPTIONS]`` on a free port against ``database_url``, stopped afterwards."""
    port = free_port()
    log = tmp_path / f"incidents-{port}.log"
    environment = {
        **os.environ,
        "INCIDENTS_DATABASE_URL": database_url,
        "INCIDENTS_ADMIN_TOKEN": ADMIN_TOKEN,
        "INCIDENTS_LOG_FORMAT": "json",
        **env,
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(INCIDENTS), "serve", "--host", "127.0.0.1", "--port", str(port), *options],
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until_ready(f"{url}/healthz", process, log, "incidents serve")
            yield Served(url, database_url, log, process)
        finally:
            stop(process)


def eventually(check: Any, timeout: float = 60, what: str = "condition") -> Any:
    """Poll ``check()`` until it returns something truthy; that value."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}; last: {last!r}")
