"""`hub db upgrade` and `hub retention`: the database's schema and the agreement's retention periods."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Annotated

import redis.asyncio
import typer

from hub.entrypoints.cli.context import opened

app = typer.Typer()  # top-level commands (`hub retention`)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations (safe to run repeatedly)."""
    with opened() as container:
        container.database()  # migrated on opening
    typer.echo("database is at the newest schema")


@app.command()
def retention(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only count what would be erased or deleted.")] = False,
) -> None:
    """Enforce the agreement's retention periods (run daily, e.g. from cron or a systemd timer)."""
    from hub.services.retention import Cutoffs, as_dict, purge_database, trim_streams

    with opened() as container:
        cutoffs = Cutoffs.of(container.agreement, datetime.now(UTC))
        counts = purge_database(container.engine, cutoffs, dry_run=dry_run)
        if not dry_run:
            url = container.redis_url()

            async def trim() -> int:
                client = redis.asyncio.Redis.from_url(url)
                try:
                    return await trim_streams(client, container.registry, cutoffs)
                finally:
                    await client.aclose()

            counts["stream_entries_trimmed"] = asyncio.run(trim())
    typer.echo(json.dumps({"cutoffs": as_dict(cutoffs), "dry_run": dry_run, **counts}, indent=2))
