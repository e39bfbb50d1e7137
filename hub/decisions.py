"""Triage decisions: from `decision.made` to minimised referrals and the disclosure log.

For each referral target the policy decides share, withhold or escalate; a share publishes
`referral.issued` with exactly the allowed fields to the partner's stream, anything else
records `referral.withheld` with its reasons. All in one transaction with the decision row.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from hub.intake import Rejection, _errors
from hub.policies import Agreement, Effect, Request, disclose
from hub.policies.fields import project
from hub.registry import Registry
from hub.schemas import streams
from hub.schemas.cloudevents import EVENT_FIELD, CloudEvent, new_event
from hub.schemas.decision import DECISION_MADE, TriageDecision
from hub.schemas.events import (
    DECISION_REJECTED,
    REFERRAL_ISSUED,
    REFERRAL_WITHHELD,
    ReceiptData,
    ReferralData,
    WithheldData,
)
from hub.schemas.report import ConcernReport
from hub.store import repository as repo
from hub.store.db import JsonText, UnitOfWork, dump_json, transient_on_driver_errors
from hub.store.models import Decision, Disclosure, Outbox
from hub.transport import Entry


def parse_decision(entry: Entry, registry: Registry) -> CloudEvent[TriageDecision] | Rejection:
    raw = entry.fields.get(EVENT_FIELD.encode())
    if raw is None:
        return Rejection("missing_event_field", "The entry has no `event` field.")
    try:
        doc = json.loads(raw.decode("utf-8"))
        event = CloudEvent[TriageDecision].model_validate(doc)
    except UnicodeDecodeError:
        return Rejection("not_utf8", "The `event` field is not UTF-8 text.")
    except json.JSONDecodeError:
        return Rejection("invalid_json", "The `event` field is not valid JSON.")
    except ValidationError as exc:
        return Rejection(
            "invalid_decision",
            "The decision is not valid.",
            _errors(exc),
            doc.get("id") if isinstance(doc, dict) and isinstance(doc.get("id"), str) else None,
        )
    if event.type != DECISION_MADE:
        return Rejection("unknown_type", f"The decisions stream accepts only {DECISION_MADE}.", (), event.id)
    if event.source not in registry.decision_sources:
        return Rejection("unknown_decision_source", "This source may not write triage decisions.", (), event.id)
    return event


class DecisionService:
    def __init__(
        self, engine: Engine, registry: Registry, agreement: Agreement, publish_grace: timedelta | None = None
    ) -> None:
        self.engine = engine
        self.registry = registry
        self.agreement = agreement
        # Set: the caller publishes the referrals after the commit (see `IntakeService`).
        self.publish_grace = publish_grace

    def process(self, stream: str, entries: list[Entry], now: datetime) -> tuple[list[str], list[repo.OutboxRow]]:
        """Store the batch; the entries to ack, and the referral events to publish now."""
        with transient_on_driver_errors():
            try:
                return self._process(stream, entries, now)
            except IntegrityError:
                return self._process(stream, entries, now)

    def _process(self, stream: str, entries: list[Entry], now: datetime) -> tuple[list[str], list[repo.OutboxRow]]:
        referrals: list[Outbox] = []  # outbox rows to publish after the commit
        with UnitOfWork(self.engine) as uow:
            s = uow.session
            done = repo.processed_ids(s, stream, [e.entry_id for e in entries])
            for entry in entries:
                if entry.entry_id in done:
                    continue
                parsed = parse_decision(entry, self.registry)
                if isinstance(parsed, Rejection):
                    self._reject(s, entry, None, parsed, now)
                elif (
                    not repo.decision_exists(s, parsed.source, parsed.id)
                    and (problem := self._record(s, parsed, now, referrals)) is not None
                ):
                    self._reject(s, entry, parsed.source, problem, now)
                repo.mark_processed(s, stream, entry.entry_id, now)
                s.flush()
            uow.commit()
        if self.publish_grace is None:
            return [e.entry_id for e in entries], []  # the relay sends them
        return [e.entry_id for e in entries], [(r.id, r.stream, str(r.event)) for r in referrals if r.id is not None]

    def _reject(self, s: Any, entry: Entry, source: str | None, r: Rejection, now: datetime) -> None:
        if source is not None:
            receipt = ReceiptData(
                status="rejected", report_event_id=r.event_id, code=r.code, message=r.message, errors=r.errors
            )
            repo.add_outbox(
                s, streams.receipts(source), new_event(DECISION_REJECTED, receipt, now=now, subject=r.code), now
            )
        repo.add_deadletter(s, entry, r.code, r.message, now)

    def _record(
        self, s: Any, event: CloudEvent[TriageDecision], now: datetime, referrals: list[Outbox]
    ) -> Rejection | None:
        d = event.data
        report_row = repo.get_report(s, d.report_ref)
        if report_row is None:
            return Rejection("unknown_report", "No report has this reference.", (), event.id)
        unknown = [t.partner_id for t in d.referrals if self.registry.partner(t.partner_id) is None]
        if unknown:
            return Rejection("unknown_partner", f"Unknown partner ids: {', '.join(sorted(unknown))}.", (), event.id)
        report = ConcernReport.model_validate(report_row.payload)
        decision = Decision(
            source_id=event.source,
            event_id=event.id,
            report_ref=d.report_ref,
            level=d.level.value,
            pillar=d.pillar.value,
            purpose=d.purpose.value,
            justification=d.justification,
            decided_by=d.decided_by,
            decided_at=now,
        )
        s.add(decision)
        s.flush()
        for target in d.referrals:
            partner = self.registry.partner(target.partner_id)
            assert partner is not None
            verdict = disclose(
                Request(
                    report=report,
                    recipient=partner.recipient,
                    structure=target.structure,
                    purpose=d.purpose,
                    justification=d.justification,
                ),
                self.agreement,
                now,
            )
            if verdict.effect is Effect.SHARE:
                fields = project(report, verdict.fields)
                data: Any = ReferralData(
                    report_ref=d.report_ref,
                    fields=fields,
                    legal_basis=verdict.citations,
                    rule_ids=verdict.rule_ids,
                    policy_version=verdict.policy_version,
                    referral_ref="",
                    structure=verdict.structure,
                    partner_id=partner.id,
                    level=d.level.value,
                    pillar=d.pillar.value,
                    purpose=d.purpose.value,
                    justification=d.justification,
                )
                event_out = new_event(REFERRAL_ISSUED, data, now=now, subject=d.report_ref)
                event_out["data"]["referral_ref"] = event_out["id"]
                stream = streams.referrals(verdict.structure, partner.id)
            else:
                fields = {}
                data = WithheldData(
                    report_ref=d.report_ref,
                    structure=verdict.structure,
                    partner_id=partner.id,
                    effect=verdict.effect.value,
                    reasons=verdict.reasons,
                    rule_ids=verdict.rule_ids,
                    policy_version=verdict.policy_version,
                )
                event_out = new_event(REFERRAL_WITHHELD, data, now=now, subject=d.report_ref)
                stream = streams.REFERRALS_WITHHELD
            s.add(
                Disclosure(
                    ref=event_out["id"],
                    report_ref=d.report_ref,
                    case_id=report_row.case_id,
                    decision_id=decision.id,
                    recipient=partner.id,
                    structure=verdict.structure,
                    kind="referral",
                    effect=verdict.effect.value,
                    fields=sorted(fields),
                    legal_basis=list(verdict.citations),
                    rule_ids=list(verdict.rule_ids),
                    reasons=[r.model_dump() for r in verdict.reasons],
                    purpose=d.purpose.value,
                    policy_version=verdict.policy_version,
                    created_at=now,
                )
            )
            # Stored as the text that is published: by the caller after the commit, if it does.
            text: Any = JsonText(dump_json(event_out))
            relay_after = now + self.publish_grace if self.publish_grace is not None else None
            referrals.append(repo.add_outbox(s, stream, text, now, relay_after))
        item = repo.triage_item(s, d.report_ref)
        if item is not None:
            item.status, item.decided_at = "decided", now
            s.add(item)
        return None
