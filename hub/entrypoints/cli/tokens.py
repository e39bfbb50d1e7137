"""`hub tokens`: bearer tokens for `POST /v1/reports`."""

from __future__ import annotations

import typer

from hub.entrypoints.cli.context import opened

app = typer.Typer(help="Bearer tokens for POST /v1/reports.", no_args_is_help=True)


@app.command("issue")
def tokens_issue(source_id: str) -> None:
    """Issue a bearer token for a source. It is printed once; only its hash is kept."""
    from hub.store.tokens import TokenStore

    with opened() as container:
        if container.registry.source(source_id) is None:
            typer.echo(f"unknown source: {source_id} (see `hub sources`)", err=True)
            raise typer.Exit(2)
        typer.echo(TokenStore(container.settings.tokens_path).issue(source_id))
