"""Intake: from a raw stream entry to a stored, assessed, queued report (or a rejection).

`IntakeService` supplies the intake steps of the batch pipeline (`hub.services.pipeline`):
`parse_entry` turns bytes into a typed report or a `Rejection` that says what is wrong; each
report is assessed and staged with its case, triage item, the disclosure log of alerts and
notifications and its events. The pipeline does the rest: one transaction per batch (or per
several streams' batches), tracking rows, receipts for refusals, dead letters.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import orjson
from opentelemetry.trace import SpanKind

from hub.config.registry import Registry, Source
from hub.policies import Assessment, Notification, NotificationKind, PolicyEngine
from hub.policies.assess import REFUSAL_CODES
from hub.policies.fields import project
from hub.policies.patterns import PatternFlag, PriorReport, cross_agency
from hub.policies.reporter import DUTY_CITATIONS, duty_of
from hub.schemas import streams
from hub.schemas.cloudevents import EVENT_FIELD, new_event_json
from hub.schemas.entry import Entry
from hub.schemas.events import (
    ALERT_RAISED,
    NOTIFICATION_ISSUED,
    REPORT_ACCEPTED,
    REPORT_REJECTED,
    TRIAGE_QUEUED,
    AlertData,
    NotificationData,
    Reason,
    ReceiptData,
    TriageQueued,
)
from hub.schemas.limits import DEFAULT_LIMITS, Limits
from hub.schemas.report import CONCERN_REPORTED
from hub.services.deadlines import stage_clocks
from hub.services.envelope import ParsedReport, Rejection, parse_entry
from hub.services.pipeline import Tx
from hub.services.referral_clocks import ALERT, alert_data, stage_clock
from hub.store.db import JsonText
from hub.store.lookups import subject_key
from hub.store.models import Disclosure, Report, TriageItem
from hub.store.rows import CaseRef, RowBatch
from hub.tracing import OFF, TraceContext, Tracing, context_of


def flags_planned_crime(entry: Entry) -> bool:
    """Whether an intake entry says something dangerous is planned: it names a planned offence
    (Straffeloven § 141's list) or sets `planned_serious_crime` (the same two fields as
    `hub.policies.assess.planned`). Then it is stored ahead of the batches waiting, so the police
    alert (or DKE's urgent queue) gets it in milliseconds even behind a backlog. Only a scheduling
    hint, read without validation: the policy decides from the validated report, and an entry
    that claims it falsely only gets a transaction of its own."""
    raw = entry.fields.get(EVENT_FIELD.encode())
    if raw is None or (b"planned_serious_crime" not in raw and b"planned_offence" not in raw):
        return False
    try:
        concern = orjson.loads(raw)["data"]["concern"]
        offence = concern.get("planned_offence")
        return concern.get("planned_serious_crime") is True or (isinstance(offence, str) and offence != "")
    except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
        return False


def triage_queued(p: ParsedReport, a: Assessment, pattern: PatternFlag | None = None) -> TriageQueued:
    """The triage entry of an accepted report: reference, queue, flags and rule ids only (and
    the cross-agency pattern, if any: DKE's triage is its only reader)."""
    assert a.queue is not None
    return TriageQueued(
        report_ref=p.ref,
        queue=a.queue.value,
        source_id=p.source_id,
        categories=tuple(sorted(c.value for c in p.report.concern.categories)),
        suggested_level=a.suggested_level,
        suggested_pillar=a.suggested_pillar,
        notifications=tuple(n.kind.value for n in a.notifications),
        assess_by=a.assess_by,
        rule_ids=a.rule_ids,
        reporter_duty=duty_of(a.rule_ids).value if a.assess_by is not None else None,
        pattern=Reason(rule_id=pattern.rule_id, da=pattern.da, en=pattern.en) if pattern else None,
    )


def disclosed_data(p: ParsedReport, a: Assessment, n: Notification) -> AlertData | NotificationData:
    """What a § 141 police alert or a § 133 notification discloses: the fields its rules allow,
    with their citations."""
    if n.kind is NotificationKind.POLICE_ALERT:
        return alert_data(p.ref, p.report, a, n)  # its reminder is built by the same function
    common: dict[str, Any] = dict(
        report_ref=p.ref,
        fields=project(p.report, n.fields),
        rule_ids=n.rule_ids,
        policy_version=a.policy_version,
        legal_basis=tuple(c for c, r in zip(a.citations, a.rule_ids, strict=True) if r in n.rule_ids),
    )
    assert a.assess_by is not None
    duty = duty_of(a.rule_ids)
    return NotificationData(
        **common,
        grounds=n.grounds,
        assess_by=a.assess_by,
        receipt_due_by=a.receipt_due_by,
        informed=n.informed,
        duty=duty.value,
        duty_citation=DUTY_CITATIONS[duty],
    )


class IntakeService:
    """The intake steps of the batch pipeline (`hub.services.pipeline`): entries of the intake
    streams parse to reports; each is assessed and stored with its case, triage item,
    disclosures and events, or refused."""

    rejected_type = REPORT_REJECTED

    def __init__(
        self,
        registry: Registry,
        policy: PolicyEngine,
        max_bytes: int,
        *,
        limits: Limits = DEFAULT_LIMITS,
        tracing: Tracing = OFF,
    ) -> None:
        self.registry = registry
        self.policy = policy
        self.max_bytes = max_bytes
        self.limits = limits
        self.tracing = tracing  # on: a span per report, in the report's own trace
        self._recipients: dict[str, str] = {}  # partner kind -> the partner that gets its notifications

    def receipts_for(self, stream: str) -> str | None:
        source_id = streams.source_of_intake(stream)
        return streams.receipts(source_id) if source_id and self.registry.source(source_id) else None

    def parse(self, stream: str, entries: Sequence[Entry], now: datetime) -> list[ParsedReport | Rejection]:
        source_id = self._source(stream).id
        return [parse_entry(e, source_id, now, self.max_bytes, limits=self.limits) for e in entries]

    def source_kind(self, stream: str) -> str:
        """The metrics label of the stream's sender (`pipeline.SourceKinds`): its registry kind."""
        source_id = streams.source_of_intake(stream)
        source = self.registry.source(source_id) if source_id else None
        return source.kind.value if source is not None else "unknown"

    def likely_done(self, entry: Entry) -> bool:
        # The urgent watch usually stores planned-crime entries first: the intake group looks
        # up their tracking rows even on the first attempt, lest a whole bulk transaction fail
        # and start again. The watch, usually first, does not (`look_first=False`: one round
        # trip less for the report that waits most).
        return flags_planned_crime(entry)

    def begin(self, tx: Tx) -> _IntakeStager:
        return _IntakeStager(self, tx)

    def _source(self, stream: str) -> Source:
        source_id = streams.source_of_intake(stream)
        source = self.registry.source(source_id) if source_id else None
        if source is None:
            raise ValueError(f"not a configured intake stream: {stream}")
        return source

    def _accept(
        self,
        rows: RowBatch,
        p: ParsedReport,
        a: Assessment,
        now: datetime,
        trace: TraceContext | None,
        key: str | None = None,
        pattern: PatternFlag | None = None,
    ) -> tuple[str, JsonText]:
        # Documents go from the models straight to JSON text (`JsonText`), once each. Every event
        # carries the report's trace context (`trace`); stored with the receipt, it reaches the
        # referrals of the decision made on the report (`hub.services.decisions`).
        report = p.report
        case = rows.case(key)
        _, receipt_json = new_event_json(
            REPORT_ACCEPTED,
            ReceiptData(status="accepted", report_event_id=p.event_id, report_ref=p.ref),
            now=now,
            subject=p.ref,
            trace=trace,
        )
        receipt = JsonText(receipt_json)
        assert a.queue is not None
        rows.add(
            Report,
            ref=p.ref,
            source_id=p.source_id,
            event_id=p.event_id,
            received_at=now,
            case_id=case,
            queue=a.queue.value,
            payload=JsonText(report.model_dump_json()),
            assessment=JsonText(a.model_dump_json()),
            receipt_event=receipt,
        )
        rows.add(
            TriageItem,
            report_ref=p.ref,
            queue=a.queue.value,
            suggested_level=a.suggested_level,
            created_at=now,
            pattern_rule_id=pattern.rule_id if pattern else None,
            pattern_reason_da=pattern.da if pattern else None,
        )
        stage_clocks(rows, p.ref, a, self.policy.agreement.deadline_warnings, now)
        queued = triage_queued(p, a, pattern)
        _, queued_json = new_event_json(TRIAGE_QUEUED, queued, now=now, subject=p.ref, trace=trace)
        rows.outbox(streams.triage(a.queue), JsonText(queued_json))
        for n in a.notifications:
            self._notify(rows, p, a, n, case, now, trace)
        rows.outbox(streams.receipts(p.source_id), receipt)
        return p.ref, receipt

    def _notify(
        self,
        rows: RowBatch,
        p: ParsedReport,
        a: Assessment,
        n: Notification,
        case: CaseRef,
        now: datetime,
        trace: TraceContext | None,
    ) -> None:
        data = disclosed_data(p, a, n)
        if n.kind is NotificationKind.POLICE_ALERT:
            stream, recipient, type_ = streams.POLICE_ALERTS, self._recipient("police"), ALERT_RAISED
        else:
            stream, recipient, type_ = (
                streams.CHILDREN_NOTIFICATIONS,
                self._recipient("social_services"),
                NOTIFICATION_ISSUED,
            )
        event_id, event_json = new_event_json(type_, data, now=now, subject=p.ref, trace=trace)
        rows.add(
            Disclosure,
            ref=event_id,
            report_ref=p.ref,
            case_id=case,
            recipient=recipient,
            kind=n.kind.value,
            effect="share",
            fields=sorted(data.fields),
            legal_basis=list(data.legal_basis),
            rule_ids=list(n.rule_ids),
            reasons=JsonText("[" + ",".join(r.model_dump_json() for r in a.reasons if r.rule_id in n.rule_ids) + "]"),
            purpose=p.report.purpose.value,
            policy_version=a.policy_version,
            created_at=now,
        )
        rows.outbox(stream, JsonText(event_json))
        if n.kind is NotificationKind.POLICE_ALERT:  # the police acknowledge it, or it is sent again
            within = timedelta(minutes=self.policy.agreement.straffeloven_141.acknowledge_within_minutes)
            stage_clock(rows, ALERT, p.ref, event_id, within, now)

    def _recipient(self, kind: str) -> str:
        if (found := self._recipients.get(kind)) is None:
            partner = next((p for p in self.registry.partners if p.kind.value == kind), None)
            found = self._recipients[kind] = partner.id if partner else kind
        return found


class _IntakeStager:
    """One intake transaction. `known`: (source, event id) -> (report ref, receipt) of reports
    stored before, or earlier in this transaction (also in another batch of the same stream:
    the coalescer's), so a copy gets the first one's receipt."""

    def __init__(self, service: IntakeService, tx: Tx) -> None:
        self.service = service
        self.tx = tx
        self.known: dict[tuple[str, str], tuple[str, Any]] = {}
        self.source: Source | None = None
        # The cross-agency pattern: each subject's reports within the window, as stored before
        # and as accepted in this transaction (subject key -> reports); keys by report ref.
        self.window_days = service.policy.agreement.cross_agency.window_days
        self.recent: dict[str, list[PriorReport]] = {}
        self.keys: dict[str, str | None] = {}

    def prepare(self, parsed: Sequence[tuple[str, Sequence[ParsedReport]]]) -> None:
        new_keys = set()
        for _, reports in parsed:
            for p in reports:
                key = self.keys[p.ref] = subject_key(p.report.subject.cpr if p.report.subject else None)
                if key is not None:
                    new_keys.add(key)
        if new_keys:  # one look-up for the transaction's subjects, not one per report or stream
            since = self.tx.now - timedelta(days=self.window_days)
            for key, found in self.tx.store.subject_reports(new_keys, since).items():
                self.recent[key] = [PriorReport(source_id, at) for source_id, at in found]
            for key in new_keys:
                self.recent.setdefault(key, [])

    def batch(self, stream: str, parsed: Sequence[ParsedReport]) -> None:
        self.source = source = self.service._source(stream)
        if self.tx.look_up:
            stored = self.tx.store.receipts_by_event(source.id, (p.event_id for p in parsed))
            self.known.update({(source.id, event_id): found for event_id, found in stored.items()})

    def entry(self, stream: str, entry: Entry, parsed: ParsedReport) -> None:
        tracing = self.service.tracing
        if not tracing.enabled:
            self._entry(stream, entry, parsed, parsed.trace)  # the trace received travels on as it is
            return
        # A span of the report's own trace (a new one if it came without), linked to the batch's.
        span = tracing.start(
            "hub.report",
            parent=parsed.trace,
            links=(self.tx.span,) if self.tx.span is not None else (),
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "redis",
                "messaging.operation.type": "process",
                "messaging.destination.name": stream,
                "messaging.message.id": entry.entry_id,
                "cloudevents.event_id": parsed.event_id,
                "cloudevents.event_type": CONCERN_REPORTED,
                "cloudevents.event_source": parsed.source_id,
                "hub.report_ref": parsed.ref,
            },
        )
        try:
            outcome, detail = self._entry(stream, entry, parsed, context_of(span, parsed.trace))
            span.set_attribute("hub.outcome", outcome)
            if detail:
                span.set_attribute("hub.code" if outcome == "rejected" else "hub.queue", detail)
        finally:
            span.end()

    def _entry(
        self, stream: str, entry: Entry, parsed: ParsedReport, trace: TraceContext | None
    ) -> tuple[str, str | None]:
        """Stage one report; its outcome and the queue (accepted) or code (rejected)."""
        source, tx, out = self.source, self.tx, self.tx.out
        assert source is not None
        if (existing := self.known.get((source.id, parsed.event_id))) is not None:
            tx.rows.outbox(streams.receipts(source.id), existing[1])
            out.duplicates += 1
            out.refs.append(existing[0])
            return "duplicate", None
        assessment = self.service.policy.assess(parsed.report, source.facts, tx.now)
        if not assessment.accepted:
            refusal = Rejection(
                REFUSAL_CODES[assessment.rule_ids[0]],
                "The report was refused: " + assessment.reasons[0].en,
                (),
                parsed.event_id,
                assessment.reasons,
                trace,
            )
            tx.reject(stream, entry, refusal, streams.receipts(source.id))
            return "rejected", refusal.code
        key = self.keys[parsed.ref]
        pattern = None
        if key is not None:
            pattern = cross_agency(source.id, tx.now, self.recent[key], self.window_days)
            self.recent[key].append(PriorReport(source.id, tx.now))
        self.known[source.id, parsed.event_id] = self.service._accept(
            tx.rows, parsed, assessment, tx.now, trace, key, pattern
        )
        out.accepted += 1
        out.refs.append(parsed.ref)
        return "accepted", assessment.queue.value if assessment.queue is not None else None

    def finish(self) -> None:
        pass
