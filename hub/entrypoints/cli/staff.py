"""`hub staff`: the workspace's staff accounts (add, list, disable, enable, role, passwd).

Passwords are never arguments (they would stay in the shell history and the process list): they
are read with a hidden prompt, or one line from standard input with `--password-stdin`. Every
change is recorded in the administrators' action log as `cli:<os user>` (the workspace's admin
pages record the administrator's user name).
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


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


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
    if not accounts.valid_username(username):
        _fail(accounts.USERNAME_RULE)
    password_hash = _password(password_stdin)
    with opened() as container:
        now, actor = datetime.now(UTC), _actor()
        _apply(lambda: accounts.add(container.engine, username, name, role, password_hash, now, actor=actor))
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
        _apply(lambda: accounts.disable(container.engine, username, actor=_actor()))
    typer.echo(f"Medarbejder {username} er deaktiveret og logget ud.")


@app.command("enable")
def staff_enable(username: str) -> None:
    """Enable a disabled account again (it logs in with its current password)."""
    with opened() as container:
        _apply(lambda: accounts.enable(container.engine, username, actor=_actor()))
    typer.echo(f"Medarbejder {username} er aktiveret igen.")


@app.command("role")
def staff_role(username: str, role: Annotated[str, typer.Argument(help="triage, jurist or admin")]) -> None:
    """Give an account a new role (it applies from the account's next request)."""
    with opened() as container:
        _apply(lambda: accounts.set_role(container.engine, username, role, actor=_actor()))
    typer.echo(f"Medarbejder {username} har nu rollen {role}.")


@app.command("passwd")
def staff_passwd(username: str, password_stdin: StdinOpt = False) -> None:
    """Set a new password (also lifts a lock-out; every session ends)."""
    password_hash = _password(password_stdin)
    with opened() as container:
        _apply(lambda: accounts.set_password(container.engine, username, password_hash, actor=_actor()))
    typer.echo(f"Ny adgangskode sat for {username}.")
