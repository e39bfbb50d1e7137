"""The `hub` Typer app: every command group mounted in one place, and `main()` for the console script.

Each module holds one group of commands; top-level commands live in a module's own Typer app
and are merged here. Every command opens the process's container (`context.opened`) and reads
through the query layer (`hub.store.queries`).
"""

from __future__ import annotations

import redis
import typer
from sqlalchemy.exc import SQLAlchemyError

from hub.entrypoints.cli import access, db, deadletter, policy, run, surface, tokens, triage
from hub.entrypoints.cli import acl as acl_cmd
from hub.errors import HubError
from hub.logs import scrub

# Tracebacks never show local variables: they may hold personal data.
app = typer.Typer(
    help="DKE referral hub: intake, triage and referrals under Retsplejeloven § 115.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
for module in (run, surface, access, db):  # top-level commands, in the order `hub --help` lists them
    app.registered_commands += module.app.registered_commands
app.add_typer(triage.app, name="triage")
app.add_typer(tokens.app, name="tokens")
app.add_typer(db.db_app, name="db")
app.add_typer(policy.app, name="policy")
app.add_typer(acl_cmd.app, name="acl")
app.add_typer(deadletter.app, name="deadletter")


def main() -> None:
    try:
        app()
    except (HubError, SQLAlchemyError, redis.RedisError, OSError) as exc:
        # One line a person can act on; no traceback (it could quote data from the failure).
        typer.echo(f"hub: {type(exc).__name__}: {scrub(str(exc).splitlines()[0]) if str(exc) else ''}", err=True)
        raise SystemExit(1) from None
