"""`disclose`: may this partner receive this case, and exactly which fields?

Retsplejeloven § 115 is the legal basis; the local agreement supplies age bands, the KSP
window and the field allow-lists. Every rule returns a `Verdict` or None (not applicable);
`combine` (default withhold, withhold wins) makes the decision. Pure: the caller passes `now`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from hub.policies.agreement import HEALTH_FIELDS, NON_PRIVATE_FIELDS, Agreement
from hub.policies.assess import reason
from hub.policies.decision import Disclosure, Effect, Verdict, combine
from hub.policies.facts import STRUCTURE_MEMBER_KINDS, PartnerKind, Recipient, subject_age
from hub.policies.rules import POLICY_VERSION, rule
from hub.schemas.decision import Structure
from hub.schemas.report import ConcernReport, CustodyKind, Purpose

NON_PERSONAL_FIELDS = frozenset(
    {"concern.categories", "concern.observed_at", "concern.location", "subject.district", "reporter.role"}
)


class Request(BaseModel):
    """One question to `disclose`: this case, to this recipient, in this structure, for this purpose."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    report: ConcernReport
    recipient: Recipient
    structure: Structure
    purpose: Purpose
    justification: str


RuleFn = Callable[[Request, Agreement, datetime], Verdict | None]


def _verdict(rule_id: str, effect: Effect) -> Verdict:
    return Verdict(rule_id=rule_id, effect=effect, reason=reason(rule_id), citation=rule(rule_id).citation)


def rpl115_2(req: Request, agreement: Agreement, now: datetime) -> Verdict | None:
    """Retsplejeloven § 115, stk. 2: never for the investigation of criminal cases."""
    return _verdict("RPL115-2", Effect.WITHHOLD) if req.purpose is Purpose.INVESTIGATION else None


def rpl115_4(req: Request, agreement: Agreement, now: datetime) -> Verdict | None:
    """Retsplejeloven § 115, stk. 4: disclosure is a choice that must be justified as necessary."""
    return _verdict("RPL115-4", Effect.WITHHOLD) if not req.justification.strip() else None


def rpl115_member(req: Request, agreement: Agreement, now: datetime) -> Verdict | None:
    """Retsplejeloven § 115, stk. 1 and 3: only participants of the structure receive."""
    if req.recipient.kind is PartnerKind.MUNICIPAL_DEPARTMENT:
        return None  # handled by the outside-the-structures rules
    member = (
        req.structure in req.recipient.structures
        and req.recipient.kind in STRUCTURE_MEMBER_KINDS[req.structure]
    )
    return None if member else _verdict("RPL115-MEMBER", Effect.WITHHOLD)


def rpl115_1_1(req: Request, agreement: Agreement, now: datetime) -> Verdict | None:
    """Retsplejeloven § 115, stk. 1, nr. 1: the SSP cooperation (age band is local policy)."""
    if req.structure is not Structure.SSP or req.report.subject is None:
        return None
    age = subject_age(req.report, now)
    if age is not None and age < agreement.ages.ssp_plus_max_age:
        return _verdict("RPL115-1-1", Effect.SHARE)
    return None


def rpl115_1_2(req: Request, agreement: Agreement, now: datetime) -> Verdict | None:
    """Retsplejeloven § 115, stk. 1, nr. 2: PSP, socially vulnerable persons with psychiatric problems."""
    subject = req.report.subject
    if req.structure is not Structure.PSP or subject is None:
        return None
    if subject.psychiatric_contact or subject.socially_vulnerable:
        return _verdict("RPL115-1-2", Effect.SHARE)
    return None


def _in_release_window(req: Request, agreement: Agreement, now: datetime) -> bool:
    custody = req.report.subject.custody if req.report.subject else None
    if custody is None or custody.release_date is None:
        return False
    start = custody.release_date - timedelta(days=agreement.ksp.days_before_release)
    end = custody.release_date + timedelta(days=agreement.ksp.days_after_release)
    return start <= now.date() <= end


def rpl115_1_3(req: Request, agreement: Agreement, now: datetime) -> Verdict | None:
    """Retsplejeloven § 115, stk. 1, nr. 3, litra a-c: the KSP cooperation around release."""
    subject = req.report.subject
    if req.structure is not Structure.KSP or subject is None or subject.custody is None:
        return None
    if not _in_release_window(req, agreement, now):
        return None
    custody = subject.custody
    age = subject_age(req.report, now)
    if custody.kind is CustodyKind.PRISON and custody.convicted:
        return _verdict("RPL115-1-3-a", Effect.SHARE)
    if custody.kind is CustodyKind.PLACEMENT and custody.convicted and age is not None and age < 18:
        return _verdict("RPL115-1-3-b", Effect.SHARE)
    if custody.kind is CustodyKind.REMAND and custody.radicalisation_risk:
        return _verdict("RPL115-1-3-c", Effect.SHARE)
    return None


def no_person(req: Request, agreement: Agreement, now: datetime) -> Verdict | None:
    """GDPR art. 4(1): an area observation identifies nobody; non-personal facts may be shared."""
    return _verdict("NOPERSON", Effect.SHARE) if req.report.subject is None else None


def outside_structures(req: Request, agreement: Agreement, now: datetime) -> Verdict | None:
    """Forvaltningsloven § 27, straffeloven § 152: departments outside the structures need consent."""
    if req.recipient.kind is not PartnerKind.MUNICIPAL_DEPARTMENT or req.report.subject is None:
        return None
    consent = req.report.consent
    age = subject_age(req.report, now)
    child = age is not None and age < 18
    if child and consent.subject != consent.guardians:
        return _verdict("RPL115-OUTSIDE-CONSENT-UNCLEAR", Effect.ESCALATE)
    ok = consent.guardians if child else consent.subject
    return _verdict("RPL115-OUTSIDE", Effect.SHARE if ok else Effect.WITHHOLD)


def no_match(req: Request, agreement: Agreement, now: datetime, verdicts: list[Verdict]) -> Verdict | None:
    """Retsplejeloven § 115, stk. 1: no structure covers the person, so nothing is shared."""
    if any(v.effect is Effect.SHARE for v in verdicts):
        return None
    return _verdict("RPL115-NOMATCH", Effect.WITHHOLD)


# Order is for the reader only: `combine` does not depend on it.
DISCLOSURE_RULES: dict[str, RuleFn] = {
    "RPL115-2": rpl115_2,
    "RPL115-4": rpl115_4,
    "RPL115-MEMBER": rpl115_member,
    "RPL115-1-1": rpl115_1_1,
    "RPL115-1-2": rpl115_1_2,
    "RPL115-1-3": rpl115_1_3,
    "NOPERSON": no_person,
    "RPL115-OUTSIDE": outside_structures,
}


def allowed_fields(req: Request, agreement: Agreement) -> tuple[frozenset[str], tuple[str, ...]]:
    """Minimisation: the recipient kind's allow-list, narrowed by the content of the case."""
    applied = ["MIN-FIELDS"]
    if req.recipient.kind is PartnerKind.MUNICIPAL_DEPARTMENT:
        fields = agreement.departments_with_consent & NON_PRIVATE_FIELDS
    else:
        fields = agreement.fields.get(req.recipient.kind.value, frozenset())
    if req.report.subject is None:
        fields = fields & NON_PERSONAL_FIELDS
    if req.structure is not Structure.PSP and fields & HEALTH_FIELDS:
        fields = fields - HEALTH_FIELDS
        applied.append("HEALTH-PSP")
    if "subject.cpr" in fields:
        applied.append("DBL-11")
    if req.report.subject is not None and req.report.subject.cpr is None:
        fields = fields - {"subject.cpr"}
    return frozenset(fields), tuple(applied)


def disclose(req: Request, agreement: Agreement, now: datetime) -> Disclosure:
    verdicts = [v for fn in DISCLOSURE_RULES.values() if (v := fn(req, agreement, now)) is not None]
    if (nm := no_match(req, agreement, now, verdicts)) is not None:
        verdicts.append(nm)
    effect = combine(verdicts)
    fields: frozenset[str] = frozenset()
    rule_ids = [v.rule_id for v in verdicts]
    if effect is Effect.SHARE:
        fields, applied = allowed_fields(req, agreement)
        rule_ids.extend(applied)
    shown = [v for v in verdicts if v.effect is effect] or verdicts
    return Disclosure(
        effect=effect,
        structure=req.structure.value,
        partner_id=req.recipient.partner_id,
        fields=fields,
        rule_ids=tuple(dict.fromkeys(rule_ids)),
        citations=tuple(dict.fromkeys(rule(r).citation for r in rule_ids)),
        reasons=tuple(reason(r) for r in dict.fromkeys(v.rule_id for v in shown)),
        policy_version=f"{POLICY_VERSION}+{agreement.label}",
    )
