"""``incidents serve`` stopped by a signal to its own process id (as ``kill $!`` after
``incidents serve &``): every process it started ends, and the port is free again.

Each server runs in a session of its own, so whatever a failing test leaves behind is
killed with the session afterwards, not left serving.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

from tests.integration.servers import INCIDENTS, free_port, wait_until_ready

STOPPED_WITHIN_SECONDS = 10


def children_of(pid: int) -> set[int]:
    """The processes whose parent is ``pid``, and theirs, from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # ended meanwhile
        # "pid (name) state ppid ...": the name may hold spaces and parentheses.
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    wanted = {pid}
    while wanted:
        wanted = {child for child, parent in parents.items() if parent in wanted} - found
        found |= wanted
    return found


def running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie has ended; it only awaits its parent)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def can_listen(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen(1)
        except OSError:
            return False
        return True


@contextmanager
def served(tmp_path: Path, port: int, workers: int) -> Iterator[subprocess.Popen[bytes]]:
    log = tmp_path / f"serve-{port}.log"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("INCIDENTS_")}
    environment["INCIDENTS_DATABASE_URL"] = f"sqlite:///{tmp_path / 'incidents.db'}"
    environment["INCIDENTS_SECRET_KEY_FILE"] = str(tmp_path / "secret.key")
    command = [str(INCIDENTS), "serve", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, "--workers", str(workers)],
            cwd=tmp_path,
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until_ready(f"http://127.0.0.1:{port}/healthz", process, log, "incidents serve")
        yield process
    finally:
        with suppress(ProcessLookupError):  # the session ended with serve
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_serve_stops_every_process_it_started_and_frees_the_port(
    tmp_path: Path, workers: int, stop_signal: signal.Signals
) -> None:
    port = free_port()
    with served(tmp_path, port, workers) as process:
        started = children_of(process.pid)
        if workers > 1:
            assert len(started) >= workers, started  # the server processes, at least
        process.send_signal(stop_signal)
        deadline = time.monotonic() + STOPPED_WITHIN_SECONDS
        while time.monotonic() < deadline:
            left = {pid for pid in started if running(pid)}
            if process.poll() is not None and not left and not listening(port):
                break
            time.sleep(0.1)
        assert process.poll() is not None, "incidents serve is still running"
        assert {pid for pid in started if running(pid)} == set(), "a child outlived serve"
        assert not listening(port)
        assert can_listen(port)
