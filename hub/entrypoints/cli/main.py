"""The `hub` Typer app: every command group mounted in one place, and `main()` for the console script.

Each module holds one group of commands; top-level commands live in a module's own Typer app
and are merged here. Every command opens the process's container (`context.opened`) and reads
through the query layer (`hub.store.queries`).

`main()` is where an error the hub expects ends a command: one line a person can act on (a line
per bad setting for a `ConfigurationError`, exit code 2), secrets masked, no traceback.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Annotated

import redis
import typer
from sqlalchemy.exc import SQLAlchemyError

from hub.entrypoints.cli import (
    access,
    audit,
    db,
    deadletter,
    policy,
    report,
    reporter,
    run,
    staff,
    surface,
    tokens,
    triage,
)
from hub.entrypoints.cli import acl as acl_cmd
from hub.entrypoints.cli import referrals as referrals_cmd
from hub.errors import ConfigurationError, HubError, mask_secrets
from hub.logs import scrub

HELP = "DKE referral hub: intake, triage and referrals under Retsplejeloven § 115."
DISTRIBUTION = "dke-hub"

# Tracebacks never show local variables: they may hold personal data.
app = typer.Typer(help=HELP, no_args_is_help=True, pretty_exceptions_show_locals=False)
for module in (run, surface, access, db):  # top-level commands, in the order `hub --help` lists them
    app.registered_commands += module.app.registered_commands
reporter.register(triage.app)  # `hub triage receipt` and `hub triage feedback`
app.add_typer(triage.app, name="triage")
app.add_typer(tokens.app, name="tokens")
app.add_typer(db.db_app, name="db")
app.add_typer(policy.app, name="policy")
app.add_typer(acl_cmd.app, name="acl")
app.add_typer(deadletter.app, name="deadletter")
app.add_typer(audit.app, name="audit")
app.add_typer(report.app, name="report")
app.add_typer(staff.app, name="staff")
app.add_typer(referrals_cmd.app, name="referrals")


def package_version() -> str:
    """The installed package's version (its metadata), as `hub --version` prints it."""
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "0+unknown"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"hub {package_version()}")
        raise typer.Exit()


@app.callback(help=HELP)
def root(
    show_version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the hub's version and exit."),
    ] = False,
) -> None:
    """The options before any command (`hub --version`)."""


def main() -> None:
    try:
        app()
    except ConfigurationError as exc:
        for line in exc.lines:  # masked when the error was made
            typer.echo(f"hub: {line}", err=True)
        raise SystemExit(ConfigurationError.EXIT_CODE) from None
    except (HubError, SQLAlchemyError, redis.RedisError, OSError) as exc:
        # One line a person can act on; no traceback (it could quote data from the failure).
        text = str(exc).splitlines()[0] if str(exc) else ""
        typer.echo(f"hub: {type(exc).__name__}: {mask_secrets(scrub(text))}", err=True)
        raise SystemExit(1) from None
