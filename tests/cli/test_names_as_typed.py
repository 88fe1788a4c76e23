"""What the commands print shows names, files and ids as they are: square brackets are text,
not markup, and an id in a table is whole on a narrow terminal. Both backends."""

from __future__ import annotations

from typer.testing import CliRunner

from cli.main import app
from tests.cli.runner import run_cli

# ``environment`` is autouse: the webhook commands' key and local addresses, here too.
from tests.cli.test_webhooks_cli import created, environment  # noqa: F401


def test_a_token_named_with_brackets_is_listed_and_revoked_by_that_name(
    database_url: str,
) -> None:
    made = run_cli(
        "tokens", "create", "dependabot[bot]", "-s", "read", "--database-url", database_url
    )
    assert made.exit_code == 0, made.output

    listed = run_cli("tokens", "list", "--database-url", database_url)
    assert "dependabot[bot]" in listed.stdout
    revoked = run_cli("tokens", "revoke", "dependabot[bot]", "--database-url", database_url)
    assert revoked.exit_code == 0, revoked.output
    assert "revoked dependabot[bot]" in revoked.stderr
    missing = run_cli("tokens", "revoke", "[/]", "--database-url", database_url)
    assert missing.exit_code == 1
    assert "no live token named '[/]'" in missing.stderr


def test_an_unknown_projection_is_named_as_typed(database_url: str) -> None:
    done = run_cli("rebuild", "search[x]", "--database-url", database_url)
    assert done.exit_code == 2
    assert "unknown projection(s): search[x]" in done.stderr


def test_a_webhook_id_is_whole_on_a_narrow_terminal(database_url: str) -> None:
    subscription_id = str(created(database_url, "--type", "incident.declared")[0])

    narrow = CliRunner().invoke(
        app, ["webhooks", "list", "--database-url", database_url], env={"COLUMNS": "80"}
    )
    assert narrow.exit_code == 0, narrow.output
    assert subscription_id in "".join(
        cell.strip() for line in narrow.stdout.splitlines() for cell in line.split("\u2502")[1:2]
    )
