"""Triage decisions: from `decision.made` to minimised referrals and the disclosure log.

For each referral target the policy decides share, withhold or escalate; a share publishes
`referral.issued` with exactly the allowed fields to the partner's stream, anything else
records `referral.withheld` with its reasons. All in one transaction with the decision row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from opentelemetry.trace import SpanKind

from hub.config.registry import Registry
from hub.policies import Disclosure as PolicyVerdict
from hub.policies import Effect, PolicyEngine, Request
from hub.policies.fields import project
from hub.schemas import streams
from hub.schemas.cloudevents import CloudEvent, new_event
from hub.schemas.decision import DECISION_MADE, ReferralTarget, TriageDecision
from hub.schemas.entry import Entry
from hub.schemas.events import (
    DECISION_REJECTED,
    REFERRAL_ISSUED,
    REFERRAL_WITHHELD,
    ReferralData,
    WithheldData,
)
from hub.schemas.limits import DEFAULT_LIMITS, Limits
from hub.schemas.report import ConcernReport
from hub.services.deadlines import ASSESSMENT
from hub.services.envelope import Rejection, parse_decision
from hub.services.pipeline import Tx
from hub.store.batch import StoredReport
from hub.store.db import JsonText, dump_json
from hub.store.models import Disclosure
from hub.tracing import OFF, TraceContext, Tracing, context_of


class DecisionService:
    """The decision steps of the batch pipeline (`hub.services.pipeline`): entries of
    `hub.decisions.v1` parse to decisions; each is stored with the policy's verdict per referral
    target, or refused (its receipt goes to the deciding source, if the event names a known one)."""

    rejected_type = DECISION_REJECTED
    wake_relay = True  # rejections and withheld referrals are left to the relay

    def __init__(
        self, registry: Registry, policy: PolicyEngine, *, limits: Limits = DEFAULT_LIMITS, tracing: Tracing = OFF
    ) -> None:
        self.registry = registry
        self.policy = policy
        self.limits = limits
        self.tracing = tracing  # on: a span per decision, in the trace of the report decided on

    def receipts_for(self, stream: str) -> str | None:
        """An entry that does not parse names no source; but where one system alone may write
        decisions, the refusal goes to it, so that its staff see it (not only the dead letters)."""
        only = sorted(self.registry.decision_sources)
        return streams.receipts(only[0]) if len(only) == 1 else None

    def parse(
        self, stream: str, entries: Sequence[Entry], now: datetime
    ) -> list[CloudEvent[TriageDecision] | Rejection]:
        return [parse_decision(e, self.registry, now=now, limits=self.limits) for e in entries]

    def likely_done(self, entry: Entry) -> bool:
        return False

    def begin(self, tx: Tx) -> _DecisionStager:
        return _DecisionStager(self, tx)

    def verdict(self, report: ConcernReport, d: TriageDecision, target: ReferralTarget, now: datetime) -> PolicyVerdict:
        """The policy's verdict for one referral target of a decision: what the decision stores
        and publishes, and what a preview shows (the same call, so they cannot differ)."""
        partner = self.registry.partner(target.partner_id)
        assert partner is not None
        request = Request(
            report=report,
            recipient=partner.recipient,
            structure=target.structure,
            purpose=d.purpose,
            justification=d.justification,
            description_justification=d.description_justification,
        )
        return self.policy.disclose(request, now)

    def preview(self, payload: dict[str, Any], d: TriageDecision, now: datetime) -> list[Preview] | Rejection:
        """What each referral target of `d` would receive (the projected fields) or why it would
        not, for the stored report `payload`; a Rejection where the decision would be refused."""
        unknown = [t.partner_id for t in d.referrals if self.registry.partner(t.partner_id) is None]
        if unknown:
            return Rejection("unknown_partner", f"Unknown partner ids: {', '.join(sorted(unknown))}.", ())
        report = ConcernReport.model_validate(payload)
        out = []
        for target in d.referrals:
            verdict = self.verdict(report, d, target, now)
            shared = {}
            if verdict.effect is Effect.SHARE:
                shared = project(report, verdict.fields, verdict.withheld_categories)
            out.append(Preview(target, verdict, shared))
        return out

    def _stage(
        self,
        event: CloudEvent[TriageDecision],
        reports: dict[str, StoredReport],
        now: datetime,
        decided: set[str] | frozenset[str] = frozenset(),
    ) -> _Staged | Rejection:
        """`_stage_in` in a span of the report's trace, when tracing is on."""
        found = reports.get(event.data.report_ref)
        trace, other = report_trace(found), event.trace
        if trace is None:  # a report stored without a trace context: the decision's own, if any
            trace, other = other, None
        if not self.tracing.enabled:
            return self._stage_in(event, found, now, trace, decided)  # the report's trace travels on to the referrals
        span = self.tracing.start(
            "hub.decision",
            parent=trace,
            links=(other,) if other is not None else (),  # the trace the decision was made in
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "redis",
                "messaging.operation.type": "process",
                "messaging.destination.name": streams.DECISIONS,
                "cloudevents.event_id": event.id,
                "cloudevents.event_type": DECISION_MADE,
                "cloudevents.event_source": event.source,
                "hub.report_ref": event.data.report_ref,
                "hub.referrals": len(event.data.referrals),
            },
        )
        try:
            staged = self._stage_in(event, found, now, context_of(span, trace), decided)
            span.set_attribute("hub.outcome", "rejected" if isinstance(staged, Rejection) else "accepted")
            if isinstance(staged, Rejection):
                span.set_attribute("hub.code", staged.code)
            return staged
        finally:
            span.end()

    def _stage_in(
        self,
        event: CloudEvent[TriageDecision],
        found: StoredReport | None,
        now: datetime,
        trace: TraceContext | None,
        decided: set[str] | frozenset[str] = frozenset(),
    ) -> _Staged | Rejection:
        """The decision's row, and per referral target the policy's verdict as a disclosure
        log row and the event to publish (`referral.issued` or `referral.withheld`), in `trace`."""
        d = event.data
        if found is None:
            return Rejection("unknown_report", "No report has this reference.", (), event.id, trace=trace)
        unknown = [t.partner_id for t in d.referrals if self.registry.partner(t.partner_id) is None]
        if unknown:
            return Rejection(
                "unknown_partner", f"Unknown partner ids: {', '.join(sorted(unknown))}.", (), event.id, trace=trace
            )
        if d.report_ref in decided and not d.revision_reason:
            message = "The report is decided already; a new decision must be a revision with a reason."
            return Rejection("already_decided", message, (), event.id, trace=trace)
        payload, case_id, _ = found
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
                "description_justification": d.description_justification,
                "decided_by": d.decided_by,
                "decided_at": now,
                "revision_reason": d.revision_reason,
            }
        )
        for target in d.referrals:
            partner = self.registry.partner(target.partner_id)
            assert partner is not None
            verdict = self.verdict(report, d, target, now)
            if verdict.effect is Effect.SHARE:
                fields = project(report, verdict.fields, verdict.withheld_categories)
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
                    revision_reason=d.revision_reason,
                )
                event_out = new_event(REFERRAL_ISSUED, data, now=now, subject=d.report_ref, trace=trace)
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
                    revision_reason=d.revision_reason,
                )
                event_out = new_event(REFERRAL_WITHHELD, data, now=now, subject=d.report_ref, trace=trace)
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


def report_trace(found: StoredReport | None) -> TraceContext | None:
    """The trace context of a stored report: its receipt's (the receipt carries the report's)."""
    receipt = found[2] if found is not None else None
    if isinstance(receipt, str):  # JSON text not read back from the database yet
        receipt = orjson.loads(receipt)
    return TraceContext.in_event(receipt)


@dataclass(frozen=True, slots=True)
class Preview:
    """One referral target's verdict in a preview, with the fields it would receive."""

    target: ReferralTarget
    verdict: PolicyVerdict
    fields: dict[str, Any]


@dataclass(slots=True)
class _Staged:
    """A decision ready to insert: its row, and its disclosure log rows with their events."""

    decision: dict[str, Any]
    disclosures: list[tuple[dict[str, Any], str, JsonText]] = field(default_factory=list)


class _DecisionStager:
    """One decisions transaction: the decisions are inserted first (their ids go into the
    disclosure log's rows), then the triage items are marked decided and their assessment clocks
    met (`hub.services.deadlines`): one statement each for the whole batch."""

    def __init__(self, service: DecisionService, tx: Tx) -> None:
        self.service = service
        self.tx = tx
        self.reports: dict[str, StoredReport] = {}
        self.decided: set[str] = set()  # decided before this batch, or by an earlier entry of it
        self.staged: list[_Staged] = []

    def prepare(self, parsed: Sequence[tuple[str, Sequence[CloudEvent[TriageDecision]]]]) -> None:
        """Nothing: decisions come on one stream, looked up in `batch`."""

    def batch(self, stream: str, parsed: Sequence[CloudEvent[TriageDecision]]) -> None:
        self.reports.update(self.tx.store.reports_by_ref(p.data.report_ref for p in parsed))
        self.decided |= self.tx.store.decided_refs(p.data.report_ref for p in parsed)

    def entry(self, stream: str, entry: Entry, parsed: CloudEvent[TriageDecision]) -> None:
        tx = self.tx
        # Recorded before: acked, not done again. A decided report is looked up at once, so that a
        # redelivered decision is not mistaken for a second one (`already_decided`).
        looked_up = tx.look_up or parsed.data.report_ref in self.decided
        if looked_up and tx.store.decision_exists(parsed.source, parsed.id):
            return
        staged = self.service._stage(parsed, self.reports, tx.now, self.decided)
        if isinstance(staged, Rejection):
            tx.reject(stream, entry, staged, streams.receipts(parsed.source))
        else:
            self.decided.add(parsed.data.report_ref)
            self.staged.append(staged)
            tx.out.accepted += 1

    def finish(self) -> None:
        store, rows = self.tx.store, self.tx.rows
        ids = store.insert_decisions([d.decision for d in self.staged])
        for decision_id, d in zip(ids, self.staged, strict=True):
            for disclosure, out_stream, text in d.disclosures:
                rows.add(Disclosure, decision_id=decision_id, **disclosure)
                rows.outbox(out_stream, text)
        decided = [d.decision["report_ref"] for d in self.staged]
        store.mark_decided(decided, self.tx.now)
        store.meet_deadlines(decided, ASSESSMENT, self.tx.now)  # the 24-hour assessment is recorded
