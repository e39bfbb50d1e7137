"""`hub triage`: DKE's triage queues. `list` and `show` read through the query layer
(`hub.store.queries`); `decide` writes `decision.made` to `hub.decisions.v1` and waits for the
outcome (`hub.entrypoints.outcome`)."""

from __future__ import annotations

from typing import Annotated, Any, NoReturn

import typer
from pydantic import ValidationError

from hub.config.registry import Registry
from hub.entrypoints import labels as da
from hub.entrypoints.cli.answers import (
    ANSWER_HELP,
    BASIS_HELP,
    REASON_HELP,
    AnswerError,
    answered_lines,
    parse_answers,
    question_lines,
)
from hub.entrypoints.cli.case_text import deadline_short, render_case, reporter_lines
from hub.entrypoints.cli.context import JsonOpt, echo_json, jsonable, opened, source_kinds
from hub.entrypoints.cli.meetings import meeting_lines, meeting_option
from hub.entrypoints.outcome import Pending, Refused, send_and_wait_sync
from hub.schemas.decision import Level, Pillar, ReferralTarget, Structure, TriageDecision
from hub.schemas.report import Purpose
from hub.store import queries
from hub.store.queries.referrals import referral_states
from hub.store.queries.reporter import reporter_messages

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
            f"{', '.join(da.label(da.CATEGORY, c) for c in r.categories)}{_flags(r)}{deadline_short(r)}"
        )
        if r.pattern_reason_da:
            typer.echo(f"    ! {r.pattern_reason_da}")


@app.command("show")
def triage_show(report_ref: str, as_json: JsonOpt = False) -> None:
    """Show one report: the concern, the assessment with its reasons, what was raised and decided
    (per recipient: shared or withheld, and why), and the person's chronology."""
    with opened() as container, queries.reading(container.engine) as session:
        view = queries.case_view(session, report_ref, source_kinds=source_kinds(container.registry))
        states = {s.ref: s for s in referral_states(session, [report_ref]).get(report_ref, [])}
        heard = reporter_messages(session, report_ref)
    if view is None:
        typer.echo(f"Ukendt reference: {report_ref}", err=True)
        raise typer.Exit(1)
    if as_json:
        echo_json(view)
        return
    for line in render_case(view, states) + reporter_lines(heard):
        typer.echo(line)


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
    meeting: Annotated[
        bool, typer.Option(help="Convene the level's meeting (Niveau I/II: its standing participants; III: --convene)")
    ] = False,
    convene: Annotated[
        list[str] | None,
        typer.Option(help="Partner id to convene to the level's meeting, e.g. bkv (repeatable; implies --meeting)"),
    ] = None,
    meeting_structure: Annotated[
        str | None,
        typer.Option(help="ssp, psp or ksp: the cooperation the meeting shares in (default: the referrals' one)"),
    ] = None,
    meeting_at: Annotated[
        str | None, typer.Option(help="Proposed time of the meeting, YYYY-MM-DD HH:MM (Danish time)")
    ] = None,
    agenda: Annotated[str, typer.Option(help="What the meeting is for")] = "",
    answer: Annotated[list[str] | None, typer.Option(help=ANSWER_HELP)] = None,
    answer_reason: Annotated[list[str] | None, typer.Option(help=REASON_HELP)] = None,
    answer_basis: Annotated[list[str] | None, typer.Option(help=BASIS_HELP)] = None,
    wait: Annotated[float, typer.Option(help="Seconds to wait for the outcome (0: do not wait)")] = 15.0,
) -> None:
    """Decide a report: writes `decision.made` to hub.decisions.v1 and waits for the outcome (per
    recipient shared or withheld, or the refusal). Exit 1 if the hub refuses it, 3 if no outcome
    came within `--wait`."""
    with opened() as container:
        targets = _targets(refer or [], container.registry)
        planned = meeting_option(meeting, convene or [], meeting_structure, meeting_at, agenda)
        try:
            answers = parse_answers(answer or [], answer_reason or [], answer_basis or [], targets)
        except AnswerError as exc:
            _stop(str(exc))
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
                meeting=planned,
                answers=answers,
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
            for line in answered_lines(r.rule_ids, outcome.decided_by):
                typer.echo(line)
        else:
            typer.echo(f"  {da.label(da.EFFECT, r.effect).capitalize()} for {where}:")
            for x in r.reasons:
                typer.echo(f"    [{x.rule_id}] {x.da}")
            for line in question_lines(r.rule_ids, r.recipient) if r.effect == "escalate" else []:
                typer.echo(line)
    if outcome.meeting is not None:
        for line in meeting_lines(outcome.meeting, names):
            typer.echo(f"  {line}")
