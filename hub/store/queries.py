"""The query layer: typed, frozen read models of what staff look at, and the reads that make them.

Queue rows, the case view with the person's chronology, the disclosure history of a person
(right of access), and dead letters. The CLI prints them, a web workspace can render them.
Reads only: no transport types, no CloudEvents, no policy logic. Each function takes a session
(`reading(engine)` opens one); times come back timezone-aware in UTC.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from hub.schemas.report import ConcernReport
from hub.store.models import Case, DeadLetterRecord, Decision, Disclosure, Report, TriageItem
from hub.store.repository import decode_fields, subject_key

POLICE_ALERT = "police_alert"  # Straffeloven § 141
CHILDREN_NOTIFICATION = "children_notification"  # Barnets lov § 133


@contextlib.contextmanager
def reading(engine: Engine) -> Iterator[Session]:
    """A session for reads (nothing it loads is expired or written back)."""
    with Session(engine, expire_on_commit=False) as session:
        yield session


def _utc(moment: datetime | str | None) -> datetime | None:
    """Stored times as aware UTC datetimes (SQLite hands back naive ones, JSON ISO text)."""
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _at(moment: datetime | str) -> datetime:
    value = _utc(moment)
    assert value is not None
    return value


# --- read models --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reason:
    rule_id: str
    da: str
    en: str


def _reasons(raw: list[dict[str, str]] | None) -> tuple[Reason, ...]:
    return tuple(Reason(r["rule_id"], r["da"], r["en"]) for r in raw or [])


@dataclass(frozen=True, slots=True)
class QueueRow:
    """One item of a triage queue, as a list of cases shows it."""

    report_ref: str
    received_at: datetime
    source_id: str
    source_kind: str | None  # from the registry, if the caller knows it
    queue: str
    status: str  # open, decided
    suggested_level: str | None
    suggested_pillar: str | None
    categories: tuple[str, ...]
    police_alert: bool  # § 141 alert raised
    children_notification: bool  # § 133 notification issued
    assess_by: datetime | None  # the statutory deadline for the municipality's assessment
    receipt_due_by: datetime | None  # the reporter's receipt deadline
    decided_at: datetime | None
    claimed_by: str | None = None  # no claims yet (the staff workspace adds them)


@dataclass(frozen=True, slots=True)
class AssessmentView:
    """The policy's assessment of a report as it was stored."""

    queue: str | None
    suggested_level: str | None
    suggested_pillar: str | None
    notifications: tuple[str, ...]  # kinds the law required
    assess_by: datetime | None
    receipt_due_by: datetime | None
    rule_ids: tuple[str, ...]
    citations: tuple[str, ...]
    reasons: tuple[Reason, ...]
    policy_version: str


@dataclass(frozen=True, slots=True)
class DisclosureView:
    """One row of the disclosure log: what a recipient got (`effect` share: `fields`, on
    `legal_basis`) or why it got nothing (`reasons`). `kind`: referral, police_alert or
    children_notification."""

    ref: str
    report_ref: str
    recipient: str
    structure: str | None
    kind: str
    effect: str
    fields: tuple[str, ...]
    legal_basis: tuple[str, ...]
    rule_ids: tuple[str, ...]
    reasons: tuple[Reason, ...]
    purpose: str
    policy_version: str
    created_at: datetime

    @property
    def shared(self) -> bool:
        return self.effect == "share"


@dataclass(frozen=True, slots=True)
class DecisionView:
    """A triage decision and, per referral target, what was shared or why it was withheld."""

    id: int
    report_ref: str
    level: str
    pillar: str
    purpose: str
    justification: str
    decided_by: str
    decided_at: datetime
    referrals: tuple[DisclosureView, ...]


@dataclass(frozen=True, slots=True)
class ChronologyEntry:
    """One event in a person's history across cases and agencies. `kind`: report, decision,
    referral, police_alert or children_notification; `party`: the reporting source, the
    deciding staff member or the recipient; `detail`: the level of a decision, the effect of
    a disclosure (share, withhold, escalate), the queue of a report."""

    at: datetime
    kind: str
    report_ref: str
    party: str
    detail: str | None = None
    structure: str | None = None


@dataclass(frozen=True, slots=True)
class CaseView:
    """Everything about one report that a case page shows."""

    report_ref: str
    source_id: str
    source_kind: str | None
    received_at: datetime
    status: str | None  # of its triage item: open, decided
    report: ConcernReport  # as accepted
    assessment: AssessmentView
    notifications: tuple[DisclosureView, ...]  # § 141 alerts and § 133 notifications raised
    decisions: tuple[DecisionView, ...]  # oldest first
    chronology: tuple[ChronologyEntry, ...]  # the person's, across cases, oldest first


@dataclass(frozen=True, slots=True)
class DeadLetterSummary:
    """A set-aside message without its content (safe to show)."""

    id: int
    stream: str
    entry_id: str
    reason: str
    detail: str
    deliveries: int
    created_at: datetime
    payload_bytes: int
    payload_sha256: str
    replay_count: int
    replayed_at: datetime | None
    replay_entry_id: str | None


@dataclass(frozen=True, slots=True)
class PayloadField:
    """One field of a set-aside entry as it arrived. `name` is None when the stored payload
    cannot be split into fields (then `value` is the whole of it)."""

    name: bytes | None
    value: bytes


@dataclass(frozen=True, slots=True)
class DeadLetterView:
    summary: DeadLetterSummary
    payload: tuple[PayloadField, ...]  # personal data: show only on request


# --- queues -------------------------------------------------------------------------------------


def queue_rows(
    session: Session,
    queue: str | None = None,
    *,
    include_decided: bool = False,
    source_kinds: Mapping[str, str] | None = None,
) -> list[QueueRow]:
    """The triage items (open ones unless `include_decided`), oldest first."""
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
    for item, report in session.exec(query):
        assessment, source_id = report.assessment, report.source_id
        notified = {n["kind"] for n in assessment.get("notifications", [])}
        rows.append(
            QueueRow(
                report_ref=item.report_ref,
                received_at=_at(report.received_at),
                source_id=source_id,
                source_kind=kinds.get(source_id),
                queue=item.queue,
                status=item.status,
                suggested_level=item.suggested_level,
                suggested_pillar=assessment.get("suggested_pillar"),
                categories=tuple(sorted(report.payload["concern"]["categories"])),
                police_alert=POLICE_ALERT in notified,
                children_notification=CHILDREN_NOTIFICATION in notified,
                assess_by=_utc(assessment.get("assess_by")),
                receipt_due_by=_utc(assessment.get("receipt_due_by")),
                decided_at=_utc(item.decided_at),
            )
        )
    return rows


# --- the case view ------------------------------------------------------------------------------


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
        created_at=_at(d.created_at),
    )


def _assessment(a: dict[str, Any]) -> AssessmentView:
    return AssessmentView(
        queue=a.get("queue"),
        suggested_level=a.get("suggested_level"),
        suggested_pillar=a.get("suggested_pillar"),
        notifications=tuple(n["kind"] for n in a.get("notifications", [])),
        assess_by=_utc(a.get("assess_by")),
        receipt_due_by=_utc(a.get("receipt_due_by")),
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
        received_at=_at(report.received_at),
        status=item.status if item else None,
        report=ConcernReport.model_validate(report.payload),
        assessment=_assessment(report.assessment),
        notifications=tuple(v for v in log if v.kind != "referral"),
        decisions=tuple(
            DecisionView(
                id=d.id or 0,
                report_ref=d.report_ref,
                level=d.level,
                pillar=d.pillar,
                purpose=d.purpose,
                justification=d.justification,
                decided_by=d.decided_by,
                decided_at=_at(d.decided_at),
                referrals=tuple(by_decision.get(d.id, [])),
            )
            for d in decisions
        ),
        chronology=tuple(chronology(session, report.case_id, report.ref)),
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
        at = _at(r.received_at)
        entries.append((at, 0, 0, ChronologyEntry(at, "report", r.ref, r.source_id, r.queue)))
    for d in session.exec(select(Decision).where(col(Decision.report_ref).in_(refs))):
        at = _at(d.decided_at)
        entries.append((at, 1, d.id or 0, ChronologyEntry(at, "decision", d.report_ref, d.decided_by, d.level)))
    for x in session.exec(select(Disclosure).where(col(Disclosure.report_ref).in_(refs))):
        at = _at(x.created_at)
        entry = ChronologyEntry(at, x.kind, x.report_ref, x.recipient, x.effect, x.structure)
        entries.append((at, 2, x.id or 0, entry))
    # Same moment: the report before what was raised for it, a decision before its referrals.
    entries.sort(key=lambda e: (e[0], e[1], e[2]))
    return [e[3] for e in entries]


# --- the right of access ------------------------------------------------------------------------


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


# --- dead letters -------------------------------------------------------------------------------


def _summary(r: DeadLetterRecord) -> DeadLetterSummary:
    return DeadLetterSummary(
        id=r.id or 0,
        stream=r.stream,
        entry_id=r.entry_id,
        reason=r.reason,
        detail=r.detail,
        deliveries=r.deliveries,
        created_at=_at(r.created_at),
        payload_bytes=len(r.payload),
        payload_sha256=r.payload_sha256,
        replay_count=r.replay_count,
        replayed_at=_utc(r.replayed_at),
        replay_entry_id=r.replay_entry_id,
    )


def dead_letters(
    session: Session, *, stream: str | None = None, reason: str | None = None, limit: int = 100
) -> list[DeadLetterSummary]:
    """Set-aside messages, newest first, without their content."""
    query = select(DeadLetterRecord).order_by(col(DeadLetterRecord.id).desc()).limit(limit)
    if stream:
        query = query.where(DeadLetterRecord.stream == stream)
    if reason:
        query = query.where(DeadLetterRecord.reason == reason)
    return [_summary(r) for r in session.exec(query)]


def dead_letter(session: Session, record_id: int) -> DeadLetterView | None:
    """One set-aside message with its fields as they arrived (personal data: show on request)."""
    record = session.get(DeadLetterRecord, record_id)
    if record is None:
        return None
    try:
        fields = tuple(PayloadField(k, v) for k, v in decode_fields(record.payload, record.payload_encoding).items())
    except ValueError:
        fields = (PayloadField(None, record.payload),)
    return DeadLetterView(_summary(record), fields)
