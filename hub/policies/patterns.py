"""The cross-agency pattern: several agencies worried about the same person within days.

DKE's local practice (not statute): when at least two different agencies report a concern
about the same person within the agreement's window (`cross_agency.window_days`), the triage
item is flagged, so that staff see the pattern at once. The flag is for DKE's triage only: it
changes no assessment, no disclosure and no event to a partner.

An agency is a registered source (each source in the registry is one organisation: a school,
the local police, a department); two systems of one source count once. Pure: the caller looks
up the person's recent reports (by case subject key) and passes them in with `now`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

PATTERN_CROSS_AGENCY = "DKE-PATTERN-AGENCIES"
PATTERN_CITATION = "Albertslund DKE: tværgående bekymring (lokal praksis)"
MIN_AGENCIES = 2


@dataclass(frozen=True, slots=True)
class PriorReport:
    """A report about the same person: which source sent it, and when it was received."""

    source_id: str
    received_at: datetime


@dataclass(frozen=True, slots=True)
class PatternFlag:
    """Why a triage item is flagged: the rule, and the reason in Danish and English."""

    rule_id: str
    agencies: int
    window_days: int
    da: str
    en: str


def cross_agency(source_id: str, now: datetime, prior: Iterable[PriorReport], window_days: int) -> PatternFlag | None:
    """The flag for a report from `source_id` received at `now`, given the person's other
    reports; None unless at least two different sources reported within `window_days` (either
    side of `now`: another process may have stored one a moment "later")."""
    window = timedelta(days=window_days)
    agencies = {source_id} | {p.source_id for p in prior if abs(now - p.received_at) <= window}
    if len(agencies) < MIN_AGENCIES:
        return None
    return PatternFlag(
        rule_id=PATTERN_CROSS_AGENCY,
        agencies=len(agencies),
        window_days=window_days,
        da=f"To eller flere myndigheder har indberettet bekymring om samme person inden for {window_days} dage",
        en=f"Two or more agencies have reported concerns about the same person within {window_days} days",
    )
