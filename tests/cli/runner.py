"""The ``incidents`` command run in this process, as a terminal 200 columns wide would run it."""

from __future__ import annotations

from typer.testing import CliRunner, Result

from cli.main import app


def run_cli(*args: str) -> Result:
    # A fixed width keeps rich from wrapping the lines the tests compare.
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
