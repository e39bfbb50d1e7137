"""Facts the rules read: small frozen values derived from a report, a source and a partner.

The rules never see storage rows or wire envelopes, only these.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from hub.schemas.decision import Structure
from hub.schemas.report import ConcernReport


class SourceKind(StrEnum):
    SCHOOL = "school"
    POLICE = "police"
    SOCIAL_SERVICES = "social_services"
    PSYCHIATRY = "psychiatry"
    PRISON_PROBATION = "prison_probation"
    MUNICIPAL_DEPARTMENT = "municipal_department"
    HOUSING = "housing"
    OTHER = "other"


# Partner kinds are the same vocabulary: who the organisation is.
PartnerKind = SourceKind

# Self-governing institutions with public tasks take part on the same terms (Rpl. § 115, stk. 3).
STRUCTURE_MEMBER_KINDS: dict[Structure, frozenset[SourceKind]] = {
    Structure.SSP: frozenset({SourceKind.SCHOOL, SourceKind.SOCIAL_SERVICES, SourceKind.POLICE}),
    Structure.PSP: frozenset(
        {SourceKind.SOCIAL_SERVICES, SourceKind.PSYCHIATRY, SourceKind.POLICE}
    ),
    Structure.KSP: frozenset(
        {SourceKind.PRISON_PROBATION, SourceKind.SOCIAL_SERVICES, SourceKind.POLICE}
    ),
}


class _Fact(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SourceFacts(_Fact):
    source_id: str
    kind: SourceKind


class Recipient(_Fact):
    """A partner as the registry knows it: which structures it sits in, of what kind."""

    partner_id: str
    kind: PartnerKind
    structures: frozenset[Structure]
    self_governing: bool = False


def age_on(born: date | None, today: date) -> int | None:
    if born is None:
        return None
    years = today.year - born.year
    return years - ((today.month, today.day) < (born.month, born.day))


def subject_age(report: ConcernReport, now: datetime) -> int | None:
    if report.subject is None:
        return None
    return age_on(report.subject.born(), now.date())
