"""`hub db upgrade` and `hub retention`: the database's schema and the agreement's retention periods."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from hub.entrypoints import labels as da
from hub.entrypoints.cli.context import JsonOpt, echo_json, opened
from hub.runtime.transport import redis_client

if TYPE_CHECKING:
    from hub.services.retention import RetentionRun

app = typer.Typer()  # top-level commands (`hub retention`)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations (safe to run repeatedly)."""
    with opened() as container:
        container.database()  # migrated on opening
    typer.echo("database is at the newest schema")


DATABASE_DA = {
    "reports_erased": "henvendelser, indhold slettet (rækken bliver stående)",
    "triage_deleted": "triageposter slettet",
    "deadlines_deleted": "lovpligtige frister slettet",
    "referral_updates_deleted": "svar fra modtagere på henvisninger slettet",
    "cases_deleted": "sager slettet",
    "tracking_deleted": "behandlingsspor slettet",
    "disclosures_deleted": "videregivelser slettet (revisionskæden fik et slettepunkt)",
    "access_records_deleted": "medarbejderes opslag i sager slettet (også med slettepunkt)",
    "claim_events_deleted": "historik over hvem der havde sagerne slettet (også med slettepunkt)",
    "deadletter_access_deleted": "opslag i tilsidesatte beskeder slettet (også med slettepunkt)",
    "deadletters_deleted": "tilsidesatte beskeder slettet",
    "outbox_deleted": "sendte udgående beskeder slettet",
    "outbox_unsent_overdue": "udgående beskeder aldrig sendt og ældre end fristen: BEHOLDT, undersøg dem",
}
CUTOFF_DA = {
    "report": "henvendelser",
    "disclosure_log": "videregivelser",
    "deadletter": "tilsidesatte beskeder",
    "outbox": "udgående beskeder",
}


@app.command()
def retention(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only count what would be erased or deleted.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Enforce the agreement's retention periods on every store (`hub serve` does it daily)."""
    from hub.services.retention import as_dict, run_retention

    with opened() as container:
        url = container.redis_url()

        async def run() -> RetentionRun:
            client = redis_client(url)
            try:
                return await run_retention(
                    client, container.engine, container.registry, container.agreement, datetime.now(UTC),
                    dry_run=dry_run,
                )  # fmt: skip
            finally:
                await client.aclose()

        done = asyncio.run(run())
    if as_json:
        echo_json({"cutoffs": as_dict(done.cutoffs), "dry_run": dry_run, **done.database, "streams": done.streams,
                   "stream_entries_trimmed": sum(done.streams.values())})  # fmt: skip
        return
    typer.echo("Slettefrister (alt ældre end):" if not dry_run else "Prøvekørsel, intet er slettet. Slettefrister:")
    for key, label in CUTOFF_DA.items():
        typer.echo(f"  {label + ':':<24} {da.when(done.cutoffs.for_key(key))}")
    typer.echo("Database:")
    for key, label in DATABASE_DA.items():
        typer.echo(f"  {done.database.get(key, 0):>8}  {label}")
    if dry_run:
        typer.echo("Strømme: tælles ikke i en prøvekørsel.")
        return
    typer.echo(f"Strømme (poster fjernet, i alt {sum(done.streams.values())}):")
    for name, count in done.streams.items():
        typer.echo(f"  {count:>8}  {name}")
