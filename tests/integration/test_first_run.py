"""``incidents serve`` as ``make run`` starts it: in a fresh directory, with no settings.

What it prints is run as printed: the curl example of the first run (with the admin
token it created), and on a restart the command that makes a new admin token followed
by the example. A port in use is reported before "listening", with exit status 1.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from application.schema_migrations import head_revision
from tests.integration.servers import INCIDENTS, free_port, stop


def plain_environment() -> dict[str, str]:
    """This environment without any INCIDENTS_* setting, and with ``incidents`` on PATH."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("INCIDENTS_")}
    environment["PATH"] = f"{INCIDENTS.parent}{os.pathsep}{environment.get('PATH', '')}"
    return environment


@contextmanager
def serving(directory: Path, port: int) -> Iterator[list[str]]:
    """``incidents serve --port PORT`` in ``directory``; the lines it printed up to "Try:"."""
    log = directory / f"serve-{port}-{time.monotonic_ns()}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(INCIDENTS), "serve", "--port", str(port)],
            cwd=directory,
            env=plain_environment(),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield wait_for_example(log, process)
    finally:
        stop(process)


def wait_for_example(log: Path, process: subprocess.Popen[bytes]) -> list[str]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        lines = log.read_text(errors="replace").splitlines()
        if any(line.startswith("Try: ") for line in lines):
            return lines
        assert process.poll() is None, "\n".join(lines)
        time.sleep(0.1)
    raise AssertionError(f"no example was printed:\n{log.read_text(errors='replace')}")


def run_as_pasted(command: str, directory: Path) -> dict[str, object]:
    """Run a printed shell line at once (the port listens before "Try:"); its JSON answer."""
    done = subprocess.run(
        ["bash", "-c", command],
        cwd=directory,
        env=plain_environment(),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    answer: dict[str, object] = json.loads(done.stdout)
    return answer


def example(lines: list[str]) -> str:
    return next(line for line in lines if line.startswith("Try: ")).removeprefix("Try: ")


def test_the_first_run_and_a_restart_print_commands_that_work(tmp_path: Path) -> None:
    port = free_port()
    with serving(tmp_path, port) as lines:
        assert lines[0] == (
            f"created the database sqlite:///./var/incidents.db (schema {head_revision()})"
        )
        assert lines[1].startswith("created the secret key var/secret.key: it seals note")
        assert (tmp_path / "var" / "secret.key").stat().st_mode & 0o077 == 0
        token = lines[
            lines.index("Created the first admin token (shown only now; store it safely):") + 1
        ]
        assert token.strip().startswith("il_")
        listening = next(i for i, line in enumerate(lines) if " listening on " in line)
        assert "Authorization: Bearer " + token.strip() in example(lines)

        declared = run_as_pasted(example(lines), tmp_path)

        assert declared["version"] == 1
        assert listening < lines.index("Try: " + example(lines))

    with serving(tmp_path, port) as again:
        assert again[0] == "database is up to date (sqlite:///./var/incidents.db)"
        assert not any("Created the first admin token" in line for line in again)
        assert not any("secret key" in line for line in again)
        [hint] = [line for line in again if "incidents tokens create" in line]
        assert hint.endswith("TOKEN=$(incidents tokens create NAME --scope admin)")
        new_token = hint.split(": ", 1)[1].replace("NAME", "restart-admin")

        declared = run_as_pasted(f"{new_token} && {example(again)}", tmp_path)

        assert declared["version"] == 1
        assert declared["position"] == 2


def test_a_port_in_use_is_reported_before_listening_and_exits_1(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        done = subprocess.run(
            [str(INCIDENTS), "serve", "--port", str(port)],
            cwd=tmp_path,
            env=plain_environment(),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"port {port} on 127.0.0.1 is already in use (another server is running?): stop it,"
        " or choose another port with --port or INCIDENTS_PORT"
    ]
    assert "listening" not in done.stdout + done.stderr
    assert list(tmp_path.iterdir()) == [], "no database was created"
