"""`hub access CPR`: the right of access (indsigt): what was disclosed about a person, to whom,
on which basis and when, read through the query layer."""

from __future__ import annotations

import typer

from hub.entrypoints import labels as da
from hub.entrypoints.cli.context import JsonOpt, echo_json, opened
from hub.store import queries

app = typer.Typer()


@app.command()
def access(cpr: str, as_json: JsonOpt = False) -> None:
    """Indsigt: what was disclosed about a person, to whom, on which basis and when."""
    from hub.schemas.cpr import normalise

    try:
        cpr = normalise(cpr)
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    with opened() as container, queries.reading(container.engine) as session:
        rows = queries.disclosure_history(session, cpr)
    if as_json:
        echo_json(rows)
        return
    if not rows:
        typer.echo("Der er ikke registreret videregivelser om personen.")
    for d in rows:
        typer.echo(
            f"{da.when(d.created_at)}  {da.label(da.EFFECT, d.effect):<13} til {d.recipient} "
            f"({da.label(da.DISCLOSURE_KIND, d.kind)}, {da.label(da.STRUCTURE, d.structure)}); "
            f"sag {d.report_ref}; formål {da.label(da.PURPOSE, d.purpose)}"
        )
        typer.echo(f"    felter: {', '.join(d.fields) or 'ingen'}")
        typer.echo(f"    hjemmel: {'; '.join(d.legal_basis) or '–'}  [{', '.join(d.rule_ids)}]")
        if not d.shared:
            for r in d.reasons:
                typer.echo(f"    begrundelse: [{r.rule_id}] {r.da}")
