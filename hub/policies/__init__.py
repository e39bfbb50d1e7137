"""The law and the local agreement as pure functions returning explained decisions.

Retsplejeloven § 115 (SSP, PSP, KSP), Barnets lov §§ 133 and 136-137, Straffeloven § 141
and databeskyttelsesloven §§ 8 and 11, in code, each rule citing its source (`rules.RULES`);
the local agreement as validated configuration (`agreement.Agreement`). No I/O, no clock
(callers pass `now`), no logging: a test enforces it.
"""

from hub.policies.agreement import Agreement, AgreementCheck, check_agreement, parse_agreement
from hub.policies.assess import assess
from hub.policies.decision import (
    Assessment,
    Disclosure,
    Effect,
    Notification,
    NotificationKind,
    Verdict,
    combine,
)
from hub.policies.disclose import Request, disclose
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
    "Recipient",
    "Request",
    "Rule",
    "SourceFacts",
    "SourceKind",
    "Verdict",
    "assess",
    "check_agreement",
    "combine",
    "disclose",
    "parse_agreement",
]
