"""Queues, the case view with the person's chronology, and the disclosure history of a person."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from hub.schemas.report import ConcernReport
from hub.store.lookups import subject_key
from hub.store.models import Case, Deadline, Decision, Disclosure, Report, TriageItem
from hub.store.queries.views import (
    CHILDREN_NOTIFICATION,
    MEETING,
    POLICE_ALERT,
    REFERRAL,
    AssessmentView,
    CaseView,
    ChronologyEntry,
    DeadlineView,
    DecisionView,
    DisclosureView,
    MeetingView,
    QueueRow,
    Reason,
    as_utc,
    utc_or_none,
)


def _reasons(raw: list[dict[str, str]] | None) -> tuple[Reason, ...]:
    return tuple(Reason(r["rule_id"], r["da"], r["en"]) for r in raw or [])


def queue_rows(
    session: Session,
    queue: str | None = None,
    *,
    include_decided: bool = False,
    source_kinds: Mapping[str, str] | None = None,
) -> list[QueueRow]:
    """The triage items (open ones unless `include_decided`), most urgent first (`by_urgency`)."""
    query = (
        select(TriageItem, Report)
        .join(Report, col(Report.ref) == col(TriageItem.report_ref))
        .order_by(col(TriageItem.created_at), col(TriageItem.id))
    )
    if queue:
        query = query.where(TriageItem.queue == queue)
    if not include_decided:
        query = query.where(TriageItem.status == "open")
    kinds = source_kinds or {}
    rows = []
    found = list(session.exec(query))
    clocks = deadlines_of(session, [item.report_ref for item, _ in found])
    for item, report in found:
        assessment, source_id = report.assessment, report.source_id
        notified = {n["kind"] for n in assessment.get("notifications", [])}
        rows.append(
            QueueRow(
                report_ref=item.report_ref,
                received_at=as_utc(report.received_at),
                source_id=source_id,
                source_kind=kinds.get(source_id),
                queue=item.queue,
                status=item.status,
                suggested_level=item.suggested_level,
                suggested_pillar=assessment.get("suggested_pillar"),
                categories=tuple(sorted(report.payload["concern"]["categories"])),
                police_alert=POLICE_ALERT in notified,
                children_notification=CHILDREN_NOTIFICATION in notified,
                assess_by=utc_or_none(assessment.get("assess_by")),
                receipt_due_by=utc_or_none(assessment.get("receipt_due_by")),
                decided_at=utc_or_none(item.decided_at),
                assessment_deadline=clocks.get((item.report_ref, "assessment")),
                receipt_deadline=clocks.get((item.report_ref, "receipt")),
                pattern_rule_id=item.pattern_rule_id,
                pattern_reason_da=item.pattern_reason_da,
                claimed_by=item.claimed_by,
                assigned_by=item.assigned_by,
            )
        )
    return sorted(rows, key=by_urgency)


# Life or health at stake first; then the individual-case queues before the area work.
QUEUE_URGENCY = {"urgent": 0, "reactive": 1, "operative": 2, "proactive": 3}
_NO_DEADLINE = datetime.max.replace(tzinfo=UTC)


def by_urgency(row: QueueRow) -> tuple[int, bool, bool, datetime, datetime, str]:
    """Urgency (the queue's, then a § 141 alert, then a § 133 notification), then the statutory
    deadline (none last), then the oldest."""
    return (
        QUEUE_URGENCY.get(row.queue, len(QUEUE_URGENCY)),
        not row.police_alert,
        not row.children_notification,
        row.assess_by or _NO_DEADLINE,
        row.received_at,
        row.report_ref,
    )


def deadlines_of(session: Session, report_refs: list[str]) -> dict[tuple[str, str], DeadlineView]:
    """The statutory clocks of these reports, in one query: (report ref, kind) -> clock. Not the
    referrals' and alerts' acknowledgement clocks (several per report: `queries.referrals`)."""
    if not report_refs:
        return {}
    query = select(Deadline).where(col(Deadline.report_ref).in_(report_refs), Deadline.ref == "")
    return {(d.report_ref, d.kind): _deadline(d) for d in session.exec(query)}


def _deadline(d: Deadline) -> DeadlineView:
    return DeadlineView(
        kind=d.kind,
        state=d.state,
        due_at=as_utc(d.due_at),
        approaching_at=as_utc(d.approaching_at),
        met_at=utc_or_none(d.met_at),
        approaching_sent_at=utc_or_none(d.approaching_sent_at),
        breached_sent_at=utc_or_none(d.breached_sent_at),
    )


def decision_view(d: Decision, referrals: Iterable[DisclosureView]) -> DecisionView:
    """A stored decision with its referrals (disclosure log rows), as the case view and the
    outcome of a decision just sent show it."""
    referrals = list(referrals)
    return DecisionView(
        id=d.id or 0,
        report_ref=d.report_ref,
        level=d.level,
        pillar=d.pillar,
        purpose=d.purpose,
        justification=d.justification,
        decided_by=d.decided_by,
        decided_at=as_utc(d.decided_at),
        referrals=tuple(r for r in referrals if r.kind != MEETING),
        description_justification=d.description_justification,
        revision_reason=d.revision_reason,
        meeting=_meeting(d.meeting, [r for r in referrals if r.kind == MEETING]),
        answers=tuple(d.answers or ()),
    )


def _meeting(stored: dict[str, Any] | None, convened: list[DisclosureView]) -> MeetingView | None:
    if not stored:
        return None
    return MeetingView(
        meeting_ref=stored["meeting_ref"],
        forum=stored["forum"],
        structure=stored["structure"],
        proposed_at=utc_or_none(stored.get("proposed_at")),
        agenda=stored.get("agenda") or "",
        convened=tuple(convened),
    )


def _disclosure(d: Disclosure) -> DisclosureView:
    return DisclosureView(
        ref=d.ref,
        report_ref=d.report_ref,
        recipient=d.recipient,
        structure=d.structure,
        kind=d.kind,
        effect=d.effect,
        fields=tuple(d.fields or ()),
        legal_basis=tuple(d.legal_basis or ()),
        rule_ids=tuple(d.rule_ids or ()),
        reasons=_reasons(d.reasons),
        purpose=d.purpose,
        policy_version=d.policy_version,
        created_at=as_utc(d.created_at),
    )


def _assessment(a: dict[str, Any]) -> AssessmentView:
    return AssessmentView(
        queue=a.get("queue"),
        suggested_level=a.get("suggested_level"),
        suggested_pillar=a.get("suggested_pillar"),
        notifications=tuple(n["kind"] for n in a.get("notifications", [])),
        assess_by=utc_or_none(a.get("assess_by")),
        receipt_due_by=utc_or_none(a.get("receipt_due_by")),
        rule_ids=tuple(a.get("rule_ids", ())),
        citations=tuple(a.get("citations", ())),
        reasons=_reasons(a.get("reasons")),
        policy_version=a.get("policy_version", ""),
    )


def case_view(session: Session, report_ref: str, *, source_kinds: Mapping[str, str] | None = None) -> CaseView | None:
    """The report with this reference, its assessment, what was raised and decided, and the
    person's chronology; None if there is no such report."""
    report = session.get(Report, report_ref)
    if report is None:
        return None
    item = session.exec(select(TriageItem).where(TriageItem.report_ref == report_ref)).first()
    stored = list(
        session.exec(select(Disclosure).where(Disclosure.report_ref == report_ref).order_by(col(Disclosure.id)))
    )
    log = [_disclosure(d) for d in stored]
    decisions = session.exec(
        select(Decision).where(Decision.report_ref == report_ref).order_by(col(Decision.decided_at), col(Decision.id))
    )
    by_decision: dict[int | None, list[DisclosureView]] = {}
    for row, view in zip(stored, log, strict=True):
        by_decision.setdefault(row.decision_id, []).append(view)
    return CaseView(
        report_ref=report.ref,
        source_id=report.source_id,
        source_kind=(source_kinds or {}).get(report.source_id),
        received_at=as_utc(report.received_at),
        status=item.status if item else None,
        report=ConcernReport.model_validate(report.payload),
        assessment=_assessment(report.assessment),
        notifications=tuple(v for v in log if v.kind not in (REFERRAL, MEETING)),
        decisions=tuple(decision_view(d, by_decision.get(d.id, [])) for d in decisions),
        chronology=tuple(chronology(session, report.case_id, report.ref)),
        deadlines=tuple(sorted(deadlines_of(session, [report.ref]).values(), key=lambda d: d.kind != "assessment")),
        pattern_rule_id=item.pattern_rule_id if item else None,
        pattern_reason_da=item.pattern_reason_da if item else None,
    )


def chronology(session: Session, case_id: int | None, report_ref: str | None = None) -> list[ChronologyEntry]:
    """Every report, decision, referral and notification about the person of this case, across
    all cases with the same subject key, oldest first. An area observation (no person) has
    only its own report's history."""
    key = session.exec(select(Case.subject_key).where(Case.id == case_id)).first() if case_id is not None else None
    if key is not None:
        case_ids = list(session.exec(select(Case.id).where(Case.subject_key == key)))
        reports = list(session.exec(select(Report).where(col(Report.case_id).in_(case_ids))))
    else:
        found = session.get(Report, report_ref) if report_ref else None
        reports = [found] if found is not None else []
    return _history(session, reports)


def _history(session: Session, reports: list[Report]) -> list[ChronologyEntry]:
    refs = [r.ref for r in reports]
    if not refs:
        return []
    entries: list[tuple[datetime, int, int, ChronologyEntry]] = []
    for r in reports:
        at = as_utc(r.received_at)
        entries.append((at, 0, 0, ChronologyEntry(at, "report", r.ref, r.source_id, r.queue)))
    for d in session.exec(select(Decision).where(col(Decision.report_ref).in_(refs))):
        at = as_utc(d.decided_at)
        entries.append((at, 1, d.id or 0, ChronologyEntry(at, "decision", d.report_ref, d.decided_by, d.level)))
    for x in session.exec(select(Disclosure).where(col(Disclosure.report_ref).in_(refs))):
        at = as_utc(x.created_at)
        entry = ChronologyEntry(at, x.kind, x.report_ref, x.recipient, x.effect, x.structure)
        entries.append((at, 2, x.id or 0, entry))
    # Same moment: the report before what was raised for it, a decision before its referrals.
    entries.sort(key=lambda e: (e[0], e[1], e[2]))
    return [e[3] for e in entries]


def disclosure_history(session: Session, cpr: str) -> list[DisclosureView]:
    """Every disclosure about the person with this (normalised) CPR number across all their
    cases, oldest first: what was shared with or withheld from whom, on which basis, when."""
    key = subject_key(cpr)
    case_ids = list(session.exec(select(Case.id).where(Case.subject_key == key)))
    if not case_ids:
        return []
    query = (
        select(Disclosure)
        .where(col(Disclosure.case_id).in_(case_ids))
        .order_by(col(Disclosure.created_at), col(Disclosure.id))
    )
    return [_disclosure(d) for d in session.exec(query)]
