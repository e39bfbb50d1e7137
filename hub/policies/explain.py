"""What the policies decide about one report, for the people who answer for the law.

`explain` runs the assessment and a disclosure decision for every partner and structure
it is given, and returns them together with the assumptions made (purpose, justification,
time). `explanation_json` is the machine-readable form; its citations and reasons are the
rule declarations (`rules.py`), the same ones docs/policies.md shows. Pure: the caller
supplies the policy engine (and with it the agreement), the report, the partners and `now`;
rendering for people is the CLI's job.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hub.policies.citations import statuses
from hub.policies.decision import Assessment, Disclosure
from hub.policies.disclose import Request
from hub.policies.engine import PolicyEngine
from hub.policies.facts import Recipient, SourceFacts
from hub.policies.rules import RULES
from hub.schemas.decision import Structure
from hub.schemas.events import PlannedOffence
from hub.schemas.report import ConcernReport, Purpose

# What `explain` assumes when no triage decision exists yet: that staff have justified
# the necessity. Shown in every explanation, so nobody mistakes it for a real justification.
ASSUMED_JUSTIFICATION = "(antaget i forklaringen: medarbejderen har begrundet, at delingen er nødvendig)"


@dataclass(frozen=True, slots=True)
class Target:
    """One partner, as the registry names it, and the recipient facts the policy reads."""

    name: str
    recipient: Recipient


@dataclass(frozen=True, slots=True)
class Explanation:
    source: SourceFacts
    now: datetime
    purpose: Purpose
    justification: str
    justification_assumed: bool
    policy_version: str
    assessment: Assessment
    # What each notification of the assessment would carry: its fields the report holds.
    notification_fields: tuple[frozenset[str], ...]
    disclosures: tuple[tuple[Target, Structure, Disclosure], ...]
    strfl141_offences: tuple[PlannedOffence, ...] = ()  # the agreement's closed § 141 list
    closed_days: tuple[str, ...] = ()  # the agreement's extra closed days, shown with the receipt deadline


def explain(engine: PolicyEngine, report: ConcernReport, source: SourceFacts, targets: Iterable[Target],
            now: datetime, *, justification: str | None = None, purpose: Purpose | None = None,
            description_justification: str = "") -> Explanation:
    """Assess `report` and decide a disclosure to each target in each structure it sits in
    (`description_justification`: the decision's reason why the description must go; none by
    default, so the explanation shows the description withheld)."""
    assumed = justification is None
    why = ASSUMED_JUSTIFICATION if justification is None else justification
    purpose = report.purpose if purpose is None else purpose
    decisions = []
    for t in targets:
        for structure in (s for s in Structure if s in t.recipient.structures):
            request = Request(report=report, recipient=t.recipient, structure=structure, purpose=purpose,
                              justification=why, description_justification=description_justification)
            decisions.append((t, structure, engine.disclose(request, now)))
    assessment = engine.assess(report, source, now)
    present = engine.present_fields(report)
    return Explanation(
        source=source, now=now, purpose=purpose, justification=why, justification_assumed=assumed,
        policy_version=assessment.policy_version, assessment=assessment,
        notification_fields=tuple(n.fields & present for n in assessment.notifications),
        disclosures=tuple(decisions), strfl141_offences=engine.agreement.straffeloven_141.offences,
        closed_days=engine.agreement.working_days.closed_days,
    )


def _reasons(rule_ids: Iterable[str]) -> list[dict[str, Any]]:
    return [
        {"rule_id": r.id, "citation": r.citation, "citation_checked": list(statuses(r.citation)),
         "layer": r.layer.value, "da": r.da, "en": r.en}
        for r in map(RULES.__getitem__, rule_ids)
    ]


def _removed(d: Disclosure) -> list[dict[str, str]]:
    return [{"field": item, "rule_id": rid, "da": RULES[rid].da} for item, rid in d.removed]


def explanation_json(e: Explanation) -> dict[str, Any]:
    """The explanation as JSON-ready data (stable key order, sorted field lists)."""
    a = e.assessment
    return {
        "policy_version": e.policy_version,
        "now": e.now.isoformat(),
        "source": {"id": e.source.source_id, "kind": e.source.kind.value},
        "purpose": e.purpose.value,
        "justification": e.justification,
        "justification_assumed": e.justification_assumed,
        "assessment": {
            "accepted": a.accepted,
            "queue": a.queue.value if a.queue else None,
            "suggested_level": a.suggested_level,
            "suggested_pillar": a.suggested_pillar,
            "notifications": [
                {"kind": n.kind.value, "grounds": list(n.grounds), "rule_ids": list(n.rule_ids),
                 "fields": sorted(fields),
                 "offence": n.offence.model_dump(mode="json") if n.offence else None,
                 "informed": n.informed.model_dump(mode="json") if n.informed else None}
                for n, fields in zip(a.notifications, e.notification_fields, strict=True)
            ],
            "assess_by": a.assess_by.isoformat() if a.assess_by else None,
            "receipt_due_by": a.receipt_due_by.isoformat() if a.receipt_due_by else None,
            "closed_days": list(e.closed_days),
            "rule_ids": list(a.rule_ids),
            "reasons": _reasons(r.rule_id for r in a.reasons),
        },
        "disclosures": [
            {
                "partner_id": t.recipient.partner_id,
                "partner": t.name,
                "kind": t.recipient.kind.value,
                "structure": s.value,
                "effect": d.effect.value,
                "fields": sorted(d.fields),
                "withheld_categories": sorted(d.withheld_categories),
                "removed": _removed(d),
                "rule_ids": list(d.rule_ids),
                "reasons": _reasons(r.rule_id for r in d.reasons),
            }
            for t, s, d in e.disclosures
        ],
        "straffeloven_141": {
            "offences": [o.model_dump(mode="json") for o in e.strfl141_offences],
        },
    }
