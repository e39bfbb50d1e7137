"""`hub triage`: DKE's triage queues. `list` and `show` read through the query layer
(`hub.store.queries`); `decide` writes `decision.made` to `hub.decisions.v1` and waits for the
outcome (`hub.entrypoints.outcome`)."""

from __future__ import annotations

from typing import Annotated, Any, NoReturn

import typer
from pydantic import ValidationError

from hub.config.registry import Registry
from hub.entrypoints import labels as da
from hub.entrypoints.cli.context import JsonOpt, echo_json, jsonable, opened, source_kinds
from hub.entrypoints.cli.reporter import FEEDBACK
from hub.entrypoints.outcome import Pending, Refused, send_and_wait_sync
from hub.schemas.decision import Level, Pillar, ReferralTarget, Structure, TriageDecision
from hub.schemas.report import Purpose
from hub.store import queries
from hub.store.queries.reporter import ReporterMessageView, reporter_messages

app = typer.Typer(help="DKE's triage queues (triagekøer).", no_args_is_help=True)


def _queue(text: str | None) -> str | None:
    if text is None:
        return None
    key = da.queue_key(text)
    if key is None:
        names = ", ".join(f"{k} ({v})" for k, v in da.QUEUE.items())
        typer.echo(f"Ukendt kø: {text}. Kendte køer: {names}.", err=True)
        raise typer.Exit(2)
    return key


def _flags(row: queries.QueueRow) -> str:
    flags = [name for on, name in ((row.police_alert, "§ 141"), (row.children_notification, "§ 133")) if on]
    if row.pattern_rule_id:
        flags.append("flere myndigheder")
    return f"  [{', '.join(flags)}]" if flags else ""


def deadline_text(d: queries.DeadlineView) -> str:
    """One statutory clock in Danish: which, its state, and the time that matters."""
    text = f"{da.label(da.DEADLINE_KIND, d.kind)}: {da.label(da.DEADLINE_STATE, d.state)}"
    if d.state == "met" and d.met_at is not None:
        return f"{text} {da.when(d.met_at)} (frist {da.when(d.due_at)})"
    if d.state == "breached" and d.met_at is not None:
        return f"{text} {da.when(d.due_at)}, afsluttet {da.when(d.met_at)}"
    return f"{text}, frist {da.when(d.due_at)}"


def _deadline_short(row: queries.QueueRow) -> str:
    """The assessment clock, and the receipt clock unless it is met (by DKE's kvittering)."""
    d = row.assessment_deadline
    if d is None:
        text = f"  frist {da.when(row.assess_by)}" if row.assess_by else ""
    else:
        text = f"  frist {da.when(d.due_at)} ({da.label(da.DEADLINE_STATE, d.state)})"
    r = row.receipt_deadline
    if r is not None and r.state != "met":
        text += f"  kvittering {da.when(r.due_at)} ({da.label(da.DEADLINE_STATE, r.state)})"
    return text


@app.command("list")
def triage_list(
    queue: Annotated[
        str | None, typer.Option(help="urgent, reactive, proactive or operative (or Akut, Reaktiv, …)")
    ] = None,
    include_decided: Annotated[bool, typer.Option("--all", help="Also decided items.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """List the items in the triage queues (oldest first)."""
    key = _queue(queue)
    with opened() as container, queries.reading(container.engine) as session:
        rows = queries.queue_rows(
            session, key, include_decided=include_decided, source_kinds=source_kinds(container.registry)
        )
    if as_json:
        docs: list[dict[str, Any]] = []
        for r in rows:
            doc = jsonable(r)
            doc["notifications"] = [
                kind
                for on, kind in (
                    (r.police_alert, queries.POLICE_ALERT),
                    (r.children_notification, queries.CHILDREN_NOTIFICATION),
                )
                if on
            ]
            docs.append(doc)
        echo_json(docs)
        return
    if not rows:
        typer.echo("Ingen sager i køen.")
    for r in rows:
        typer.echo(
            f"{r.report_ref}  {da.label(da.QUEUE, r.queue):<9} {da.label(da.STATUS, r.status):<7} "
            f"niveau {r.suggested_level or '–':<4} modtaget {da.when(r.received_at)}  {r.source_id:<20} "
            f"{', '.join(da.label(da.CATEGORY, c) for c in r.categories)}{_flags(r)}{_deadline_short(r)}"
        )
        if r.pattern_reason_da:
            typer.echo(f"    ! {r.pattern_reason_da}")


@app.command("show")
def triage_show(report_ref: str, as_json: JsonOpt = False) -> None:
    """Show one report: the concern, the assessment with its reasons, what was raised and decided
    (per recipient: shared or withheld, and why), and the person's chronology."""
    with opened() as container, queries.reading(container.engine) as session:
        view = queries.case_view(session, report_ref, source_kinds=source_kinds(container.registry))
        heard = reporter_messages(session, report_ref)
    if view is None:
        typer.echo(f"Ukendt reference: {report_ref}", err=True)
        raise typer.Exit(1)
    if as_json:
        echo_json(view)
        return
    for line in render_case(view) + reporter_lines(heard):
        typer.echo(line)


def reporter_lines(heard: list[ReporterMessageView]) -> list[str]:
    """What the reporter has heard back (kvittering, tilbagemelding), in Danish."""
    if not heard:
        return ["Indberetteren har ikke fået kvittering eller tilbagemelding endnu."]
    out = ["Indberetteren har fået:"]
    for m in heard:
        what = "Kvittering" if m.kind == "acknowledgement" else f"Tilbagemelding ({da.label(FEEDBACK, m.outcome)})"
        out.append(f"  {da.when(m.sent_at)}  {what}, sendt af {m.sent_by}")
    return out


def render_case(v: queries.CaseView) -> list[str]:
    """The case view in Danish, for staff."""
    a, p = v.assessment, v.report
    kind = f" ({v.source_kind})" if v.source_kind else ""
    out = [
        f"Sag {v.report_ref} fra {v.source_id}{kind}, modtaget {da.when(v.received_at)}"
        f"  [{da.label(da.STATUS, v.status)}]",
        f"  Kø: {da.label(da.QUEUE, a.queue)}   Foreslået: {da.label(da.LEVEL, a.suggested_level)}, "
        f"{da.label(da.PILLAR, a.suggested_pillar)}",
    ]
    subject = p.subject
    who = (subject.name or subject.cpr or "ukendt") if subject else "ingen (områdeobservation)"
    out.append(f"  Person: {who}")
    out.append(f"  Kategorier: {', '.join(da.label(da.CATEGORY, c) for c in sorted(p.concern.categories))}")
    out.append(f"  Beskrivelse: {p.concern.description}")
    for n in v.notifications:
        out.append(
            f"  ! {da.label(da.NOTIFICATION, n.kind)} til {n.recipient}, {da.when(n.created_at)}: "
            f"{', '.join(n.rule_ids)}; felter: {', '.join(n.fields) or 'ingen'}"
        )
    if v.pattern_reason_da:
        out.append(f"  ! Mønster: {v.pattern_reason_da} [{v.pattern_rule_id}]")
    if v.deadlines:
        out.append("  Lovbestemte frister:")
        out += [f"    {deadline_text(d)}" for d in v.deadlines]
    else:
        if a.assess_by:
            out.append(f"  Frist for vurdering: {da.when(a.assess_by)}")
        if a.receipt_due_by:
            out.append(f"  Frist for kvittering: {da.when(a.receipt_due_by)}")
    out.append("  Begrundelser:")
    out += [f"    [{r.rule_id}] {r.da}" for r in a.reasons]
    if not v.decisions:
        out.append("  Afgørelse: endnu ingen")
    for d in v.decisions:
        out.append(
            f"  Afgørelse {da.when(d.decided_at)} af {d.decided_by}: {da.label(da.LEVEL, d.level)}, "
            f"{da.label(da.PILLAR, d.pillar)}"
        )
        out.append(f"    Nødvendighed: {d.justification}")
        if d.description_justification:
            out.append(f"    Begrundelse for at dele beskrivelsen: {d.description_justification}")
        for r in d.referrals:
            where = f"{r.recipient} i {da.label(da.STRUCTURE, r.structure)}"
            if r.shared:
                out.append(f"    Delt med {where}: {', '.join(r.fields) or 'ingen felter'}")
                out.append(f"      Hjemmel: {'; '.join(r.legal_basis)}")
            else:
                out.append(f"    {da.label(da.EFFECT, r.effect).capitalize()} for {where}:")
                out += [f"      [{x.rule_id}] {x.da}" for x in r.reasons]
    if v.chronology:
        out.append("  Personens forløb (alle sager):")
        for e in v.chronology:
            detail = da.label(da.EFFECT, e.detail) if e.kind in da.DISCLOSURE_KIND else e.detail
            if e.kind == "report":
                detail = da.label(da.QUEUE, e.detail)
            elif e.kind == "decision":
                detail = f"niveau {e.detail}"
            where = f" i {da.label(da.STRUCTURE, e.structure)}" if e.structure else ""
            out.append(
                f"    {da.when(e.at)}  {da.label(da.CHRONOLOGY, e.kind):<22} {e.report_ref}  {e.party}{where}"
                + (f" ({detail})" if detail else "")
            )
    return out


def _targets(refer: list[str], registry: Registry) -> list[ReferralTarget]:
    """`STRUCTURE:PARTNER` options as referral targets; a one-line Danish error for a bad one."""
    targets = []
    for item in refer:
        structure, _, partner = item.partition(":")
        if structure.lower() not in {s.value for s in Structure} or not partner:
            _stop(f"--refer {item}: skriv STRUKTUR:PARTNER, fx ssp:bkv (struktur: ssp, psp eller ksp).")
        if registry.partner(partner) is None:
            known = ", ".join(sorted(p.id for p in registry.partners))
            _stop(f"--refer {item}: ukendt samarbejdspartner {partner}. Kendte: {known}.")
        targets.append(ReferralTarget(structure=Structure(structure.lower()), partner_id=partner))
    return targets


def _stop(message: str, code: int = 2) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(code)


@app.command("decide")
def triage_decide(
    report_ref: str,
    level: Annotated[Level, typer.Option(help="Niveau: I, II or III")],
    pillar: Annotated[Pillar, typer.Option(help="reactive, proactive or operative")],
    decided_by: Annotated[str, typer.Option("--by", help="Your initials or staff id")],
    refer: Annotated[list[str] | None, typer.Option(help="STRUCTURE:PARTNER, e.g. ssp:bkv (repeatable)")] = None,
    justification: Annotated[str, typer.Option(help="Why sharing is necessary (nødvendighed)")] = "",
    description_reason: Annotated[
        str,
        typer.Option(
            help="Why the free-text description itself must be shared (it may hold purely private matters); "
            "without it no recipient gets the description"
        ),
    ] = "",
    purpose: Annotated[
        Purpose, typer.Option(help="crime_prevention (investigation is always refused)")
    ] = Purpose.CRIME_PREVENTION,
    revision_reason: Annotated[
        str | None, typer.Option(help="Why a decided report is decided again (a revision)")
    ] = None,
    wait: Annotated[float, typer.Option(help="Seconds to wait for the outcome (0: do not wait)")] = 15.0,
) -> None:
    """Decide a report: writes `decision.made` to hub.decisions.v1 and waits for the outcome (per
    recipient shared or withheld, or the refusal). Exit 1 if the hub refuses it, 3 if no outcome
    came within `--wait`."""
    with opened() as container:
        targets = _targets(refer or [], container.registry)
        try:
            decision = TriageDecision(
                report_ref=report_ref,
                level=level,
                pillar=pillar,
                referrals=tuple(targets),
                justification=justification,
                description_justification=description_reason,
                purpose=purpose,
                decided_by=decided_by,
                revision_reason=revision_reason,
            )
        except ValidationError as exc:
            problem = exc.errors()[0]
            _stop(f"Ugyldig afgørelse: {'.'.join(map(str, problem['loc']))}: {problem['msg']}.")
        source = sorted(container.registry.decision_sources)[0]
        outcome = send_and_wait_sync(container.redis(), container.engine, source, decision, max(wait, 0.0))
        names = {p.id: p.name for p in container.registry.partners}
    if isinstance(outcome, Refused):
        _stop(f"Afvist af hubben ({outcome.code}): {outcome.message_da}", 1)
    if isinstance(outcome, Pending):
        typer.echo(
            f"Afgørelse sendt ({outcome.event_id}), men hubben har ikke svaret endnu. "
            f"Se resultatet med `hub triage show {report_ref}`."
        )
        raise typer.Exit(0 if wait <= 0 else 3)
    if outcome.revision_reason:
        typer.echo(f"Revision: {outcome.revision_reason}")
    typer.echo(
        f"Afgjort: {da.label(da.LEVEL, outcome.level)}, {da.label(da.PILLAR, outcome.pillar)} "
        f"({da.when(outcome.decided_at)})."
    )
    for r in outcome.referrals:
        where = f"{names.get(r.recipient, r.recipient)} i {da.label(da.STRUCTURE, r.structure)}"
        if r.shared:
            typer.echo(f"  Delt med {where}: {', '.join(r.fields) or 'ingen felter'}")
        else:
            typer.echo(f"  {da.label(da.EFFECT, r.effect).capitalize()} for {where}:")
            for x in r.reasons:
                typer.echo(f"    [{x.rule_id}] {x.da}")
