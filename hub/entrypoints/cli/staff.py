"""`hub staff`: the workspace's staff accounts (add, list, disable, passwd).

Passwords are never arguments (they would stay in the shell history and the process list): they
are read with a hidden prompt, or one line from standard input with `--password-stdin`.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, NoReturn

import typer

from hub.entrypoints.cli.context import JsonOpt, echo_json, opened
from hub.services import staff as accounts
from hub.services.auth import hash_password
from hub.services.staff import AccountError

app = typer.Typer(help="Medarbejdere i arbejdsrummet (staff accounts).", no_args_is_help=True)

StdinOpt = Annotated[bool, typer.Option("--password-stdin", help="Read the password from standard input.")]


def _password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Adgangskode: ")
        if getpass.getpass("Gentag adgangskoden: ") != password:
            _fail("Adgangskoderne er ikke ens.")
    try:
        return hash_password(password)
    except ValueError as exc:
        _fail(str(exc))


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(code)


def _apply(change: Callable[[], None]) -> None:
    try:
        change()
    except AccountError as exc:
        _fail(str(exc), 1)


@app.command("add")
def staff_add(
    username: str,
    role: Annotated[str, typer.Option(help="triage, jurist or admin")],
    name: Annotated[str, typer.Option("--name", help="Display name (shown to colleagues)")],
    password_stdin: StdinOpt = False,
) -> None:
    """Create a staff account."""
    if role not in accounts.ROLES:
        _fail(f"Ukendt rolle: {role}. Kendte roller: {', '.join(accounts.ROLES)}.")
    if not username.isascii() or not username.replace("-", "").replace(".", "").isalnum() or len(username) > 64:
        _fail("Brugernavnet må kun indeholde bogstaverne a-z, tal, punktum og bindestreg (højst 64 tegn).")
    password_hash = _password(password_stdin)
    with opened() as container:
        _apply(lambda: accounts.add(container.engine, username, name, role, password_hash, datetime.now(UTC)))
    typer.echo(f"Medarbejder {username} oprettet med rollen {role}.")


@app.command("list")
def staff_list(as_json: JsonOpt = False) -> None:
    """List the staff accounts."""
    with opened() as container:
        rows = accounts.listed(container.engine)
    if as_json:
        echo_json(rows)
        return
    if not rows:
        typer.echo("Ingen medarbejdere. Opret en med `hub staff add`.")
    for r in rows:
        state = "deaktiveret" if r.disabled else "aktiv"
        typer.echo(f"{r.username:<20} {r.role:<8} {state:<12} {r.display_name}")


@app.command("disable")
def staff_disable(username: str) -> None:
    """Disable an account (its sessions end at once; the account and its history are kept)."""
    with opened() as container:
        _apply(lambda: accounts.disable(container.engine, username))
    typer.echo(f"Medarbejder {username} er deaktiveret og logget ud.")


@app.command("passwd")
def staff_passwd(username: str, password_stdin: StdinOpt = False) -> None:
    """Set a new password (also lifts a lock-out; every session ends)."""
    password_hash = _password(password_stdin)
    with opened() as container:
        _apply(lambda: accounts.set_password(container.engine, username, password_hash))
    typer.echo(f"Ny adgangskode sat for {username}.")
