"""The law and the local agreement as pure functions returning explained decisions.

Retsplejeloven § 115 (SSP, PSP, KSP), Barnets lov §§ 133 and 136-137, Straffeloven § 141
and databeskyttelsesloven §§ 8 and 11, in code, each rule declared once with its source
(`rules`); the local agreement as validated configuration (`agreement.Agreement`); and the
`PolicyEngine` that applies them, made once from an agreement in the composition root
(`engine.assess(report, source, now)`, `engine.disclose(request, now)`). No I/O, no clock
(callers pass `now`), no logging, no module-level state: tests enforce it.
"""

from hub.policies.agreement import Agreement, AgreementCheck, check_agreement, parse_agreement
from hub.policies.deadlines import WorkingDays
from hub.policies.decision import (
    Assessment,
    Disclosure,
    Effect,
    Notification,
    NotificationKind,
    Verdict,
    combine,
)
from hub.policies.disclose import Request
from hub.policies.engine import PolicyEngine
from hub.policies.facts import PartnerKind, Recipient, SourceFacts, SourceKind
from hub.policies.rules import POLICY_LABEL, POLICY_VERSION, RULES, Rule

__all__ = [
    "POLICY_LABEL",
    "POLICY_VERSION",
    "RULES",
    "Agreement",
    "AgreementCheck",
    "Assessment",
    "Disclosure",
    "Effect",
    "Notification",
    "NotificationKind",
    "PartnerKind",
    "PolicyEngine",
    "Recipient",
    "Request",
    "Rule",
    "SourceFacts",
    "SourceKind",
    "Verdict",
    "WorkingDays",
    "check_agreement",
    "combine",
    "parse_agreement",
]
