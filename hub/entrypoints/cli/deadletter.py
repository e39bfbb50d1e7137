"""`hub deadletter`: inspect and replay the messages the hub set aside (tilsidesatte beskeder).

A dead letter is an entry the hub could not use: bad input (with a rejection receipt to
the sender) or an entry that failed `max_deliveries` times. The database keeps the entry
whole; `hub.deadletter.v1` carries only a redacted record. The entry itself may hold
personal data, so `show` prints it only with `--payload`, and that is logged (ids only).
`replay` writes the original fields to the original stream as a new entry: the hub then
processes it like any other (a report it already has is recognised by its CloudEvent id).
Output is in Danish for DKE's staff.
"""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any

import redis
import typer
from sqlmodel import Session

from hub.config.settings import Settings
from hub.logs import configure, get_logger
from hub.store import repository as repo
from hub.store.models import DeadLetterRecord

log = get_logger("hub.deadletter")

app = typer.Typer(
    help="Set-aside messages (tilsidesatte beskeder, 'dead letters'): list, show, replay.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals may hold the payload
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


@app.callback()
def _deadletter() -> None:
    """Set-aside messages (tilsidesatte beskeder, 'dead letters'): list, show, replay.

    Personal data is never printed unless you ask for it with `show --payload`."""


def _settings() -> Settings:
    settings = Settings()
    configure(json=settings.log_json, level=settings.log_level)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return settings


@contextlib.contextmanager
def _session(settings: Settings) -> Iterator[Session]:
    from hub.store.db import make_engine, migrate

    migrate(settings.effective_database_url)
    engine = make_engine(settings.effective_database_url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            yield session
    finally:
        engine.dispose()


def _summary(r: DeadLetterRecord) -> dict[str, Any]:
    """Everything about a dead letter except its content: safe to print."""
    return {
        "id": r.id,
        "stream": r.stream,
        "entry_id": r.entry_id,
        "reason": r.reason,
        "detail": r.detail,
        "deliveries": r.deliveries,
        "created_at": r.created_at.isoformat(),
        "payload_bytes": len(r.payload),
        "payload_sha256": r.payload_sha256,
        "replay_count": r.replay_count,
        "replayed_at": r.replayed_at.isoformat() if r.replayed_at else None,
        "replay_entry_id": r.replay_entry_id,
    }


def _field_text(value: bytes) -> dict[str, str]:
    try:
        return {"text": value.decode("utf-8")}
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(value).decode("ascii")}


def _payload(r: DeadLetterRecord) -> list[dict[str, Any]]:
    try:
        fields = repo.decode_fields(r.payload, r.payload_encoding)
    except ValueError:
        return [{"raw": _field_text(r.payload)}]
    return [{"field": _field_text(k), "value": _field_text(v)} for k, v in fields.items()]


def _one(session: Session, record_id: int) -> DeadLetterRecord:
    record = repo.deadletter(session, record_id)
    if record is None:
        typer.echo(f"Ukendt id: {record_id} (se `hub deadletter list`).", err=True)
        raise typer.Exit(1)
    return record


@app.command("list")
def list_(
    stream: Annotated[str | None, typer.Option(help="Only this stream, e.g. hub.intake.<source>.v1")] = None,
    reason: Annotated[str | None, typer.Option(help="Only this reason, e.g. max_deliveries or invalid_json")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, newest first.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """List set-aside messages, newest first (no content: see `show`)."""
    with _session(_settings()) as session:
        rows = [_summary(r) for r in repo.deadletters(session, stream=stream, reason=reason, limit=limit)]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        typer.echo("Ingen tilsidesatte beskeder.")
        return
    typer.echo(f"{'Id':>5}  {'Oprettet':<19}  {'Årsag':<20} {'Lev.':>4}  {'Genafspillet':<12}  Strøm / post-id")
    for r in rows:
        replayed = f"{r['replay_count']} gang(e)" if r["replay_count"] else "nej"
        typer.echo(
            f"{r['id']:>5}  {r['created_at'][:19]:<19}  {r['reason']:<20} {r['deliveries']:>4}  {replayed:<12}  "
            f"{r['stream']} / {r['entry_id']}"
        )


@app.command()
def show(
    record_id: Annotated[int, typer.Argument(help="The id from `hub deadletter list`.")],
    payload: Annotated[
        bool,
        typer.Option(
            "--payload",
            help="Also print the message itself. It can hold personal data (CPR number, names, free "
            "text): use it only when you need it to decide on a replay. The lookup is logged.",
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Show one set-aside message: why, when, how often tried, whether replayed.

    The content (which may hold personal data) is shown only with --payload."""
    with _session(_settings()) as session:
        record = _one(session, record_id)
        doc = _summary(record)
        if payload:
            doc["payload"] = _payload(record)
            log.info("deadletter.payload_shown", stream=record.stream, entry_id=record.entry_id)
    if as_json:
        typer.echo(json.dumps(doc, ensure_ascii=False, indent=2))
        return
    typer.echo(f"Tilsidesat besked {doc['id']}")
    typer.echo(f"  Strøm:        {doc['stream']}")
    typer.echo(f"  Post-id:      {doc['entry_id']}")
    typer.echo(f"  Årsag:        {doc['reason']}: {doc['detail']}")
    typer.echo(f"  Leveringer:   {doc['deliveries']}")
    typer.echo(f"  Oprettet:     {doc['created_at']}")
    typer.echo(f"  Indhold:      {doc['payload_bytes']} bytes, sha256 {doc['payload_sha256']}")
    if doc["replay_count"]:
        typer.echo(
            f"  Genafspillet: {doc['replay_count']} gang(e), senest {doc['replayed_at']} "
            f"som post {doc['replay_entry_id']}"
        )
    else:
        typer.echo("  Genafspillet: nej")
    if not payload:
        typer.echo("  (Indholdet kan indeholde personoplysninger og vises kun med --payload.)")
        return
    typer.echo("  Indhold (personoplysninger, videregiv ikke):")
    for item in doc["payload"]:
        if "raw" in item:
            typer.echo(f"    {_shown(item['raw'])}")
        else:
            typer.echo(f"    {_shown(item['field'])} = {_shown(item['value'])}")


def _shown(value: dict[str, str]) -> str:
    return value["text"] if "text" in value else f"(ikke UTF-8, base64) {value['base64']}"


@app.command()
def replay(
    record_ids: Annotated[list[int], typer.Argument(help="Ids from `hub deadletter list`.")],
    again: Annotated[bool, typer.Option("--again", help="Also replay messages that were replayed before.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Write set-aside messages back to their stream, exactly as they arrived, as new entries.

    Do this after the cause is fixed (a bug, a missing source in the registry). The hub then
    processes them as usual; a report it already stored gets its earlier receipt again."""
    from hub.bootstrap import resolve_redis

    settings = _settings()
    url, embedded = resolve_redis(settings)
    client = redis.Redis.from_url(url)
    done: list[dict[str, Any]] = []
    failed = False
    try:
        with _session(settings) as session:
            for record_id in record_ids:
                # Locked (PostgreSQL) while it is written, so two operators cannot replay it twice at once.
                record = repo.deadletter(session, record_id, for_update=True)
                if record is None:
                    typer.echo(f"Ukendt id: {record_id} (se `hub deadletter list`).", err=True)
                    failed = True
                    continue
                if record.replay_count and not again:
                    typer.echo(
                        f"Besked {record_id} er allerede genafspillet ({record.replay_count} gang(e), senest som "
                        f"post {record.replay_entry_id}). Brug --again for at gøre det igen.",
                        err=True,
                    )
                    session.rollback()
                    failed = True
                    continue
                try:
                    fields = repo.decode_fields(record.payload, record.payload_encoding)
                except ValueError as exc:
                    typer.echo(f"Besked {record_id} kan ikke genafspilles: {exc}.", err=True)
                    session.rollback()
                    failed = True
                    continue
                raw_id = client.xadd(record.stream, fields)  # type: ignore[arg-type]
                new_id = raw_id.decode() if isinstance(raw_id, bytes) else str(raw_id)
                repo.record_replay(record, new_id, datetime.now(UTC))
                session.add(record)
                session.commit()
                log.info("deadletter.replayed", stream=record.stream, entry_id=new_id)
                done.append({"id": record_id, "stream": record.stream, "entry_id": new_id})
    finally:
        client.close()
        if embedded is not None:
            embedded.stop()
    if as_json:
        typer.echo(json.dumps(done, ensure_ascii=False, indent=2))
    else:
        for d in done:
            typer.echo(f"Besked {d['id']} genafspillet til {d['stream']} som post {d['entry_id']}.")
    if failed:
        raise typer.Exit(1)
