"""The case and its statutory clocks as Danish text, for `hub triage list` and `show`."""

from __future__ import annotations

from collections.abc import Mapping

from hub.entrypoints import labels as da
from hub.entrypoints.cli.meetings import meeting_lines
from hub.entrypoints.cli.referrals import state_text
from hub.entrypoints.cli.reporter import FEEDBACK
from hub.store import queries
from hub.store.queries.reporter import ReporterMessageView
from hub.store.queries.views import ReferralStateView


def deadline_text(d: queries.DeadlineView) -> str:
    """One statutory clock in Danish: which, its state, and the time that matters."""
    text = f"{da.label(da.DEADLINE_KIND, d.kind)}: {da.label(da.DEADLINE_STATE, d.state)}"
    if d.state == "met" and d.met_at is not None:
        return f"{text} {da.when(d.met_at)} (frist {da.when(d.due_at)})"
    if d.state == "breached" and d.met_at is not None:
        return f"{text} {da.when(d.due_at)}, afsluttet {da.when(d.met_at)}"
    return f"{text}, frist {da.when(d.due_at)}"


def deadline_short(row: queries.QueueRow) -> str:
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


def render_case(v: queries.CaseView, states: Mapping[str, ReferralStateView] | None = None) -> list[str]:
    """The case view in Danish, for staff; `states`: where each referral and alert stands, by its ref."""
    states = states or {}
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
        if (state := states.get(n.ref)) is not None:
            out.append(f"    Status fra modtageren: {state_text(state)}")
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
        for ans in d.answers:
            key = ans["rule_id"] + (f"@{ans['partner_id']}" if ans.get("partner_id") else "")
            out.append(
                f"    Svar på [{key}]: {ans['answer']} ({da.label(da.ANSWER_BASIS, ans['basis'])}): {ans['reason']}"
            )
        for r in d.referrals:
            where = f"{r.recipient} i {da.label(da.STRUCTURE, r.structure)}"
            if r.shared:
                out.append(f"    Delt med {where}: {', '.join(r.fields) or 'ingen felter'}")
                out.append(f"      Hjemmel: {'; '.join(r.legal_basis)}")
                if (state := states.get(r.ref)) is not None:
                    out.append(f"      Status fra modtageren: {state_text(state)}")
            else:
                out.append(f"    {da.label(da.EFFECT, r.effect).capitalize()} for {where}:")
                out += [f"      [{x.rule_id}] {x.da}" for x in r.reasons]
        if d.meeting is not None:
            out += ["    " + line for line in meeting_lines(d.meeting)]
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


def reporter_lines(heard: list[ReporterMessageView]) -> list[str]:
    """What the reporter has heard back (kvittering, tilbagemelding), in Danish."""
    if not heard:
        return ["Indberetteren har ikke fået kvittering eller tilbagemelding endnu."]
    out = ["Indberetteren har fået:"]
    for m in heard:
        what = "Kvittering" if m.kind == "acknowledgement" else f"Tilbagemelding ({da.label(FEEDBACK, m.outcome)})"
        out.append(f"  {da.when(m.sent_at)}  {what}, sendt af {m.sent_by}")
    return out
