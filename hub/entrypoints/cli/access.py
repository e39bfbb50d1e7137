"""`hub access`: the right of access (indsigt). Finds a person by CPR number or by name and birth
date, lists each disclosure (to whom, which fields, legal basis, purpose, decided by whom, when)
and each time a member of staff opened one of the person's cases (who, when, which case, on what
ground; the break-glass reason is for the jurist's access log, not here), and with `--out` writes
the Danish document the municipality hands to the person.

A CPR number on the command line shows in process lists and shell history: `--cpr-stdin` reads
it from standard input, and with no CPR and no name the command asks for it without echoing.
The positional argument still works (scripts and the docs use it).
"""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer

from hub.entrypoints import access_document
from hub.entrypoints import labels as da
from hub.entrypoints.cli.context import JsonOpt, echo_json, opened
from hub.store import queries
from hub.store.queries import access as access_q

app = typer.Typer()


def _fail(text: str) -> typer.Exit:
    typer.echo(f"hub: {text}", err=True)
    return typer.Exit(2)


def _cpr(cpr: str | None, from_stdin: bool, name: str | None) -> str | None:
    from hub.schemas.cpr import normalise

    if from_stdin:
        cpr = sys.stdin.readline().strip()
    elif cpr is None and name is None:
        if not sys.stdin.isatty():
            raise _fail("angiv et CPR-nummer (helst med --cpr-stdin) eller --name og --born")
        cpr = typer.prompt("CPR-nummer", hide_input=True)
    if cpr is None:
        return None
    try:
        return normalise(cpr)
    except ValueError as exc:
        raise _fail(str(exc)) from None


def _born(text: str | None) -> date:
    try:
        return date.fromisoformat(text or "")
    except ValueError:
        raise _fail("--born skal være en dato som 2012-05-17 (år-måned-dag)") from None


@app.command()
def access(
    cpr: Annotated[str | None, typer.Argument(help="CPR number (better: --cpr-stdin, not in history).")] = None,
    cpr_stdin: Annotated[bool, typer.Option("--cpr-stdin", help="Read the CPR number from standard input.")] = False,
    name: Annotated[str | None, typer.Option("--name", help="Find the person by name (with --born).")] = None,
    born: Annotated[str | None, typer.Option("--born", help="Birth date YYYY-MM-DD (with --name).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the access document (HTML) here.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Indsigt: what was disclosed about a person, to whom, on which basis, decided by whom and when."""
    if (cpr is not None or cpr_stdin) and name is not None:
        raise _fail("angiv enten CPR-nummer eller --name og --born, ikke begge")
    if name is not None and born is None:
        raise _fail("--name kræver --born (fødselsdato), så det er den rigtige person")
    number = _cpr(cpr, cpr_stdin, name)
    with opened() as container, queries.reading(container.engine) as session:
        if number is not None:
            person = access_q.person_by_cpr(session, number)
        else:
            assert name is not None
            person = access_q.person_by_name(session, name, _born(born))
            if len(person.subject_keys) > 1:
                raise _fail("navn og fødselsdato passer på flere personer: brug CPR-nummeret")
        doc = access_document.build(session, person, container.registry.municipality, datetime.now(UTC))
        registry = container.registry
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(access_document.render_html(doc, registry), encoding="utf-8")
    if as_json:
        echo_json({"disclosures": [d.disclosure for d in doc.disclosures], "staff_views": list(doc.staff_views)})
        return
    if not doc.disclosures:
        typer.echo("Der er ikke registreret videregivelser om personen.")
    for item in doc.disclosures:
        d = item.disclosure
        typer.echo(
            f"{da.when(d.created_at)}  {da.label(da.EFFECT, d.effect):<13} til {d.recipient} "
            f"({da.label(da.DISCLOSURE_KIND, d.kind)}, {da.label(da.STRUCTURE, d.structure)}); "
            f"sag {d.report_ref}; formål {da.label(da.PURPOSE, d.purpose)}"
        )
        typer.echo(f"    felter: {', '.join(d.fields) or 'ingen'}")
        typer.echo(f"    hjemmel: {'; '.join(d.legal_basis) or '–'}  [{', '.join(d.rule_ids)}]")
        decided = f"{item.decided_by}, {da.when(item.decided_at)}" if item.decided_by else "automatisk (lovkrav)"
        typer.echo(f"    besluttet af: {decided}")
        if d.effect != "share":
            for r in d.reasons:
                typer.echo(f"    begrundelse: [{r.rule_id}] {r.da}")
    _echo_views(doc.staff_views)
    if out is not None:
        typer.echo(f"Indsigtsbrev skrevet til {out} ({len(doc.reports)} henvendelser, "
                   f"{len(doc.disclosures)} videregivelser, {len(doc.staff_views)} opslag).")  # fmt: skip


def _echo_views(views: tuple[access_q.StaffView, ...]) -> None:
    if not views:
        typer.echo("Der er ikke registreret opslag i personens sager.")
        return
    typer.echo("Opslag i personens sager:")
    for v in views:
        who = f"{v.staff} ({v.staff_name}, {da.label(da.STAFF_ROLE, v.role)})" if v.staff_name else v.staff
        typer.echo(f"{da.when(v.viewed_at)}  {who}  sag {v.report_ref}; {da.label(da.ACCESS_GROUND, v.ground)}")
