"""`hub report quarterly 2026Q4 --out DIR`: DKE's quarterly report (kvartalsrapport) as an HTML
page, PNG charts and CSV tables, counts only, small cells suppressed (`hub.entrypoints.report`)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from hub.entrypoints.cli.context import opened, source_kinds
from hub.services.reporting.quarters import BadQuarter, Quarter

app = typer.Typer(help="Rapporter (kvartalsrapport).", no_args_is_help=True)

MISSING_CHARTS = (
    "diagrammerne kræver matplotlib, som ikke er installeret: pip install 'dke-hub[report]'"
)


@contextmanager
def _progress(total: int) -> Iterator[Callable[[str], None]]:
    """A progress bar on stderr when it is a terminal; silent otherwise (logs, pipes, tests)."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn

    console = Console(stderr=True)
    with Progress(
        TextColumn("{task.description:<50}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
        console=console, transient=True, disable=not console.is_terminal,
    ) as bar:  # fmt: skip
        task = bar.add_task("Kvartalsrapport", total=total)

        def step(name: str) -> None:
            bar.update(task, description=name[:50], advance=1)

        yield step


@app.command("quarterly")
def quarterly(
    quarter: Annotated[str, typer.Argument(help="The quarter, e.g. 2026Q4 (Danish calendar dates).")],
    out: Annotated[Path, typer.Option("--out", help="Directory to write index.html, PNG and CSV files to.")],
) -> None:
    """Write DKE's quarterly report for QUARTER to --out: index.html, a PNG chart and a CSV table each."""
    try:
        wanted = Quarter.parse(quarter)
    except BadQuarter as exc:
        typer.echo(f"hub: {exc}", err=True)
        raise typer.Exit(2) from None
    try:
        import matplotlib  # noqa: F401  (an optional extra: say so before any work is done)
    except ImportError:
        typer.echo(f"hub: {MISSING_CHARTS}", err=True)
        raise typer.Exit(2) from None
    from hub.entrypoints.report.tables import BUILDERS
    from hub.entrypoints.report.write import write_quarterly

    with opened() as container, _progress(2 * len(BUILDERS) + 1) as step:
        written = write_quarterly(
            container.engine,
            source_kinds(container.registry),
            wanted,
            out,
            as_of=datetime.now(UTC),
            municipality=container.registry.municipality,
            step=step,
        )
    hidden = sum(t.cells.any_hidden for t in written.tables)
    typer.echo(
        f"Kvartalsrapport for {wanted.label} skrevet til {written.directory}/index.html "
        f"({len(written.files)} filer; {hidden} af {len(written.tables)} tabeller har undertrykte tal)."
    )
    sys.stdout.flush()
