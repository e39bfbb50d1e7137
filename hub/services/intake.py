"""Intake: from a raw stream entry to a stored, assessed, queued report (or a rejection).

`parse_entry` turns bytes into a typed report or a `Rejection` that says what is wrong;
`IntakeService.process` stores a whole batch in one transaction: reports, cases, triage
items, the disclosure log of alerts and notifications, outbox rows and tracking rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from hub.config.registry import Registry, Source
from hub.policies import Assessment, Notification, NotificationKind, PolicyEngine
from hub.policies.fields import project
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
    ReceiptData,
    TriageQueued,
)
from hub.services.envelope import ParsedReport, Rejection, parse_entry
from hub.store import repository as repo
from hub.store.db import JsonText, UnitOfWork, transient_on_driver_errors
from hub.store.models import Disclosure, Report, TriageItem


def flags_planned_crime(entry: Entry) -> bool:
    """Whether an intake entry says a serious crime is planned (Straffeloven § 141): then it is
    stored ahead of the batches waiting, so the police alert goes out in milliseconds even
    behind a backlog. Only a scheduling hint, read without validation: the policy decides from
    the validated report, and an entry that claims it falsely only gets a transaction of its own."""
    raw = entry.fields.get(EVENT_FIELD.encode())
    if raw is None or b"planned_serious_crime" not in raw:
        return False
    try:
        return orjson.loads(raw)["data"]["concern"]["planned_serious_crime"] is True
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return False


def triage_queued(p: ParsedReport, a: Assessment) -> TriageQueued:
    """The triage entry of an accepted report: reference, queue, flags and rule ids only."""
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
    )


def disclosed_data(p: ParsedReport, a: Assessment, n: Notification) -> AlertData | NotificationData:
    """What a § 141 police alert or a § 133 notification discloses: the fields its rules allow,
    with their citations."""
    common: dict[str, Any] = dict(
        report_ref=p.ref,
        fields=project(p.report, n.fields),
        rule_ids=n.rule_ids,
        policy_version=a.policy_version,
        legal_basis=tuple(c for c, r in zip(a.citations, a.rule_ids, strict=True) if r in n.rule_ids),
    )
    if n.kind is NotificationKind.POLICE_ALERT:
        return AlertData(**common)
    assert a.assess_by is not None
    return NotificationData(**common, grounds=n.grounds, assess_by=a.assess_by, receipt_due_by=a.receipt_due_by)


@dataclass
class BatchOutcome:
    ack: list[str] = field(default_factory=list)
    accepted: int = 0
    rejected: int = 0
    duplicates: int = 0
    refs: list[str] = field(default_factory=list)
    publish: list[repo.OutboxRow] = field(default_factory=list)  # committed: to publish now


class IntakeService:
    """Stores a batch of intake entries for one source in one transaction."""

    def __init__(
        self,
        engine: Engine,
        registry: Registry,
        policy: PolicyEngine,
        max_bytes: int,
        publish_grace: timedelta | None = None,
    ) -> None:
        self.engine = engine
        self.registry = registry
        self.policy = policy
        self.max_bytes = max_bytes
        # Set: the caller publishes each batch's events after the commit (`BatchOutcome.publish`)
        # and the relay takes over only those still unsent this long after.
        self.publish_grace = publish_grace
        self._recipients: dict[str, str] = {}  # partner kind -> the partner that gets its notifications

    def process(self, stream: str, entries: list[Entry], now: datetime) -> BatchOutcome:
        """Store one stream's batch (see `process_many`)."""
        return self.process_many([(stream, entries)], now)

    def process_many(
        self, batches: list[tuple[str, list[Entry]]], now: datetime, *, urgent_watch: bool = False
    ) -> BatchOutcome:
        """Store batches of one or more intake streams in one transaction.

        The first attempt assumes the batches are new (the usual case) and does not look up
        tracking rows and stored reports first; the unique constraints catch a redelivered
        entry, a report sent twice or another worker's race. Then everything is rolled back
        and done once more, looking first: that attempt acks what was processed and treats
        a known report as a duplicate.

        Except planned-crime entries in the intake group: the urgent watch (`urgent_watch`)
        usually stores them first, so the intake group looks up their tracking rows even on
        the first attempt, lest a whole bulk transaction fail and start again. The watch,
        usually first, does not (one round trip less for the report that waits most)."""
        with transient_on_driver_errors():
            try:
                return self._process(batches, now, look_up=False, flagged=not urgent_watch)
            except IntegrityError:
                return self._process(batches, now, look_up=True)

    def _process(
        self, batches: list[tuple[str, list[Entry]]], now: datetime, *, look_up: bool, flagged: bool = True
    ) -> BatchOutcome:
        out = BatchOutcome()
        sources = [(stream, self._source(stream), entries) for stream, entries in batches]
        parsed = [(stream, src, entries, self._parse(src, entries, now)) for stream, src, entries in sources]
        # (source, event id) -> (report ref, receipt): stored before, or earlier in this
        # transaction (also in another batch of the same stream: the coalescer's)
        known: dict[tuple[str, str], tuple[str, Any]] = {}
        with UnitOfWork(self.engine) as uow:
            rows = repo.RowBatch(now, self.publish_grace)
            for stream, source, entries, results in parsed:
                self._stage(uow.session, rows, out, known, stream, source, entries, results, now, look_up, flagged)
            rows.write(uow.session)
            uow.commit()
        out.publish = rows.published
        return out

    def _stage(
        self,
        s: Any,
        rows: repo.RowBatch,
        out: BatchOutcome,
        known: dict[tuple[str, str], tuple[str, Any]],
        stream: str,
        source: Source,
        entries: list[Entry],
        parsed: dict[str, ParsedReport | Rejection],
        now: datetime,
        look_up: bool,
        flagged: bool,
    ) -> None:
        """Add one stream's entries to the transaction's rows. `look_up`: every entry's tracking
        row and known reports first; `flagged`: the tracking rows of planned-crime entries."""
        if look_up:
            done = repo.processed_ids(s, stream, [e.entry_id for e in entries])
            stored = repo.receipts_by_event(
                s, source.id, (p.event_id for p in parsed.values() if isinstance(p, ParsedReport))
            )
            known.update({(source.id, event_id): found for event_id, found in stored.items()})
        elif flagged and (urgent := [e.entry_id for e in entries if flags_planned_crime(e)]):
            done = repo.processed_ids(s, stream, urgent)
        else:
            done = set()
        for entry in entries:
            out.ack.append(entry.entry_id)
            if entry.entry_id in done:
                continue  # redelivered after a crash between commit and ack
            result = parsed[entry.entry_id]
            if isinstance(result, Rejection):
                self._reject(rows, entry, source.id, result, now)
                out.rejected += 1
            elif (existing := known.get((source.id, result.event_id))) is not None:
                rows.outbox(streams.receipts(source.id), existing[1])
                out.duplicates += 1
                out.refs.append(existing[0])
            else:
                assessment = self.policy.assess(result.report, source.facts, now)
                if not assessment.accepted:
                    self._reject(
                        rows,
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
                    known[source.id, result.event_id] = self._accept(rows, result, assessment, now)
                    out.accepted += 1
                    out.refs.append(result.ref)
            rows.processed(stream, entry.entry_id)

    def _source(self, stream: str) -> Source:
        source_id = streams.source_of_intake(stream)
        source = self.registry.source(source_id) if source_id else None
        if source is None:
            raise ValueError(f"not a configured intake stream: {stream}")
        return source

    def _parse(self, source: Source, entries: list[Entry], now: datetime) -> dict[str, ParsedReport | Rejection]:
        return {e.entry_id: parse_entry(e, source.id, now, self.max_bytes) for e in entries}

    def _reject(self, rows: repo.RowBatch, entry: Entry, source_id: str, r: Rejection, now: datetime) -> None:
        receipt = ReceiptData(
            status="rejected",
            report_event_id=r.event_id,
            code=r.code,
            message=r.message,
            errors=r.errors,
            reasons=r.reasons,
        )
        _, receipt_json = new_event_json(REPORT_REJECTED, receipt, now=now, subject=r.code)
        rows.outbox(streams.receipts(source_id), JsonText(receipt_json))
        rows.deadletter(entry, r.code, r.message)

    def _accept(self, rows: repo.RowBatch, p: ParsedReport, a: Assessment, now: datetime) -> tuple[str, JsonText]:
        # Documents go from the models straight to JSON text (`JsonText`), once each.
        report = p.report
        case = rows.case(repo.subject_key(report.subject.cpr if report.subject else None))
        _, receipt_json = new_event_json(
            REPORT_ACCEPTED,
            ReceiptData(status="accepted", report_event_id=p.event_id, report_ref=p.ref),
            now=now,
            subject=p.ref,
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
        rows.add(TriageItem, report_ref=p.ref, queue=a.queue.value, suggested_level=a.suggested_level, created_at=now)
        _, queued_json = new_event_json(TRIAGE_QUEUED, triage_queued(p, a), now=now, subject=p.ref)
        rows.outbox(streams.triage(a.queue), JsonText(queued_json))
        for n in a.notifications:
            self._notify(rows, p, a, n, case, now)
        rows.outbox(streams.receipts(p.source_id), receipt)
        return p.ref, receipt

    def _notify(
        self, rows: repo.RowBatch, p: ParsedReport, a: Assessment, n: Notification, case: repo.CaseRef, now: datetime
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
        event_id, event_json = new_event_json(type_, data, now=now, subject=p.ref)
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

    def _recipient(self, kind: str) -> str:
        if (found := self._recipients.get(kind)) is None:
            partner = next((p for p in self.registry.partners if p.kind.value == kind), None)
            found = self._recipients[kind] = partner.id if partner else kind
        return found
