"""Intake: from a raw stream entry to a stored, assessed, queued report (or a rejection).

`parse_entry` turns bytes into a typed report or a `Rejection` that says what is wrong;
`IntakeService.process` stores a whole batch in one transaction: reports, cases, triage
items, the disclosure log of alerts and notifications, outbox rows and tracking rows.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from hub.policies import Agreement, Assessment, NotificationKind, assess
from hub.policies.fields import project
from hub.registry import Registry
from hub.schemas import streams
from hub.schemas.cloudevents import EVENT_FIELD, CloudEvent, new_event
from hub.schemas.events import (
    ALERT_RAISED,
    NOTIFICATION_ISSUED,
    REPORT_ACCEPTED,
    REPORT_REJECTED,
    TRIAGE_QUEUED,
    AlertData,
    ErrorItem,
    NotificationData,
    ReceiptData,
    TriageQueued,
)
from hub.schemas.report import CONCERN_REPORTED, ConcernReport
from hub.store import repository as repo
from hub.store.db import UnitOfWork, transient_on_driver_errors
from hub.store.models import Disclosure, Report, TriageItem
from hub.transport import Entry

CLOCK_SKEW = timedelta(minutes=5)


def report_ref(source_id: str, event_id: str) -> str:
    """The hub's reference for a report: derived from its identity, so a duplicate gets the
    same one and `POST /v1/reports` can answer with it before the report is processed."""
    digest = hashlib.sha256(f"{source_id}\x00{event_id}".encode()).digest()
    return "DKE-" + base64.b32encode(digest[:8]).decode().rstrip("=")[:12]


@dataclass(frozen=True, slots=True)
class Rejection:
    code: str
    message: str
    errors: tuple[ErrorItem, ...] = ()
    event_id: str | None = None
    reasons: tuple[Any, ...] = ()


@dataclass(frozen=True, slots=True)
class ParsedReport:
    event_id: str
    source_id: str
    report: ConcernReport
    ref: str


def _errors(exc: ValidationError, prefix: str = "") -> tuple[ErrorItem, ...]:
    """Field and problem only: never the offending input (it may be personal data)."""
    items = []
    for err in exc.errors(include_input=False, include_url=False, include_context=False):
        loc = ".".join(str(p) for p in err["loc"])
        items.append(ErrorItem(field=f"{prefix}{loc}" if loc else prefix.rstrip(".") or "event", problem=err["msg"]))
    return tuple(items[:20])


def _future_dates(report: ConcernReport, now: datetime) -> tuple[ErrorItem, ...]:
    problems = []
    if report.concern.observed_at and report.concern.observed_at > now + CLOCK_SKEW:
        problems.append(ErrorItem(field="data.concern.observed_at", problem="date is in the future"))
    born = report.subject.born() if report.subject else None
    if born and born > now.date():
        problems.append(ErrorItem(field="data.subject.birth_date", problem="date is in the future"))
    return tuple(problems)


def parse_entry(entry: Entry, source_id: str, now: datetime, max_bytes: int) -> ParsedReport | Rejection:
    """Validate one intake entry written by `source_id`. Never raises for bad input."""
    raw = entry.fields.get(EVENT_FIELD.encode())
    if raw is None:
        return Rejection(
            "missing_event_field",
            "The entry has no `event` field; write the CloudEvent JSON document in a field named `event`.",
        )
    if len(raw) > max_bytes:
        return Rejection("too_large", f"The event is {len(raw)} bytes; the limit is {max_bytes}.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return Rejection("not_utf8", "The `event` field is not UTF-8 text.")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        return Rejection(
            "invalid_json", f"The `event` field is not valid JSON (line {exc.lineno}, column {exc.colno})."
        )
    if not isinstance(doc, dict):
        return Rejection("invalid_envelope", "The `event` field must hold a JSON object (a CloudEvent).")
    event_id = doc.get("id") if isinstance(doc.get("id"), str) else None
    try:
        envelope = CloudEvent[dict[str, Any]].model_validate(doc)
    except ValidationError as exc:
        return Rejection("invalid_envelope", "The CloudEvent envelope is not valid.", _errors(exc), event_id)
    if envelope.source != source_id:
        return Rejection(
            "source_mismatch",
            "The event's `source` does not match the intake stream it was "
            "written to; a source may only write to its own stream.",
            (),
            event_id,
        )
    if envelope.type != CONCERN_REPORTED:
        return Rejection("unknown_type", f"Intake accepts only events of type {CONCERN_REPORTED}.", (), event_id)
    try:
        report = ConcernReport.model_validate(envelope.data)
    except ValidationError as exc:
        return Rejection("invalid_report", "The report is not valid.", _errors(exc, "data."), event_id)
    if future := _future_dates(report, now):
        return Rejection("invalid_report", "The report is not valid.", future, event_id)
    return ParsedReport(
        event_id=envelope.id, source_id=source_id, report=report, ref=report_ref(source_id, envelope.id)
    )


@dataclass
class BatchOutcome:
    ack: list[str] = field(default_factory=list)
    accepted: int = 0
    rejected: int = 0
    duplicates: int = 0
    refs: list[str] = field(default_factory=list)


class IntakeService:
    """Stores a batch of intake entries for one source in one transaction."""

    def __init__(self, engine: Engine, registry: Registry, agreement: Agreement, max_bytes: int) -> None:
        self.engine = engine
        self.registry = registry
        self.agreement = agreement
        self.max_bytes = max_bytes

    def process(self, stream: str, entries: list[Entry], now: datetime) -> BatchOutcome:
        """Store the batch. A race with another worker on the same report is retried once:
        the retry finds the other worker's row and treats the entry as a duplicate."""
        with transient_on_driver_errors():
            try:
                return self._process(stream, entries, now)
            except IntegrityError:
                return self._process(stream, entries, now)

    def _process(self, stream: str, entries: list[Entry], now: datetime) -> BatchOutcome:
        source_id = streams.source_of_intake(stream)
        source = self.registry.source(source_id) if source_id else None
        if source is None:
            raise ValueError(f"not a configured intake stream: {stream}")
        out = BatchOutcome()
        parsed = {e.entry_id: parse_entry(e, source.id, now, self.max_bytes) for e in entries}
        with UnitOfWork(self.engine) as uow:
            s = uow.session
            done = repo.processed_ids(s, stream, [e.entry_id for e in entries])
            known = repo.reports_by_event(
                s, source.id, (p.event_id for p in parsed.values() if isinstance(p, ParsedReport))
            )
            for entry in entries:
                out.ack.append(entry.entry_id)
                if entry.entry_id in done:
                    continue  # redelivered after a crash between commit and ack
                result = parsed[entry.entry_id]
                if isinstance(result, Rejection):
                    self._reject(s, entry, source.id, result, now)
                    out.rejected += 1
                elif (existing := known.get(result.event_id)) is not None:
                    repo.add_outbox(s, streams.receipts(source.id), existing.receipt_event, now)
                    out.duplicates += 1
                    out.refs.append(existing.ref)
                else:
                    assessment = assess(result.report, source.facts, self.agreement, now)
                    if not assessment.accepted:
                        self._reject(
                            s,
                            entry,
                            source.id,
                            Rejection(
                                "unlawful_purpose",
                                "The report was refused: " + assessment.reasons[0].en,
                                (),
                                result.event_id,
                                assessment.reasons,
                            ),
                            now,
                        )
                        out.rejected += 1
                    else:
                        known[result.event_id] = self._accept(s, result, assessment, now)
                        out.accepted += 1
                        out.refs.append(result.ref)
                repo.mark_processed(s, stream, entry.entry_id, now)
            uow.commit()
        return out

    def _reject(self, s: Any, entry: Entry, source_id: str, r: Rejection, now: datetime) -> None:
        receipt = ReceiptData(
            status="rejected",
            report_event_id=r.event_id,
            code=r.code,
            message=r.message,
            errors=r.errors,
            reasons=r.reasons,
        )
        repo.add_outbox(
            s, streams.receipts(source_id), new_event(REPORT_REJECTED, receipt, now=now, subject=r.code), now
        )
        repo.add_deadletter(s, entry, r.code, r.message, now)

    def _accept(self, s: Any, p: ParsedReport, a: Assessment, now: datetime) -> Report:
        report = p.report
        case = repo.case_for(s, repo.subject_key(report.subject.cpr if report.subject else None), now)
        receipt = new_event(
            REPORT_ACCEPTED,
            ReceiptData(status="accepted", report_event_id=p.event_id, report_ref=p.ref),
            now=now,
            subject=p.ref,
        )
        row = Report(
            ref=p.ref,
            source_id=p.source_id,
            event_id=p.event_id,
            received_at=now,
            case_id=case.id,
            queue=a.queue.value if a.queue else None,
            payload=report.model_dump(mode="json"),
            assessment=a.model_dump(mode="json"),
            receipt_event=receipt,
        )
        s.add(row)
        s.flush()
        assert a.queue is not None
        s.add(TriageItem(report_ref=p.ref, queue=a.queue.value, suggested_level=a.suggested_level, created_at=now))
        queued = TriageQueued(
            report_ref=p.ref,
            queue=a.queue.value,
            source_id=p.source_id,
            categories=tuple(sorted(c.value for c in report.concern.categories)),
            suggested_level=a.suggested_level,
            suggested_pillar=a.suggested_pillar,
            notifications=tuple(n.kind.value for n in a.notifications),
            assess_by=a.assess_by,
            rule_ids=a.rule_ids,
        )
        repo.add_outbox(s, streams.triage(a.queue), new_event(TRIAGE_QUEUED, queued, now=now, subject=p.ref), now)
        for n in a.notifications:
            self._notify(s, p, a, n, case.id, now)
        repo.add_outbox(s, streams.receipts(p.source_id), receipt, now)
        return row

    def _notify(self, s: Any, p: ParsedReport, a: Assessment, n: Any, case_id: int | None, now: datetime) -> None:
        fields = project(p.report, n.fields)
        common = dict(
            report_ref=p.ref,
            fields=fields,
            rule_ids=n.rule_ids,
            policy_version=a.policy_version,
            legal_basis=tuple(c for c, r in zip(a.citations, a.rule_ids, strict=True) if r in n.rule_ids),
        )
        if n.kind is NotificationKind.POLICE_ALERT:
            stream, recipient = streams.POLICE_ALERTS, self._recipient("police")
            event = new_event(ALERT_RAISED, AlertData(**common), now=now, subject=p.ref)
        else:
            stream, recipient = streams.CHILDREN_NOTIFICATIONS, self._recipient("social_services")
            assert a.assess_by is not None
            event = new_event(
                NOTIFICATION_ISSUED,
                NotificationData(
                    **common,
                    grounds=n.grounds,
                    assess_by=a.assess_by,
                    receipt_due_by=a.receipt_due_by,
                ),
                now=now,
                subject=p.ref,
            )
        s.add(
            Disclosure(
                ref=event["id"],
                report_ref=p.ref,
                case_id=case_id,
                recipient=recipient,
                kind=n.kind.value,
                effect="share",
                fields=sorted(fields),
                legal_basis=list(common["legal_basis"]),
                rule_ids=list(n.rule_ids),
                reasons=[r.model_dump() for r in a.reasons if r.rule_id in n.rule_ids],
                purpose=p.report.purpose.value,
                policy_version=a.policy_version,
                created_at=now,
            )
        )
        repo.add_outbox(s, stream, event, now)

    def _recipient(self, kind: str) -> str:
        partner = next((p for p in self.registry.partners if p.kind.value == kind), None)
        return partner.id if partner else kind
