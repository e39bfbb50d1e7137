"""`hub staff`: the workspace's staff accounts (add, list, disable, passwd).

Passwords are never arguments (they would stay in the shell history and the process list): they
are read with a hidden prompt, or one line from standard input with `--password-stdin`.
"""

from __future__ import annotations

import getpass
import sys
from datetime import UTC, datetime
from typing import Annotated, NoReturn

import typer
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from hub.entrypoints.cli.context import JsonOpt, echo_json, opened
from hub.services.auth import hash_password
from hub.store import staff as store

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


@app.command("add")
def staff_add(
    username: str,
    role: Annotated[str, typer.Option(help="triage, jurist or admin")],
    name: Annotated[str, typer.Option("--name", help="Display name (shown to colleagues)")],
    password_stdin: StdinOpt = False,
) -> None:
    """Create a staff account."""
    if role not in store.ROLES:
        _fail(f"Ukendt rolle: {role}. Kendte roller: {', '.join(store.ROLES)}.")
    if not username.isascii() or not username.replace("-", "").replace(".", "").isalnum() or len(username) > 64:
        _fail("Brugernavnet må kun indeholde bogstaverne a-z, tal, punktum og bindestreg (højst 64 tegn).")
    password_hash = _password(password_stdin)
    with opened() as container, Session(container.engine) as session:
        store.add_staff(session, username, name, role, password_hash, datetime.now(UTC))
        try:
            session.commit()
        except IntegrityError:
            _fail(f"Brugernavnet {username} findes allerede.", 1)
    typer.echo(f"Medarbejder {username} oprettet med rollen {role}.")


@app.command("list")
def staff_list(as_json: JsonOpt = False) -> None:
    """List the staff accounts."""
    with opened() as container, Session(container.engine) as session:
        rows = store.list_staff(session)
    if as_json:
        echo_json(rows)
        return
    if not rows:
        typer.echo("Ingen medarbejdere. Opret en med `hub staff add`.")
    for r in rows:
        state = "deaktiveret" if r.disabled else "aktiv"
        typer.echo(f"{r.username:<20} {r.role:<8} {state:<12} {r.display_name}")


def _change(username: str, change: str, password_hash: str | None = None) -> None:
    with opened() as container, Session(container.engine) as session:
        row = store.find(session, username)
        if row is None:
            _fail(f"Ukendt medarbejder: {username}.", 1)
        assert row is not None and row.id is not None
        if change == "disable":
            row.disabled = True
        else:
            assert password_hash is not None
            row.password_hash, row.failed_logins, row.locked_until = password_hash, 0, None
        session.add(row)
        store.end_sessions(session, row.id)  # logged out everywhere, at once
        session.commit()


@app.command("disable")
def staff_disable(username: str) -> None:
    """Disable an account (its sessions end at once; the account and its history are kept)."""
    _change(username, "disable")
    typer.echo(f"Medarbejder {username} er deaktiveret og logget ud.")


@app.command("passwd")
def staff_passwd(username: str, password_stdin: StdinOpt = False) -> None:
    """Set a new password (also lifts a lock-out; every session ends)."""
    _change(username, "passwd", _password(password_stdin))
    typer.echo(f"Ny adgangskode sat for {username}.")
