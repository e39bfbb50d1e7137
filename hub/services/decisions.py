"""Triage decisions: from `decision.made` to minimised referrals and the disclosure log.

For each referral target the policy decides share, withhold or escalate; a share publishes
`referral.issued` with exactly the allowed fields to the partner's stream, anything else
records `referral.withheld` with its reasons. A decision that convenes the meeting of its level
asks the same for each convened partner (`hub.services.meetings`: `meeting.convened` or
`meeting.withheld`, disclosure log kind `meeting`). All in one transaction with the decision row.
The same stream carries staff actions for the reporter (`acknowledgement.requested`,
`feedback.requested`), staged here in order with the decisions by `hub.services.reporter`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import orjson
from opentelemetry.trace import SpanKind

from hub.config.registry import Registry
from hub.policies import Disclosure as PolicyVerdict
from hub.policies import Effect, PolicyEngine, Request
from hub.policies.fields import project
from hub.policies.meetings import MeetingPlan, MeetingRefusal, plan_meeting
from hub.schemas import streams
from hub.schemas.cloudevents import CloudEvent, new_event
from hub.schemas.decision import DECISION_MADE, ReferralTarget, TriageDecision
from hub.schemas.entry import Entry
from hub.schemas.events import (
    DECISION_REJECTED,
    REFERRAL_ISSUED,
    REFERRAL_WITHHELD,
    AnswerNote,
    ErrorItem,
    ReferralData,
    WithheldData,
)
from hub.schemas.limits import DEFAULT_LIMITS, Limits
from hub.schemas.report import ConcernReport
from hub.services import answers, meetings, reporter
from hub.services.deadlines import ASSESSMENT
from hub.services.envelope import Rejection, StaffAction, StaffEvent, parse_staff_event
from hub.services.pipeline import Tx
from hub.services.referral_clocks import REFERRAL, stage_clock
from hub.store.batch import ReporterThread, StoredReport
from hub.store.db import JsonText, dump_json
from hub.store.models import Disclosure
from hub.tracing import OFF, TraceContext, Tracing, context_of


class DecisionService:
    """The decision steps of the batch pipeline (`hub.services.pipeline`): entries of
    `hub.decisions.v1` parse to decisions (or staff actions for the reporter); each decision is
    stored with the policy's verdict per referral target, or refused (its receipt goes to the
    deciding source, if the event names a known one)."""

    rejected_type = DECISION_REJECTED

    def __init__(
        self, registry: Registry, policy: PolicyEngine, *, limits: Limits = DEFAULT_LIMITS, tracing: Tracing = OFF
    ) -> None:
        self.registry = registry
        self.policy = policy
        self.limits = limits
        self.tracing = tracing  # on: a span per decision, in the trace of the report decided on
        self.meeting_members = registry.meeting_members()  # of each level's meeting (`[meetings]`)
        self.replies = reporter.ReporterReplies(registry)  # the reporter's kvittering and feedback

    def receipts_for(self, stream: str) -> str | None:
        """An entry that does not parse names no source; but where one system alone may write
        decisions, the refusal goes to it, so that its staff see it (not only the dead letters)."""
        only = sorted(self.registry.decision_sources)
        return streams.receipts(only[0]) if len(only) == 1 else None

    def parse(self, stream: str, entries: Sequence[Entry], now: datetime) -> list[StaffEvent | Rejection]:
        return [parse_staff_event(e, self.registry, now=now, limits=self.limits) for e in entries]

    def likely_done(self, entry: Entry) -> bool:
        return False

    def begin(self, tx: Tx) -> _DecisionStager:
        return _DecisionStager(self, tx)

    def verdict(
        self,
        report: ConcernReport,
        d: TriageDecision,
        target: ReferralTarget,
        now: datetime,
        answered: dict[str, str] | None = None,
    ) -> PolicyVerdict:
        """The policy's verdict for one referral target of a decision: what the decision stores
        and publishes, and what a preview shows (the same call, so they cannot differ). With the
        decision's answers that apply to the target, unless `answered` is given ({}: none)."""
        partner = self.registry.partner(target.partner_id)
        assert partner is not None
        request = Request(
            report=report,
            recipient=partner.recipient,
            structure=target.structure,
            purpose=d.purpose,
            justification=d.justification,
            description_justification=d.description_justification,
            answers=answers.for_target(d, target.partner_id) if answered is None else answered,
        )
        return self.policy.disclose(request, now)

    def meeting_plan(self, d: TriageDecision) -> MeetingPlan | Rejection | None:
        """Who `d`'s meeting convenes, in which structure (`hub.policies.meetings`); a Rejection
        where the meeting cannot be convened as asked; None when the decision convenes none."""
        if d.meeting is None:
            return None
        plan = plan_meeting(d.level, d.meeting, d.referrals, self.meeting_members)
        if isinstance(plan, MeetingRefusal):
            errors = tuple(ErrorItem(field="meeting.convene", problem=f"{p}: {plan.code}") for p in plan.partner_ids)
            return Rejection(plan.code, plan.message, errors)
        return plan

    def preview_meeting(self, payload: dict[str, Any], d: TriageDecision, now: datetime) -> list[Preview] | Rejection:
        """What each partner `d`'s meeting convenes would receive, or why not (empty: no meeting)."""
        plan = self.meeting_plan(d)
        if plan is None or isinstance(plan, Rejection):
            return plan or []
        report = ConcernReport.model_validate(payload)
        out = []
        for target in meetings.targets(plan):
            verdict = self.verdict(report, d, target, now)
            shared = {}
            if verdict.effect is Effect.SHARE:
                shared = project(report, verdict.fields, verdict.withheld_categories)
            out.append(Preview(target, verdict, shared))
        return out

    def asked(self, report: ConcernReport, d: TriageDecision, now: datetime) -> dict[str, answers.Asked]:
        """The questions the decision's referral targets ask a person (their verdicts without
        answers), each once, by key (`RULE_ID` or `RULE_ID@partner`)."""
        derived = self.policy.derived
        return answers.merged(
            q for t in d.referrals for q in answers.asked_by(self.verdict(report, d, t, now, {}), derived)
        )

    def questions(self, payload: dict[str, Any], d: TriageDecision, now: datetime) -> dict[str, answers.Asked]:
        """`asked` for a stored report's payload (the decide form shows them before a preview)."""
        if any(self.registry.partner(t.partner_id) is None for t in d.referrals):
            return {}
        return self.asked(ConcernReport.model_validate(payload), d, now)

    def check_answers(self, report: ConcernReport, d: TriageDecision, now: datetime) -> Rejection | None:
        """The decision's answers answer only questions its targets ask, with allowed values and
        reasons (`hub.services.answers.check`); no answers: nothing to check."""
        if not d.answers:
            return None
        return answers.check(d, self.asked(report, d, now), self.policy.derived.min_justification_chars)

    def preview(self, payload: dict[str, Any], d: TriageDecision, now: datetime) -> list[Preview] | Rejection:
        """What each referral target of `d` would receive (the projected fields) or why it would
        not, for the stored report `payload`; a Rejection where the decision would be refused."""
        unknown = [t.partner_id for t in d.referrals if self.registry.partner(t.partner_id) is None]
        if unknown:
            return Rejection("unknown_partner", f"Unknown partner ids: {', '.join(sorted(unknown))}.", ())
        report = ConcernReport.model_validate(payload)
        if (refused := self.check_answers(report, d, now)) is not None:
            return refused
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
        plan = self.meeting_plan(d)
        if isinstance(plan, Rejection):
            return Rejection(plan.code, plan.message, plan.errors, event.id, trace=trace)
        payload, case_id, _ = found
        report = ConcernReport.model_validate(payload)
        if (refused := self.check_answers(report, d, now)) is not None:
            return Rejection(refused.code, refused.message, refused.errors, event.id, trace=trace)
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
                # The meeting's reference is the decision event's id: one per decision.
                "meeting": meetings.meeting_record(plan, d.meeting, event.id) if plan and d.meeting else None,
                # Who answered is `decided_by`; the reasons stay here, not in partners' events.
                "answers": [a.model_dump(mode="json") for a in d.answers] or None,
            }
        )
        for target in d.referrals:
            partner = self.registry.partner(target.partner_id)
            assert partner is not None
            verdict = self.verdict(report, d, target, now)
            answered = answers.notes(d, partner.id, verdict) if d.answers else ()
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
                    answers=answered,
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
                    answers=answered,
                )
                event_out = new_event(REFERRAL_WITHHELD, data, now=now, subject=d.report_ref, trace=trace)
                stream = streams.REFERRALS_WITHHELD
            disclosure = log_row(d, verdict, event_out["id"], case_id, partner.id, "referral", fields, now, answered)
            # Stored as the text that is published: by the caller after the commit, if it does.
            staged.disclosures.append((disclosure, stream, JsonText(dump_json(event_out))))
        if plan is not None:  # the meeting's invitations: logged and published like referrals
            for inv in meetings.invitations(
                report, d, plan, event.id, lambda t: self.verdict(report, d, t, now), now, trace
            ):
                row = log_row(d, inv.verdict, inv.event["id"], case_id, inv.partner_id, meetings.KIND, inv.fields, now)
                staged.disclosures.append((row, inv.stream, JsonText(dump_json(inv.event))))
        return staged


def log_row(
    d: TriageDecision,
    verdict: PolicyVerdict,
    ref: str,
    case_id: int | None,
    recipient: str,
    kind: str,
    fields: dict[str, Any],
    now: datetime,
    answered: tuple[AnswerNote, ...] = (),
) -> dict[str, Any]:
    """The disclosure log row of one verdict: who got which fields (or none), on which basis, why
    (with who answered an escalated question, how and on what basis: `answers.logged_reasons`)."""
    return {
        "ref": ref,
        "report_ref": d.report_ref,
        "case_id": case_id,
        "recipient": recipient,
        "structure": verdict.structure,
        "kind": kind,
        "effect": verdict.effect.value,
        "fields": sorted(fields),
        "legal_basis": list(verdict.citations),
        "rule_ids": list(verdict.rule_ids),
        "reasons": answers.logged_reasons(verdict, answered),
        "purpose": d.purpose.value,
        "policy_version": verdict.policy_version,
        "created_at": now,
    }


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
    met (`hub.services.deadlines`): one statement each for the whole batch. Staff actions for the
    reporter (`hub.services.reporter`) are staged in the entries' order; a professional reporter
    who has had no kvittering gets it with the report's first decision."""

    def __init__(self, service: DecisionService, tx: Tx) -> None:
        self.service = service
        self.tx = tx
        self.reports: dict[str, StoredReport] = {}
        self.decided: set[str] = set()  # decided before this batch, or by an earlier entry of it
        self.staged: list[_Staged] = []
        self.threads: dict[str, ReporterThread] = {}  # what each reporter has heard back
        self.messages: list[reporter.Message] = []

    def prepare(self, parsed: Sequence[tuple[str, Sequence[StaffEvent]]]) -> None:
        """Nothing: decisions come on one stream, looked up in `batch`."""

    def batch(self, stream: str, parsed: Sequence[StaffEvent]) -> None:
        found = self.tx.store.decision_context([p.data.report_ref for p in parsed])
        self.reports.update(found.reports)  # staff actions too: the report's trace
        self.decided |= found.decided
        self.threads.update(found.threads)

    def entry(self, stream: str, entry: Entry, parsed: StaffEvent) -> None:
        tx = self.tx
        if not isinstance(parsed.data, TriageDecision):
            self._action(stream, entry, parsed)
            return
        decision: CloudEvent[TriageDecision] = parsed
        # Recorded before: acked, not done again. A decided report is looked up at once, so that a
        # redelivered decision is not mistaken for a second one (`already_decided`).
        looked_up = tx.look_up or decision.data.report_ref in self.decided
        if looked_up and tx.store.decision_exists(decision.source, decision.id):
            return
        staged = self.service._stage(decision, self.reports, tx.now, self.decided)
        if isinstance(staged, Rejection):
            tx.reject(stream, entry, staged, streams.receipts(decision.source))
        else:
            self.decided.add(decision.data.report_ref)
            self.staged.append(staged)
            tx.out.accepted += 1

    def _action(self, stream: str, entry: Entry, action: StaffAction) -> None:
        """A kvittering or feedback asked for: staged, or refused with a receipt to the asker."""
        tx = self.tx
        if tx.look_up and tx.store.reporter_message_exists(action.source, action.id):
            return
        ref = action.data.report_ref
        trace = report_trace(self.reports.get(ref)) or action.trace
        staged = self.service.replies.stage(action, self.threads.get(ref), ref in self.decided, tx.now, trace)
        if isinstance(staged, Rejection):
            tx.reject(stream, entry, staged, streams.receipts(action.source))
            return
        self._sent(staged)
        tx.out.accepted += 1

    def _sent(self, message: reporter.Message) -> None:
        self.messages.append(message)
        ref = message.row["report_ref"]
        if message.row["kind"] == reporter.ACKNOWLEDGEMENT:  # a second one in this batch is refused
            self.threads[ref] = replace(self.threads[ref], acknowledged=True)

    def finish(self) -> None:
        store, rows = self.tx.store, self.tx.rows
        ids = store.insert_decisions([d.decision for d in self.staged])
        # A referral sent must be acknowledged by its partner in time (`hub.services.referral_clocks`).
        within = timedelta(hours=self.service.policy.agreement.referrals.acknowledge_within_hours)
        for decision_id, d in zip(ids, self.staged, strict=True):
            for disclosure, out_stream, text in d.disclosures:
                rows.add(Disclosure, decision_id=decision_id, **disclosure)
                rows.outbox(out_stream, text)
                if disclosure["effect"] == Effect.SHARE.value:
                    stage_clock(rows, REFERRAL, disclosure["report_ref"], disclosure["ref"], within, self.tx.now)
        decided = [d.decision["report_ref"] for d in self.staged]
        store.mark_decided(decided, self.tx.now)
        store.meet_deadlines(decided, ASSESSMENT, self.tx.now)  # the 24-hour assessment is recorded
        self._acknowledge_with_decisions()
        reporter.write(rows, store, self.messages, self.tx.now)

    def _acknowledge_with_decisions(self) -> None:
        """A professional reporter not yet acknowledged gets the kvittering with the first decision."""
        replies = self.service.replies
        for d in self.staged:
            row = d.decision
            thread = self.threads.get(row["report_ref"])
            if thread is None or thread.acknowledged or not replies.professional(thread):
                continue
            trace = report_trace(self.reports.get(row["report_ref"]))
            self._sent(
                replies.acknowledgement(
                    thread, row["source_id"], row["event_id"], row["decided_by"], self.tx.now, trace
                )
            )
