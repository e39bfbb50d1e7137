"""`hub referrals`: where each referral and § 141 police alert stands after it was sent
(issued, received, accepted or declined, completed; overdue where its partner did not answer in
time). Reads through the query layer (`hub.store.queries.referrals`); Danish, Danish local time."""

from __future__ import annotations

from typing import Annotated

import typer

from hub.entrypoints import labels as da
from hub.entrypoints.cli.context import JsonOpt, echo_json, opened
from hub.store import queries
from hub.store.queries.referrals import referral_list, referral_state
from hub.store.queries.views import ReferralStateView

app = typer.Typer(
    help="Referrals and police alerts after they were sent: the partners' answers (henvisninger).",
    no_args_is_help=True,
)

_STATES = ("issued", "received", "accepted", "declined", "completed", "raised", "acknowledged", "overdue")


def state_text(v: ReferralStateView) -> str:
    """The state in Danish, with the partner's reason or outcome and whether it is overdue."""
    text = da.label(da.REFERRAL_STATE, v.state)
    if v.code:
        text += f" ({da.label(da.UPDATE_CODE, v.code)})"
    if v.overdue:
        text += " – frist overskredet"
    return text


def _line(v: ReferralStateView) -> str:
    what = da.label(da.DISCLOSURE_KIND, v.kind)
    structure = f" i {da.label(da.STRUCTURE, v.structure)}" if v.structure else ""
    updated = f", opdateret {da.when(v.updated_at)}" if v.updated_at else ""
    return (
        f"{v.report_ref}  {what}{structure} til {v.partner_id:<18} sendt {da.when(v.issued_at)}  "
        f"{state_text(v)}{updated}  [{v.ref}]"
    )


@app.command("list")
def referrals_list(
    partner: Annotated[str | None, typer.Option(help="Only this partner's (its id, e.g. bkv).")] = None,
    state: Annotated[str | None, typer.Option(help=f"Only in this state: {', '.join(_STATES)}.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
    as_json: JsonOpt = False,
) -> None:
    """List the newest referrals and police alerts with their state (newest first)."""
    if state is not None and state not in _STATES:
        typer.echo(f"Ukendt status: {state}. Kendte: {', '.join(_STATES)}.", err=True)
        raise typer.Exit(2)
    with opened() as container, queries.reading(container.engine) as session:
        rows = referral_list(session, partner_id=partner, state=state, limit=limit)
    if as_json:
        echo_json(rows)
        return
    if not rows:
        typer.echo("Ingen henvisninger.")
    for v in rows:
        typer.echo(_line(v))


@app.command("show")
def referrals_show(
    ref: Annotated[str, typer.Argument(help="The referral's (alert's) event id.")], as_json: JsonOpt = False
) -> None:
    """Show one referral or alert with every update its partner sent."""
    with opened() as container, queries.reading(container.engine) as session:
        v = referral_state(session, ref)
    if v is None:
        typer.echo(f"Ukendt henvisning: {ref}", err=True)
        raise typer.Exit(1)
    if as_json:
        echo_json(v)
        return
    typer.echo(_line(v))
    if v.due_at is not None:
        typer.echo(f"  Frist for kvittering: {da.when(v.due_at)}")
    if not v.updates:
        typer.echo("  Ingen opdateringer fra modtageren endnu.")
    for u in v.updates:
        code = f" ({da.label(da.UPDATE_CODE, u.code)})" if u.code else ""
        note = f": {u.text}" if u.text else ""
        typer.echo(f"  {da.when(u.received_at)}  {da.label(da.REFERRAL_STATE, u.state)}{code}{note}")
