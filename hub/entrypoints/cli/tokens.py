"""`hub tokens`: bearer tokens for `POST /v1/reports` (issue, list, revoke, rotate).

An operator's command, in English. A token is printed once, alone on stdout (so a script can
capture it); what an operator reads about it goes to stderr. The running hub notices every
change at its next request (`hub.store.tokens`): no restart. Issue, rotate and revoke are
recorded in the administrators' action log as `cli:<os user>` (`hub.services.source_tokens`).
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from sqlalchemy.engine import Engine

from hub.entrypoints.cli.context import JsonOpt, echo_json, opened
from hub.services import source_tokens
from hub.store.tokens import Issued, TokenRecord, TokenStore, UnknownToken

app = typer.Typer(help="Bearer tokens for POST /v1/reports.", no_args_is_help=True)

DEFAULT_GRACE_HOURS = 24
ExpiresOpt = Annotated[
    int | None,
    typer.Option("--expires-in-days", min=1, help="The token expires this many days from now (default: never)."),
]


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%MZ") if moment is not None else "-"


def _days(days: int | None) -> timedelta | None:
    return timedelta(days=days) if days is not None else None


@contextmanager
def _changing(source_id: str | None) -> Iterator[tuple[TokenStore, Engine]]:
    """The tokens file and the database its changes are recorded in (a known source first)."""
    with opened() as container:
        if source_id is not None and container.registry.source(source_id) is None:
            typer.echo(f"unknown source: {source_id} (see `hub sources`)", err=True)
            raise typer.Exit(2)
        yield TokenStore(container.settings.tokens_path), container.engine


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def _store() -> TokenStore:
    with opened() as container:
        return TokenStore(container.settings.tokens_path)


def _print_issued(issued: Issued) -> None:
    typer.echo(issued.token)
    r = issued.record
    expiry = f"expires {_when(r.expires)}" if r.expires else "does not expire"
    typer.echo(f"token {r.id} for {r.source_id}, {expiry}. It is shown only now: store it.", err=True)


@app.command("issue")
def tokens_issue(source_id: str, expires_in_days: ExpiresOpt = None) -> None:
    """Issue a bearer token for a source. It is printed once; only its hash is kept."""
    with _changing(source_id) as (store, engine):
        issued = source_tokens.issue(store, engine, source_id, expires_in=_days(expires_in_days), actor=_actor())
    _print_issued(issued)


@app.command("list")
def tokens_list(
    source_id: Annotated[str | None, typer.Option("--source", help="Only this source's tokens.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List the tokens (id, source, created, expires, revoked, state), never the tokens themselves."""
    now = datetime.now(UTC)
    records = [r for r in _store().records() if source_id is None or r.source_id == source_id]
    if as_json:
        echo_json([_row(r, now) for r in records])
        return
    if not records:
        typer.echo("no tokens (issue one with `hub tokens issue SOURCE`)")
        return
    typer.echo(f"{'ID':<13} {'SOURCE':<22} {'CREATED':<18} {'EXPIRES':<18} {'REVOKED':<18} STATE")
    for r in records:
        typer.echo(
            f"{r.id:<13} {r.source_id:<22} {_when(r.created):<18} {_when(r.expires):<18} "
            f"{_when(r.revoked):<18} {r.state(now)}"
        )


def _row(r: TokenRecord, now: datetime) -> dict[str, object]:
    return {
        "id": r.id,
        "source_id": r.source_id,
        "created": r.created,
        "expires": r.expires,
        "revoked": r.revoked,
        "state": r.state(now),
    }


@app.command("revoke")
def tokens_revoke(
    token_id: Annotated[str, typer.Argument(help="The token's id, as `hub tokens list` shows it.")],
) -> None:
    """Revoke a token at once: the running hub refuses it from its next request."""
    try:
        with _changing(None) as (store, engine):
            record = source_tokens.revoke(store, engine, token_id, actor=_actor())
    except UnknownToken:
        typer.echo(f"unknown token id: {token_id} (see `hub tokens list`)", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"token {record.id} of {record.source_id} is revoked (since {_when(record.revoked)})")


@app.command("rotate")
def tokens_rotate(
    source_id: str,
    grace_hours: Annotated[
        int,
        typer.Option(
            "--grace-hours",
            min=0,
            help="The source's current tokens stay valid this long, for it to switch over; 0 revokes them at once.",
        ),
    ] = DEFAULT_GRACE_HOURS,
    expires_in_days: ExpiresOpt = None,
) -> None:
    """Issue a new token for a source and retire its current ones (after a grace period)."""
    with _changing(source_id) as (store, engine):
        issued, old = source_tokens.rotate(
            store, engine, source_id, grace=timedelta(hours=grace_hours), expires_in=_days(expires_in_days),
            actor=_actor(),
        )  # fmt: skip
    _print_issued(issued)
    for r in old:
        until = "revoked now" if r.revoked is not None else f"valid until {_when(r.expires)}"
        typer.echo(f"previous token {r.id}: {until}", err=True)
    if not old:
        typer.echo(f"{source_id} had no valid token before", err=True)
