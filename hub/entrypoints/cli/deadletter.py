"""`hub deadletter`: inspect and replay the messages the hub set aside (tilsidesatte beskeder).

A dead letter is an entry the hub could not use: bad input (with a rejection receipt to
the sender) or an entry that failed `max_deliveries` times. The database keeps the entry
whole; `hub.deadletter.v1` carries only a redacted record. The entry itself may hold
personal data, so `show` prints it only with `--payload`. `replay` writes the original
fields to the original stream as a new entry: the hub then processes it like any other (a
report it already has is recognised by its CloudEvent id). Both need `--by` (who) and
`--reason` (why) and are recorded in the audit chain with the time and the operating-system
account (`hub deadletter audit` lists them; `hub audit verify` proves them untouched).
Output is in Danish for DKE's staff.
"""

from __future__ import annotations

import base64
import getpass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hub.entrypoints import labels as da
from hub.entrypoints.cli.context import JsonOpt, echo_json, jsonable, opened
from hub.logs import get_logger
from hub.store import queries

if TYPE_CHECKING:
    from hub.services.replay import Accessor

log = get_logger("hub.deadletter")

app = typer.Typer(
    help="Set-aside messages (tilsidesatte beskeder, 'dead letters'): list, show, replay.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals may hold the payload
)


@app.callback()
def _deadletter() -> None:
    """Set-aside messages (tilsidesatte beskeder, 'dead letters'): list, show, replay.

    Personal data is never printed unless you ask for it with `show --payload`."""


def _field_text(value: bytes) -> dict[str, str]:
    try:
        return {"text": value.decode("utf-8")}
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(value).decode("ascii")}


def _payload(fields: tuple[queries.PayloadField, ...]) -> list[dict[str, Any]]:
    return [
        {"raw": _field_text(f.value)}
        if f.name is None
        else {"field": _field_text(f.name), "value": _field_text(f.value)}
        for f in fields
    ]


ByOpt = Annotated[
    str | None, typer.Option("--by", help="Who you are (name or initials): recorded in the audit log.")
]
ReasonOpt = Annotated[
    str | None, typer.Option("--reason", help="Why (e.g. a case or incident number): recorded in the audit log.")
]
_REFUSED = {
    "no_actor": "Angiv --by med dit navn eller dine initialer: hvem der {what}, skrives i revisionsloggen.",
    "no_reason": "Angiv --reason: hvorfor du {what} (fx et sags- eller fejlnummer). Det skrives i revisionsloggen.",
}


def _accessor(by: str | None, reason: str | None, what: str) -> Accessor:
    from hub.services.replay import Accessor, AccessRefused

    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        user = "ukendt"
    try:
        return Accessor.of(by, user, reason)
    except AccessRefused as exc:
        typer.echo(_REFUSED[exc.code].format(what=what), err=True)
        raise typer.Exit(2) from None


def _unknown(record_id: int) -> None:
    typer.echo(f"Ukendt id: {record_id} (se `hub deadletter list`).", err=True)


@app.command("list")
def list_(
    stream: Annotated[str | None, typer.Option(help="Only this stream, e.g. hub.intake.<source>.v1")] = None,
    reason: Annotated[str | None, typer.Option(help="Only this reason, e.g. max_deliveries or invalid_json")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, newest first.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """List set-aside messages, newest first (no content: see `show`)."""
    with opened() as container, queries.reading(container.engine) as session:
        rows = queries.dead_letters(session, stream=stream, reason=reason, limit=limit)
    if as_json:
        echo_json(rows)
        return
    if not rows:
        typer.echo("Ingen tilsidesatte beskeder.")
        return
    typer.echo(f"{'Id':>5}  {'Oprettet':<16}  {'Årsag':<20} {'Lev.':>4}  {'Genafspillet':<12}  Strøm / post-id")
    for r in rows:
        replayed = f"{r.replay_count} gang(e)" if r.replay_count else "nej"
        typer.echo(
            f"{r.id:>5}  {da.when(r.created_at):<16}  {r.reason:<20} {r.deliveries:>4}  {replayed:<12}  "
            f"{r.stream} / {r.entry_id}"
        )


@app.command()
def show(
    record_id: Annotated[int, typer.Argument(help="The id from `hub deadletter list`.")],
    payload: Annotated[
        bool,
        typer.Option(
            "--payload",
            help="Also print the message itself. It can hold personal data (CPR number, names, free "
            "text): use it only when you need it to decide on a replay. Needs --by and --reason; "
            "recorded in the audit log.",
        ),
    ] = False,
    by: ByOpt = None,
    reason: ReasonOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show one set-aside message: why, when, how often tried, whether replayed.

    The content (which may hold personal data) is shown only with --payload, --by and --reason."""
    from hub.services.replay import show as show_recorded

    accessor = _accessor(by, reason, "ser indholdet") if payload else None
    with opened() as container:
        if accessor is not None:
            view = show_recorded(container.engine, record_id, accessor, datetime.now(UTC))
        else:
            with queries.reading(container.engine) as session:
                view = queries.dead_letter(session, record_id)
    if view is None:
        _unknown(record_id)
        raise typer.Exit(1)
    r = view.summary
    doc = jsonable(r)
    if payload:
        doc["payload"] = _payload(view.payload)
        log.info("deadletter.payload_shown", stream=r.stream, entry_id=r.entry_id)
    if as_json:
        echo_json(doc)
        return
    typer.echo(f"Tilsidesat besked {r.id}")
    typer.echo(f"  Strøm:        {r.stream}")
    typer.echo(f"  Post-id:      {r.entry_id}")
    typer.echo(f"  Årsag:        {r.reason}: {r.detail}")
    typer.echo(f"  Leveringer:   {r.deliveries}")
    typer.echo(f"  Oprettet:     {da.when(r.created_at)}")
    typer.echo(f"  Indhold:      {r.payload_bytes} bytes, sha256 {r.payload_sha256}")
    if r.replay_count:
        typer.echo(
            f"  Genafspillet: {r.replay_count} gang(e), senest {da.when(r.replayed_at)} som post {r.replay_entry_id}"
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
    by: ByOpt = None,
    reason: ReasonOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write set-aside messages back to their stream, exactly as they arrived, as new entries.

    Do this after the cause is fixed (a bug, a missing source in the registry). The hub then
    processes them as usual; a report it already stored gets its earlier receipt again."""
    from hub.services.replay import Replayed, replay

    accessor = _accessor(by, reason, "genafspiller")
    done: list[dict[str, Any]] = []
    failed = False
    with opened() as container:
        client = container.redis()

        def xadd(stream: str, fields: dict[bytes, bytes]) -> str:
            raw_id = client.xadd(stream, fields)  # type: ignore[arg-type]
            return raw_id.decode() if isinstance(raw_id, bytes) else str(raw_id)

        for outcome in replay(container.engine, xadd, record_ids, by=accessor, again=again, now=datetime.now(UTC)):
            if isinstance(outcome, Replayed):
                log.info("deadletter.replayed", stream=outcome.stream, entry_id=outcome.entry_id)
                done.append({"id": outcome.id, "stream": outcome.stream, "entry_id": outcome.entry_id})
                continue
            failed = True
            if outcome.why == "unknown":
                _unknown(outcome.id)
            elif outcome.why == "replayed_before":
                typer.echo(
                    f"Besked {outcome.id} er allerede genafspillet ({outcome.replay_count} gang(e), senest som "
                    f"post {outcome.replay_entry_id}). Brug --again for at gøre det igen.",
                    err=True,
                )
            else:
                typer.echo(f"Besked {outcome.id} kan ikke genafspilles: {outcome.detail}.", err=True)
    if as_json:
        echo_json(done)
    else:
        for d in done:
            typer.echo(f"Besked {d['id']} genafspillet til {d['stream']} som post {d['entry_id']}.")
    if failed:
        raise typer.Exit(1)


ACTION_DA = {"show": "så indholdet", "replay": "genafspillede"}


@app.command("audit")
def audit(
    record_id: Annotated[int | None, typer.Argument(help="Only this message (id from `hub deadletter list`).")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, newest first.")] = 100,
    as_json: JsonOpt = False,
) -> None:
    """Who showed a set-aside message's content or replayed it, when and why (newest first)."""
    with opened() as container, queries.reading(container.engine) as session:
        rows = queries.dead_letter_accesses(session, deadletter_id=record_id, limit=limit)
    if as_json:
        echo_json(rows)
        return
    if not rows:
        typer.echo("Ingen har set indholdet af eller genafspillet en tilsidesat besked.")
        return
    for r in rows:
        new = f" (ny post {r.new_entry_id})" if r.new_entry_id else ""
        typer.echo(
            f"{da.when(r.at)}  {r.actor} (konto {r.os_user}) {ACTION_DA.get(r.action, r.action)} besked "
            f"{r.deadletter_id} ({r.stream} / {r.entry_id}){new}. Begrundelse: {r.reason}"
        )
