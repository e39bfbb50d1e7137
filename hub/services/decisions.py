"""Triage decisions: from `decision.made` to minimised referrals and the disclosure log.

For each referral target the policy decides share, withhold or escalate; a share publishes
`referral.issued` with exactly the allowed fields to the partner's stream, anything else
records `referral.withheld` with its reasons. All in one transaction with the decision row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from hub.config.registry import Registry
from hub.policies import Effect, PolicyEngine, Request
from hub.policies.fields import project
from hub.schemas import streams
from hub.schemas.cloudevents import CloudEvent, new_event
from hub.schemas.decision import TriageDecision
from hub.schemas.entry import Entry
from hub.schemas.events import (
    DECISION_REJECTED,
    REFERRAL_ISSUED,
    REFERRAL_WITHHELD,
    ReceiptData,
    ReferralData,
    WithheldData,
)
from hub.schemas.report import ConcernReport
from hub.services.envelope import Rejection, parse_decision
from hub.store import repository as repo
from hub.store.db import JsonText, UnitOfWork, dump_json, transient_on_driver_errors
from hub.store.models import Disclosure


class DecisionService:
    def __init__(
        self, engine: Engine, registry: Registry, policy: PolicyEngine, publish_grace: timedelta | None = None
    ) -> None:
        self.engine = engine
        self.registry = registry
        self.policy = policy
        # Set: the caller publishes the referrals after the commit (see `IntakeService`).
        self.publish_grace = publish_grace

    def process(self, stream: str, entries: list[Entry], now: datetime) -> tuple[list[str], list[repo.OutboxRow]]:
        """Store the batch; the entries to ack, and the events to publish now.

        As intake: the first attempt assumes the decisions are new and does not look first; a
        redelivered entry or a decision sent twice fails a unique constraint, and the retry
        looks up tracking rows and stored decisions."""
        with transient_on_driver_errors():
            try:
                return self._process(stream, entries, now, look_up=False)
            except IntegrityError:
                return self._process(stream, entries, now, look_up=True)

    def _process(
        self, stream: str, entries: list[Entry], now: datetime, *, look_up: bool
    ) -> tuple[list[str], list[repo.OutboxRow]]:
        with UnitOfWork(self.engine) as uow:
            s = uow.session
            done = repo.processed_ids(s, stream, [e.entry_id for e in entries]) if look_up else set()
            todo = [e for e in entries if e.entry_id not in done]
            parsed = [(e, parse_decision(e, self.registry)) for e in todo]
            reports = repo.reports_by_ref(s, (p.data.report_ref for _, p in parsed if not isinstance(p, Rejection)))
            rows = repo.RowBatch(now, self.publish_grace)
            staged: list[_Staged] = []
            for entry, p in parsed:
                if isinstance(p, Rejection):
                    self._reject(rows, entry, None, p, now)
                elif look_up and repo.decision_exists(s, p.source, p.id):
                    pass  # recorded before: acked, not done again
                elif isinstance(staged_or_problem := self._stage(p, reports, now), Rejection):
                    self._reject(rows, entry, p.source, staged_or_problem, now)
                else:
                    staged.append(staged_or_problem)
                rows.processed(stream, entry.entry_id)
            # The decisions first: their ids go into the disclosure log's rows.
            ids = repo.insert_decisions(s, [d.decision for d in staged])
            for decision_id, d in zip(ids, staged, strict=True):
                for disclosure, out_stream, text in d.disclosures:
                    rows.add(Disclosure, decision_id=decision_id, **disclosure)
                    rows.outbox(out_stream, text)
            rows.write(s)
            repo.mark_decided(s, (d.decision["report_ref"] for d in staged), now)
            uow.commit()
        return [e.entry_id for e in entries], rows.published

    def _reject(self, rows: repo.RowBatch, entry: Entry, source: str | None, r: Rejection, now: datetime) -> None:
        if source is not None:
            receipt = ReceiptData(
                status="rejected", report_event_id=r.event_id, code=r.code, message=r.message, errors=r.errors
            )
            rows.outbox(streams.receipts(source), new_event(DECISION_REJECTED, receipt, now=now, subject=r.code))
        rows.deadletter(entry, r.code, r.message)

    def _stage(
        self,
        event: CloudEvent[TriageDecision],
        reports: dict[str, tuple[dict[str, Any], int | None]],
        now: datetime,
    ) -> _Staged | Rejection:
        """The decision's row, and per referral target the policy's verdict as a disclosure
        log row and the event to publish (`referral.issued` or `referral.withheld`)."""
        d = event.data
        found = reports.get(d.report_ref)
        if found is None:
            return Rejection("unknown_report", "No report has this reference.", (), event.id)
        unknown = [t.partner_id for t in d.referrals if self.registry.partner(t.partner_id) is None]
        if unknown:
            return Rejection("unknown_partner", f"Unknown partner ids: {', '.join(sorted(unknown))}.", (), event.id)
        payload, case_id = found
        report = ConcernReport.model_validate(payload)
        staged = _Staged(
            decision={
                "source_id": event.source,
                "event_id": event.id,
                "report_ref": d.report_ref,
                "level": d.level.value,
                "pillar": d.pillar.value,
                "purpose": d.purpose.value,
                "justification": d.justification,
                "decided_by": d.decided_by,
                "decided_at": now,
            }
        )
        for target in d.referrals:
            partner = self.registry.partner(target.partner_id)
            assert partner is not None
            verdict = self.policy.disclose(
                Request(
                    report=report,
                    recipient=partner.recipient,
                    structure=target.structure,
                    purpose=d.purpose,
                    justification=d.justification,
                ),
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
            disclosure = {
                "ref": event_out["id"],
                "report_ref": d.report_ref,
                "case_id": case_id,
                "recipient": partner.id,
                "structure": verdict.structure,
                "kind": "referral",
                "effect": verdict.effect.value,
                "fields": sorted(fields),
                "legal_basis": list(verdict.citations),
                "rule_ids": list(verdict.rule_ids),
                "reasons": [r.model_dump() for r in verdict.reasons],
                "purpose": d.purpose.value,
                "policy_version": verdict.policy_version,
                "created_at": now,
            }
            # Stored as the text that is published: by the caller after the commit, if it does.
            staged.disclosures.append((disclosure, stream, JsonText(dump_json(event_out))))
        return staged


@dataclass(slots=True)
class _Staged:
    """A decision ready to insert: its row, and its disclosure log rows with their events."""

    decision: dict[str, Any]
    disclosures: list[tuple[dict[str, Any], str, JsonText]] = field(default_factory=list)
