"""The law and the local agreement as pure functions returning explained decisions.

Retsplejeloven § 115 (SSP, PSP, KSP), Barnets lov § 133, Straffeloven § 141 and
databeskyttelsesloven §§ 8 and 11. No I/O, no clock (callers pass `now`), no logging.
"""

from hub.policies.agreement import Agreement, parse_agreement
from hub.policies.assess import assess
from hub.policies.decision import Assessment, Disclosure, Effect, NotificationKind, combine
from hub.policies.disclose import Request, disclose
from hub.policies.facts import Recipient, SourceFacts, SourceKind
from hub.policies.rules import POLICY_VERSION, RULES

__all__ = [
    "POLICY_VERSION",
    "RULES",
    "Agreement",
    "Assessment",
    "Disclosure",
    "Effect",
    "NotificationKind",
    "Recipient",
    "Request",
    "SourceFacts",
    "SourceKind",
    "assess",
    "combine",
    "disclose",
    "parse_agreement",
]
