"""The ``incidents`` command line: every command, and the groups of commands, in one app."""

from __future__ import annotations

import typer

from cli.credentials import credentials_app
from cli.failures import said_in_one_line
from cli.integrations import integrations_app
from cli.projections import project, rebuild
from cli.schema import migrate
from cli.scrub import scrub
from cli.serve import serve
from cli.tokens import tokens_app
from cli.transfer import export_command, import_command
from cli.verify import verify
from cli.verify_export import verify_export
from cli.verify_postmortem import verify_postmortem
from cli.webhooks import webhooks_app

app = typer.Typer(
    help="Incident Ledger: event-sourced incident tracking.",
    no_args_is_help=True,
    # A traceback's local variables can hold a token or a key.
    pretty_exceptions_show_locals=False,
)
app.command()(migrate)
app.command()(serve)
app.command()(rebuild)
app.command()(project)
app.command("export")(export_command)
app.command("import")(import_command)
app.command()(verify)
app.command()(scrub)
app.command("verify-export")(verify_export)
app.command("verify-postmortem")(verify_postmortem)
app.add_typer(tokens_app, name="tokens")
app.add_typer(integrations_app, name="integrations")
app.add_typer(credentials_app, name="credentials")
app.add_typer(webhooks_app, name="webhooks")


def main() -> None:
    said_in_one_line(app)
