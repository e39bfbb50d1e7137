"""The `hub` command: run the hub, inspect its configuration, and work the triage queues."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any

import redis
import redis.asyncio
import typer
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from hub.config.registry import Registry, load_registry
from hub.config.settings import Settings
from hub.entrypoints import labels as da
from hub.entrypoints.cli.acl import app as acl_app
from hub.entrypoints.cli.deadletter import app as deadletter_app
from hub.entrypoints.cli.policy import app as policy_app
from hub.errors import HubError
from hub.logs import configure, scrub
from hub.schemas import streams
from hub.schemas.cloudevents import new_event
from hub.schemas.decision import DECISION_MADE, Level, Pillar, ReferralTarget, Structure, TriageDecision
from hub.schemas.report import Purpose

# Tracebacks never show local variables: they may hold personal data.
app = typer.Typer(
    help="DKE referral hub: intake, triage and referrals under Retsplejeloven § 115.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
triage_app = typer.Typer(help="DKE's triage queues (triagekøer).", no_args_is_help=True)
tokens_app = typer.Typer(help="Bearer tokens for POST /v1/reports.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(triage_app, name="triage")
app.add_typer(tokens_app, name="tokens")
app.add_typer(db_app, name="db")

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def _settings() -> Settings:
    settings = Settings()
    configure(json=settings.log_json, level=settings.log_level)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return settings


def _registry(settings: Settings) -> Registry:
    return load_registry(settings.registry_file)


@contextlib.contextmanager
def _session(settings: Settings) -> Iterator[Session]:
    """A read session on the hub's database, migrated first so an empty data dir works."""
    from hub.store.db import make_engine, migrate

    migrate(settings.effective_database_url)
    engine = make_engine(settings.effective_database_url)
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


@app.command()
def serve() -> None:
    """Run the workers (intake, decisions, outbox relay, reclaimer) and the HTTP API until stopped."""
    from hub.entrypoints.serve import serve as run_serve

    asyncio.run(run_serve(_settings()))


@app.command()
def demo(
    data_dir: Annotated[str | None, typer.Option(help="Keep the demo's data here (default: a temporary dir).")] = None,
) -> None:
    """Run a realistic scenario end to end on the embedded default and print what happened."""
    from hub.entrypoints.demo import run_demo

    raise typer.Exit(asyncio.run(run_demo(data_dir)))


@app.command()
def sources(as_json: JsonOpt = False) -> None:
    """List the configured sources and their intake and receipt streams."""
    registry = _registry(_settings())
    rows = [
        {
            "id": s.id,
            "name": s.name,
            "kind": s.kind.value,
            "intake": streams.intake(s.id),
            "receipts": streams.receipts(s.id),
        }
        for s in registry.sources
    ]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        typer.echo(f"{r['id']:<22} {r['kind']:<22} {r['name']}")
        typer.echo(f"{'':<22} skriver: {r['intake']}   læser: {r['receipts']}")


def stream_table(registry: Registry) -> list[dict[str, Any]]:
    """Every stream of the hub, from the stream catalogue (`hub.schemas.catalogue`)."""
    return registry.catalogue().table()


@app.command("streams")
def list_streams(as_json: JsonOpt = False) -> None:
    """List every stream of the hub: who writes it, who reads it, what it carries."""
    rows = stream_table(_registry(_settings()))
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        groups = f"  [{', '.join(r['groups'])}]" if r["groups"] else ""
        typer.echo(f"{r['stream']:<48} {r['event']:<36} {r['writer']} → {', '.join(r['readers']) or '–'}{groups}")


@app.command()
def schemas(
    out: Annotated[str | None, typer.Option(help="Write one <type>.schema.json per event type here.")] = None,
) -> None:
    """JSON Schemas of every event type on the hub's streams, for clients in any language."""
    from pathlib import Path

    from hub.schemas.catalogue import event_models, json_schema

    types = list(event_models())  # every event type on the stream catalogue's streams
    if out is None:
        typer.echo(json.dumps({t: json_schema(t) for t in types}, ensure_ascii=False, indent=2))
        return
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    for event_type in types:
        path = folder / f"{event_type}.schema.json"
        path.write_text(json.dumps(json_schema(event_type), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        typer.echo(str(path))


@app.command()
def access(cpr: str, as_json: JsonOpt = False) -> None:
    """Indsigt: what was disclosed about a person, to whom, on which basis and when."""
    from hub.schemas.cpr import normalise
    from hub.store import repository as repo

    try:
        cpr = normalise(cpr)
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    with _session(_settings()) as session:
        rows = [
            d.model_dump(mode="json", exclude={"id", "case_id", "decision_id"})
            for d in repo.disclosures_about(session, cpr)
        ]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        typer.echo("Der er ikke registreret videregivelser om personen.")
    for d in rows:
        typer.echo(
            f"{d['created_at'][:19]}  {da.label(da.EFFECT, d['effect']):<13} til {d['recipient']} "
            f"({d['kind']}, {d['structure'] or '–'}); sag {d['report_ref']}; formål {d['purpose']}"
        )
        typer.echo(f"    felter: {', '.join(d['fields']) or 'ingen'}")
        typer.echo(f"    hjemmel: {'; '.join(d['legal_basis'])}  [{', '.join(d['rule_ids'])}]")


@app.command()
def retention(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only count what would be erased or deleted.")] = False,
) -> None:
    """Enforce the agreement's retention periods (run daily, e.g. from cron or a systemd timer)."""
    from hub.bootstrap import resolve_redis
    from hub.config.registry import load_agreement
    from hub.services.retention import Cutoffs, as_dict, purge_database, trim_streams
    from hub.store.db import make_engine, migrate

    settings = _settings()
    cutoffs = Cutoffs.of(load_agreement(settings.agreement_file), datetime.now(UTC))
    migrate(settings.effective_database_url)
    engine = make_engine(settings.effective_database_url)
    try:
        counts = purge_database(engine, cutoffs, dry_run=dry_run)
    finally:
        engine.dispose()
    if not dry_run:
        url, embedded = resolve_redis(settings)

        async def trim() -> int:
            client = redis.asyncio.Redis.from_url(url)
            try:
                return await trim_streams(client, _registry(settings), cutoffs)
            finally:
                await client.aclose()

        try:
            counts["stream_entries_trimmed"] = asyncio.run(trim())
        finally:
            if embedded is not None:
                embedded.stop()
    typer.echo(json.dumps({"cutoffs": as_dict(cutoffs), "dry_run": dry_run, **counts}, indent=2))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations (safe to run repeatedly)."""
    from hub.store.db import migrate

    settings = _settings()
    migrate(settings.effective_database_url)
    typer.echo("database is at the newest schema")


@tokens_app.command("issue")
def tokens_issue(source_id: str) -> None:
    """Issue a bearer token for a source. It is printed once; only its hash is kept."""
    from hub.store.tokens import TokenStore

    settings = _settings()
    if _registry(settings).source(source_id) is None:
        typer.echo(f"unknown source: {source_id} (see `hub sources`)", err=True)
        raise typer.Exit(2)
    typer.echo(TokenStore(settings.tokens_path).issue(source_id))


# --- triage -----------------------------------------------------------------------------


def _triage_rows(settings: Settings, queue: str | None, include_decided: bool) -> list[dict[str, Any]]:
    from hub.store import repository as repo

    with _session(settings) as session:
        items = repo.triage_items(session, queue, None if include_decided else "open")
        rows = []
        for item in items:
            report = repo.get_report(session, item.report_ref)
            assert report is not None
            rows.append(
                {
                    "report_ref": item.report_ref,
                    "queue": item.queue,
                    "status": item.status,
                    "suggested_level": item.suggested_level,
                    "received_at": report.received_at.isoformat(),
                    "source_id": report.source_id,
                    "categories": sorted(report.payload["concern"]["categories"]),
                    "notifications": [n["kind"] for n in report.assessment["notifications"]],
                }
            )
    return rows


@triage_app.command("list")
def triage_list(
    queue: Annotated[str | None, typer.Option(help="urgent, reactive, proactive or operative")] = None,
    include_decided: Annotated[bool, typer.Option("--all", help="Also decided items.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """List the items in the triage queues (oldest first)."""
    rows = _triage_rows(_settings(), queue, include_decided)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        typer.echo("Ingen sager i køen.")
    for r in rows:
        notes = ", ".join(da.label(da.NOTIFICATION, n).split(" (")[0] for n in r["notifications"])
        typer.echo(
            f"{r['report_ref']}  {da.label(da.QUEUE, r['queue']):<9} {da.label(da.STATUS, r['status']):<7} "
            f"niveau {r['suggested_level'] or '–':<4} {r['source_id']:<20} "
            f"{', '.join(da.label(da.CATEGORY, c) for c in r['categories'])}" + (f"  [{notes}]" if notes else "")
        )


@triage_app.command("show")
def triage_show(report_ref: str, as_json: JsonOpt = False) -> None:
    """Show one report: the concern, the assessment with its reasons, and the disclosure log."""
    from hub.store import repository as repo

    with _session(_settings()) as session:
        report = repo.get_report(session, report_ref)
        if report is None:
            typer.echo(f"Ukendt reference: {report_ref}", err=True)
            raise typer.Exit(1)
        disclosures = [d.model_dump(mode="json") for d in repo.disclosures_for(session, report_ref)]
        doc: dict[str, Any] = {
            "report_ref": report.ref,
            "source_id": report.source_id,
            "received_at": report.received_at.isoformat(),
            "report": report.payload,
            "assessment": report.assessment,
            "disclosures": disclosures,
        }
    if as_json:
        typer.echo(json.dumps(doc, ensure_ascii=False, indent=2))
        return
    a, p = doc["assessment"], doc["report"]
    typer.echo(f"Sag {report_ref} fra {doc['source_id']}, modtaget {doc['received_at']}")
    typer.echo(
        f"  Kø: {da.label(da.QUEUE, a['queue'])}   Foreslået: {da.label(da.LEVEL, a['suggested_level'])}, "
        f"{da.label(da.PILLAR, a['suggested_pillar'])}"
    )
    subject = p.get("subject")
    typer.echo(f"  Person: {subject.get('name') or subject.get('cpr') if subject else 'ingen (områdeobservation)'}")
    typer.echo(f"  Kategorier: {', '.join(da.label(da.CATEGORY, c) for c in sorted(p['concern']['categories']))}")
    typer.echo(f"  Beskrivelse: {p['concern']['description']}")
    for n in a["notifications"]:
        typer.echo(f"  ! {da.label(da.NOTIFICATION, n['kind'])}: {', '.join(n['rule_ids'])}")
    if a.get("assess_by"):
        typer.echo(f"  Frist for vurdering: {a['assess_by']}")
    typer.echo("  Begrundelser:")
    for r in a["reasons"]:
        typer.echo(f"    [{r['rule_id']}] {r['da']}")
    for d in doc["disclosures"]:
        typer.echo(
            f"  Videregivelse til {d['recipient']} ({d['kind']}, {d['structure'] or '–'}): "
            f"{da.label(da.EFFECT, d['effect'])}; felter: {', '.join(d['fields']) or 'ingen'}"
        )


@triage_app.command("decide")
def triage_decide(
    report_ref: str,
    level: Annotated[Level, typer.Option(help="Niveau: I, II or III")],
    pillar: Annotated[Pillar, typer.Option(help="reactive, proactive or operative")],
    decided_by: Annotated[str, typer.Option("--by", help="Your initials or staff id")],
    refer: Annotated[list[str] | None, typer.Option(help="STRUCTURE:PARTNER, e.g. ssp:bkv (repeatable)")] = None,
    justification: Annotated[str, typer.Option(help="Why sharing is necessary (nødvendighed)")] = "",
    purpose: Annotated[
        Purpose, typer.Option(help="crime_prevention (investigation is always refused)")
    ] = Purpose.CRIME_PREVENTION,
) -> None:
    """Decide a report: writes `decision.made` to hub.decisions.v1; the hub does the rest."""
    settings = _settings()
    targets = []
    for item in refer or []:
        structure, _, partner = item.partition(":")
        targets.append(ReferralTarget(structure=Structure(structure.lower()), partner_id=partner))
    decision = TriageDecision(
        report_ref=report_ref,
        level=level,
        pillar=pillar,
        referrals=tuple(targets),
        justification=justification,
        purpose=purpose,
        decided_by=decided_by,
    )
    event_id = str(uuid.uuid4())
    event = new_event(
        DECISION_MADE,
        decision,
        now=datetime.now(UTC),
        source=sorted(_registry(settings).decision_sources)[0],
        event_id=event_id,
        subject=report_ref,
    )
    entry_id = _xadd(settings, streams.DECISIONS, event)
    typer.echo(f"Afgørelse sendt ({event_id}, {entry_id}). Resultatet ses med `hub triage show {report_ref}`.")


def _xadd(settings: Settings, stream: str, event: dict[str, Any]) -> str:
    from hub.bootstrap import resolve_redis
    from hub.runtime.transport import encode

    url, embedded = resolve_redis(settings)
    try:
        entry_id = redis.Redis.from_url(url).xadd(stream, encode(event))  # type: ignore[arg-type]
    finally:
        if embedded is not None:
            embedded.stop()
    return entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)


app.add_typer(policy_app, name="policy")
app.add_typer(acl_app, name="acl")
app.add_typer(deadletter_app, name="deadletter")


def main() -> None:
    try:
        app()
    except (HubError, SQLAlchemyError, redis.RedisError, OSError) as exc:
        # One line a person can act on; no traceback (it could quote data from the failure).
        typer.echo(f"hub: {type(exc).__name__}: {scrub(str(exc).splitlines()[0]) if str(exc) else ''}", err=True)
        raise SystemExit(1) from None
