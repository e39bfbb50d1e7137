"""`hub serve` and `hub demo`: run the hub."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from hub.entrypoints.cli.context import opened

app = typer.Typer()


@app.command()
def serve() -> None:
    """Run the workers (intake, decisions, outbox relay, reclaimer) and the HTTP API until stopped."""
    from hub.entrypoints.serve import serve as run_serve

    with opened() as container:
        asyncio.run(run_serve(container))


@app.command()
def demo(
    data_dir: Annotated[str | None, typer.Option(help="Keep the demo's data here (default: a temporary dir).")] = None,
) -> None:
    """Run a realistic scenario end to end on the embedded default and print what happened."""
    from hub.entrypoints.demo import run_demo

    raise typer.Exit(asyncio.run(run_demo(data_dir)))
