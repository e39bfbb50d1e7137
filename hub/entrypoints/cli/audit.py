"""`hub audit`: check the tamper-evident audit chain (revisionskæden) and publish its head.

For the jurist and the DPO: `hub audit verify` checks every disclosure and every access record
against the chain and names the first row that was changed, deleted, inserted or moved (exit
code 1 then). It prints the chain's head; kept elsewhere, `--anchor SEQ:HASH` later proves that
nothing up to it was changed. Output in Danish.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated

import typer

from hub.entrypoints.cli.context import JsonOpt, echo_json, opened
from hub.logs import get_logger
from hub.runtime.transport import redis_client

log = get_logger("hub.audit")

app = typer.Typer(
    help="The audit chain (revisionskæden): verify it, publish its head.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)

KIND_DA = {
    "disclosure": "videregivelse",
    "deadletter_access": "opslag i tilsidesat besked",
    "checkpoint": "slettepunkt",
}
PROBLEM_DA = {
    "edited": "rækken er ændret efter den blev skrevet",
    "deleted": "en række er slettet",
    "inserted": "en række er indsat uden om hubben",
    "reordered": "rækkefølgen er ændret (rækken er flyttet)",
    "anchor_mismatch": "historikken stemmer ikke med ankeret: kæden er skrevet om",
    "anchor_pruned": "ankerets række er slettet efter slettefristen, så ankeret kan ikke efterprøves",
    "anchor_ahead": "kæden er kortere end ankeret: rækker efter ankeret er slettet",
}


@app.callback()
def _audit() -> None:
    """The audit chain (revisionskæden) over the disclosure log and the access records."""


@app.command()
def verify(
    anchor: Annotated[
        str | None,
        typer.Option("--anchor", metavar="SEQ:HASH", help="Also check against a head kept from earlier."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Check the whole chain; name the first row that was tampered with (exit code 1)."""
    from hub.services.audit import BadAnchor, parse_anchor
    from hub.services.audit import verify as run

    try:
        kept = parse_anchor(anchor) if anchor is not None else None
    except BadAnchor:
        typer.echo("Ankeret skal skrives NUMMER:HASH, fx 1234:9f86d0…, som `hub audit verify` udskriver det.", err=True)
        raise typer.Exit(2) from None
    with opened() as container:
        verdict = run(container.engine, kept)
    p = verdict.problem
    log.info("audit.verified", ok=verdict.ok, rows=verdict.rows, problem=p and p.code, seq=p and p.seq)
    if as_json:
        echo_json({"ok": verdict.ok, "rows": verdict.rows, "records": verdict.records, "start": verdict.start,
                   "head": str(verdict.head) if verdict.head else None, "problem": p})  # fmt: skip
    elif p is None:
        typer.echo(f"Revisionskæden er i orden: {verdict.rows} rækker og {verdict.records} poster kontrolleret.")
        if verdict.start > 1:
            typer.echo(f"Kæden begynder ved nr. {verdict.start}; ældre rækker er slettet efter slettefristen.")
        if kept is not None:
            typer.echo(f"Ankeret {kept.seq} stemmer: historikken op til det er uændret.")
    else:
        where = f"række nr. {p.seq}" if p.seq is not None else "en post uden række i kæden"
        what = f" ({KIND_DA.get(p.kind or '', p.kind)} {p.key})" if p.kind and p.key else ""
        typer.echo(f"FEJL i revisionskæden ved {where}{what}: {PROBLEM_DA[p.code]}.")
        typer.echo("Kontakt den databeskyttelsesansvarlige; ret intet i databasen, før det er undersøgt.")
    if not as_json:
        if verdict.head is None:
            typer.echo("Kæden er tom.")
        else:
            typer.echo(f"Kædehoved: {verdict.head}")
            typer.echo(
                "Gem kædehovedet uden for hubben; `hub audit verify --anchor <kædehoved>` efterprøver det senere."
            )
    if p is not None:
        raise typer.Exit(1)


@app.command()
def anchor() -> None:
    """Publish the chain's head to hub.audit.anchor.v1 now (`hub serve` does it regularly)."""
    from hub.services.audit import chain_head, publish_anchor

    with opened() as container:
        head = chain_head(container.engine)
        url = container.redis_url()

        async def publish() -> bool:
            client = redis_client(url)
            try:
                return await publish_anchor(client, head, datetime.now(UTC))
            finally:
                await client.aclose()

        published = asyncio.run(publish())
    if head is None:
        typer.echo("Kæden er tom; intet anker at offentliggøre.")
    elif published:
        typer.echo(f"Kædehoved {head} offentliggjort på hub.audit.anchor.v1.")
    else:
        typer.echo(f"Kædehoved {head} var allerede det nyeste anker på hub.audit.anchor.v1.")
