"""Facts the rules read: small frozen values about sources, partners and the person.

The rules never see storage rows or wire envelopes, only these and the report itself.
Who may take part in which structure is statute (Retsplejeloven § 115, stk. 1 and 3) and
lives here; the local agreement may narrow it, never widen it.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from functools import lru_cache

from pydantic import BaseModel, ConfigDict

from hub.schemas.cpr import birth_date, century
from hub.schemas.dates import danish_date
from hub.schemas.decision import Structure
from hub.schemas.report import ConcernReport, Subject

__all__ = [
    "PUBLIC_SERVICE_KINDS",
    "SELF_GOVERNING_KINDS",
    "STATUTE_MEMBER_KINDS",
    "STRUCTURE_MEMBER_KINDS",
    "PartnerKind",
    "Recipient",
    "SourceFacts",
    "SourceKind",
    "age_of",
    "age_on",
    "born",
    "subject_age",
]


class SourceKind(StrEnum):
    """What kind of organisation a source or partner is."""

    SCHOOL = "school"
    POLICE = "police"
    SOCIAL_SERVICES = "social_services"
    PSYCHIATRY = "psychiatry"
    PRISON_PROBATION = "prison_probation"
    MUNICIPAL_DEPARTMENT = "municipal_department"
    HOUSING = "housing"
    OTHER = "other"
    PRIVATE = "private"  # a private person or association: not in public service


# Barnets lov § 133: the enhanced duty to notify binds those in public service or public
# office. By default these kinds of source are (the registry may say otherwise per source,
# `Source.public_service`); housing associations, `other` and `private` are not.
PUBLIC_SERVICE_KINDS: frozenset[SourceKind] = frozenset(
    {
        SourceKind.SCHOOL,
        SourceKind.POLICE,
        SourceKind.SOCIAL_SERVICES,
        SourceKind.PSYCHIATRY,
        SourceKind.PRISON_PROBATION,
        SourceKind.MUNICIPAL_DEPARTMENT,
    }
)


# Partner kinds are the same vocabulary as source kinds: who the organisation is.
PartnerKind = SourceKind

# Retsplejeloven § 115, stk. 1, nr. 1-3: who takes part in each cooperation.
STATUTE_MEMBER_KINDS: dict[Structure, frozenset[SourceKind]] = {
    # nr. 1: schools, the social authorities and the police (SSP).
    Structure.SSP: frozenset({SourceKind.SCHOOL, SourceKind.SOCIAL_SERVICES, SourceKind.POLICE}),
    # nr. 2: the police, the social authorities and social/treatment psychiatry (PSP).
    Structure.PSP: frozenset({SourceKind.SOCIAL_SERVICES, SourceKind.PSYCHIATRY, SourceKind.POLICE}),
    # nr. 3: Kriminalforsorgen, the social authorities and the police (KSP).
    Structure.KSP: frozenset({SourceKind.PRISON_PROBATION, SourceKind.SOCIAL_SERVICES, SourceKind.POLICE}),
}
# The name earlier code used; same table.
STRUCTURE_MEMBER_KINDS = STATUTE_MEMBER_KINDS

# Retsplejeloven § 115, stk. 3: self-governing institutions with public tasks in the social,
# education and employment fields or in social/treatment psychiatry take part on the same
# terms. Of our partner kinds, those fields are schools, social services and psychiatry.
SELF_GOVERNING_KINDS: frozenset[SourceKind] = frozenset(
    {SourceKind.SCHOOL, SourceKind.SOCIAL_SERVICES, SourceKind.PSYCHIATRY}
)


class _Fact(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SourceFacts(_Fact):
    source_id: str
    kind: SourceKind
    public_service: bool | None = None  # None: by kind (`PUBLIC_SERVICE_KINDS`)

    @property
    def in_public_service(self) -> bool:
        """Whether the source's reporters act in public service (the enhanced duty's premise)."""
        return self.kind in PUBLIC_SERVICE_KINDS if self.public_service is None else self.public_service


class Recipient(_Fact):
    """A partner as the registry knows it: which structures it sits in, of what kind."""

    partner_id: str
    kind: PartnerKind
    structures: frozenset[Structure]
    self_governing: bool = False


# Kept as an lru_cache: a pure function of an immutable string (the same CPR number always
# gives the same birth date), and people recur across reports and their referrals.
@lru_cache(maxsize=8192)
def _cpr_birth_date(cpr: str) -> date:
    if len(cpr) == 11 and cpr[6] == "-":  # the schema's canonical DDMMYY-SSSS
        year2 = int(cpr[4:6])
        return date(century(year2, int(cpr[7])) + year2, int(cpr[2:4]), int(cpr[0:2]))
    return birth_date(cpr)


def born(subject: Subject) -> date | None:
    """The birth date: given, or from the CPR number (the same as `Subject.born`, faster)."""
    given, cpr = subject.birth_date, subject.cpr  # each read once: model attributes are slow to read
    if given is not None:
        return given
    return _cpr_birth_date(cpr) if cpr is not None else None


def age_on(birth: date | None, today: date) -> int | None:
    """Age in whole years on `today` (a birthday counts from the day itself)."""
    if birth is None:
        return None
    # Not yet had this year's birthday: one year less (month * 100 + day orders the dates).
    return today.year - birth.year - (today.month * 100 + today.day < birth.month * 100 + birth.day)


def age_of(report: ConcernReport, today: date) -> int | None:
    """The subject's age on `today` (None: no subject, or no birth date or CPR number)."""
    subject = report.subject
    return age_on(born(subject), today) if subject is not None else None


def subject_age(report: ConcernReport, now: datetime) -> int | None:
    """The subject's age at the instant `now`: on its Danish date."""
    return age_of(report, danish_date(now))
