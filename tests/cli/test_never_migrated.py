"""Commands on a database that was never migrated: one clear line, exit 1, nothing created.

A mistyped ``--database-url`` must not leave an empty database (or its directory, or a
half-written export) behind, and must not print a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import Result

from tests.cli.runner import run_cli as invoke
from tests.conftest import unmigrated_postgres

COMMANDS = {
    "export": ["export", "{out}"],
    "rebuild": ["rebuild"],
    "project": ["project", "--once"],
    "tokens list": ["tokens", "list"],
    "tokens create": ["tokens", "create", "ci-bot", "--scope", "read"],
    "tokens revoke": ["tokens", "revoke", "ci-bot"],
    "integrations list": ["integrations", "list"],
    "integrations create": ["integrations", "create", "prod-am", "--kind", "pagerduty"],
    "integrations revoke": ["integrations", "revoke", "prod-am"],
    "credentials copy": ["credentials", "copy", "--from", "{url}"],
}


def run_cli(args: list[str], url: str, out: Path) -> Result:
    filled = [arg.format(url=url, out=out) for arg in args]
    return invoke(*filled, "--database-url", url)


def files_under(path: Path) -> list[Path]:
    return sorted(path.rglob("*"))


@pytest.fixture
def unmigrated_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A database that exists and holds no schema: an empty SQLite file, a new PostgreSQL one."""
    if backend == "sqlite":
        path = tmp_path / "empty.db"
        path.touch()
        yield f"sqlite:///{path}"
        return
    with unmigrated_postgres("incidents_bare") as url:
        yield url


@pytest.mark.parametrize("command", list(COMMANDS), ids=list(COMMANDS))
def test_a_missing_sqlite_file_is_named_and_not_created(tmp_path: Path, command: str) -> None:
    url = f"sqlite:///{tmp_path}/typo/incidents.db"

    done = run_cli(COMMANDS[command], url, tmp_path / "log.jsonl")

    assert done.exit_code == 1, done.output
    assert done.stderr.splitlines() == [
        f"no database at {tmp_path}/typo/incidents.db: create it with `incidents migrate`"
        " (or `incidents serve`), or point INCIDENTS_DATABASE_URL or --database-url at an"
        " existing one"
    ]
    assert "Traceback" not in done.output
    assert files_under(tmp_path) == [], "no database, directory or export was created"


@pytest.mark.parametrize("command", list(COMMANDS), ids=list(COMMANDS))
def test_a_database_without_schema_says_to_migrate(
    unmigrated_url: str, tmp_path: Path, command: str
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    before = files_under(tmp_path)

    done = run_cli(COMMANDS[command], unmigrated_url, out / "log.jsonl")

    assert done.exit_code == 1, done.output
    [line] = done.stderr.splitlines()
    assert line.startswith("the database ")
    assert line.endswith(" was never migrated: run `incidents migrate` first")
    assert files_under(tmp_path) == before


def test_import_of_a_missing_file_creates_no_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/new/incidents.db"

    done = run_cli(["import", str(tmp_path / "nope.jsonl")], url, tmp_path)

    assert done.exit_code == 1
    assert done.stderr.splitlines() == [
        f"import refused: {tmp_path}/nope.jsonl: No such file or directory",
        "Nothing was imported.",
    ]
    assert files_under(tmp_path) == []


def test_import_of_a_missing_file_leaves_a_postgresql_database_unmigrated(
    unmigrated_url: str, tmp_path: Path
) -> None:
    done = run_cli(["import", str(tmp_path / "nope.jsonl")], unmigrated_url, tmp_path)
    assert done.exit_code == 1
    again = run_cli(["tokens", "list"], unmigrated_url, tmp_path)
    assert "was never migrated" in again.stderr
