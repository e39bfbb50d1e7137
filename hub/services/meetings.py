"""Meetings by level: the events that convene the partners of a decision's meeting.

A decision may convene the meeting of its level (Niveau I coordination meeting, II sagsmøde,
III the Operativgruppe). `hub.policies.meetings.plan_meeting` says who is convened and in which
structure; each convened partner is then asked about exactly like a referral target
(`DecisionService.verdict`, the one disclosure call): on a share it gets `meeting.convened`
with the fields allowed to it on its referral stream, otherwise `meeting.withheld` (reasons,
no personal data) goes to DKE's withheld stream. `hub.services.decisions` logs each in the
disclosure log (kind `meeting`) in the decision's transaction, like a referral.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, NamedTuple

from hub.policies import Disclosure as PolicyVerdict
from hub.policies import Effect
from hub.policies.fields import project
from hub.policies.meetings import MeetingPlan
from hub.schemas import streams
from hub.schemas.cloudevents import new_event
from hub.schemas.decision import Meeting, ReferralTarget, TriageDecision
from hub.schemas.events import MEETING_CONVENED, MEETING_WITHHELD, MeetingConvened, WithheldData
from hub.schemas.report import ConcernReport
from hub.tracing import TraceContext

KIND = "meeting"  # the disclosure log's kind for a meeting invitation


class Invitation(NamedTuple):
    """One convened partner: the policy's verdict, the fields it gets, the event and its stream."""

    partner_id: str
    verdict: PolicyVerdict
    fields: dict[str, Any]
    event: dict[str, Any]
    stream: str


def meeting_record(plan: MeetingPlan, meeting: Meeting, meeting_ref: str) -> dict[str, Any]:
    """The decision row's `meeting`: what was convened (JSON; what each received is logged)."""
    return {
        "meeting_ref": meeting_ref,
        "forum": plan.forum.value,
        "structure": plan.structure.value,
        "convened": list(plan.convened),
        "proposed_at": meeting.proposed_at.isoformat() if meeting.proposed_at else None,
        "agenda": meeting.agenda,
    }


def targets(plan: MeetingPlan) -> list[ReferralTarget]:
    """Each convened partner as the disclosure policy's target, in the meeting's structure."""
    return [ReferralTarget(structure=plan.structure, partner_id=p) for p in plan.convened]


def invitations(
    report: ConcernReport,
    d: TriageDecision,
    plan: MeetingPlan,
    meeting_ref: str,
    verdict_of: Callable[[ReferralTarget], PolicyVerdict],
    now: datetime,
    trace: TraceContext | None,
) -> Iterator[Invitation]:
    """Per convened partner: `meeting.convened` with its allowed fields, or `meeting.withheld`."""
    meeting = d.meeting
    assert meeting is not None
    for target in targets(plan):
        verdict = verdict_of(target)
        if verdict.effect is Effect.SHARE:
            fields = project(report, verdict.fields, verdict.withheld_categories)
            data: Any = MeetingConvened(
                report_ref=d.report_ref,
                fields=fields,
                legal_basis=verdict.citations,
                rule_ids=verdict.rule_ids,
                policy_version=verdict.policy_version,
                meeting_ref=meeting_ref,
                forum=plan.forum.value,
                level=d.level.value,
                structure=verdict.structure,
                partner_id=target.partner_id,
                convened=plan.convened,
                proposed_at=meeting.proposed_at,
                agenda=meeting.agenda,
                purpose=d.purpose.value,
                justification=d.justification,
                revision_reason=d.revision_reason,
            )
            event = new_event(MEETING_CONVENED, data, now=now, subject=d.report_ref, trace=trace)
            stream = streams.referrals(verdict.structure, target.partner_id)
        else:
            fields = {}
            data = WithheldData(
                report_ref=d.report_ref,
                structure=verdict.structure,
                partner_id=target.partner_id,
                effect=verdict.effect.value,
                reasons=verdict.reasons,
                rule_ids=verdict.rule_ids,
                policy_version=verdict.policy_version,
                revision_reason=d.revision_reason,
            )
            event = new_event(MEETING_WITHHELD, data, now=now, subject=d.report_ref, trace=trace)
            stream = streams.REFERRALS_WITHHELD
        yield Invitation(target.partner_id, verdict, fields, event, stream)
