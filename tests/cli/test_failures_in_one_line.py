"""The ``incidents`` program (its console script, in a process of its own) answers an
operator's mistake with one line and exit 1: no traceback, no setting's value."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cli.failures import said_in_one_line

INCIDENTS = Path(sys.executable).with_name("incidents")


def _run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("INCIDENTS_")}
    return subprocess.run(
        [str(INCIDENTS), *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={**clean, "COLUMNS": "200", **env},
        check=False,
    )


@pytest.mark.parametrize(
    ("setting", "value", "said"),
    [
        ("INCIDENTS_SESSION_KEY", "short-session-secret", "INCIDENTS_SESSION_KEY: String should"),
        ("INCIDENTS_PORT", "abc", "INCIDENTS_PORT: Input should be a valid integer"),
        ("INCIDENTS_PORT", "0", "INCIDENTS_PORT: Input should be greater than or equal to 1"),
        ("INCIDENTS_DATABASE_URL", "incidents.db", "not a database URL this service can use"),
        ("INCIDENTS_DATABASE_URL", "mysql://u@localhost/x", "driver that is not installed"),
    ],
)
def test_a_mistaken_setting_is_one_line_without_its_value(
    tmp_path: Path, setting: str, value: str, said: str
) -> None:
    done = _run(tmp_path, "tokens", "list", **{setting: value})

    assert done.returncode == 1
    assert said in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    if "SESSION" in setting:
        assert value not in done.stderr + done.stdout


def test_a_database_that_cannot_be_reached_is_one_line_for_migrate(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}"  # a directory
    done = _run(tmp_path, "migrate", "--database-url", url)

    assert done.returncode == 1
    assert "the database cannot be used: unable to open database file" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_programs_own_faults_still_show_their_traceback() -> None:
    def broken() -> None:
        raise RuntimeError("a bug")

    with pytest.raises(RuntimeError, match="a bug"):
        said_in_one_line(broken)


def test_no_new_secret_key_is_made_for_a_database_with_sealed_text(tmp_path: Path) -> None:
    home, elsewhere = tmp_path / "home", tmp_path / "elsewhere"
    home.mkdir()
    elsewhere.mkdir()
    url = f"sqlite:///{tmp_path / 'incidents.db'}"
    assert _run(home, "migrate", "--database-url", url).returncode == 0
    made = _run(
        home,
        "webhooks",
        "create",
        "--url",
        "http://127.0.0.1:9/hook",
        "--type",
        "incident.declared",
        "--database-url",
        url,
        INCIDENTS_WEBHOOKS_ALLOW_HTTP="true",
        INCIDENTS_WEBHOOKS_ALLOW_PRIVATE="true",
    )
    assert made.returncode == 0, made.stderr
    assert (home / "var" / "secret.key").exists()

    done = _run(elsewhere, "webhooks", "list", "--database-url", url)

    assert done.returncode == 1
    assert "a new key would open none of it" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (elsewhere / "var" / "secret.key").exists()
    assert _run(home, "webhooks", "list", "--database-url", url).returncode == 0
