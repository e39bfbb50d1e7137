"""The concern report (bekymringshenvendelse): data of `concern.reported` v1.

A report is about one person, or about no identifiable person (an area observation).
Validation here is about shape only; what the law makes of a report is `hub.policies`.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from hub.schemas.cpr import Cpr, birth_date

CONCERN_REPORTED = "dk.albertslund.hub.concern.reported.v1"
MAX_DESCRIPTION = 4000
# An id on the agreement's Straffeloven § 141 offence list (`planned_offence`).
OFFENCE_ID = r"^[a-z0-9][a-z0-9_-]*$"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Category(StrEnum):
    """The closed list of concern categories."""

    RISK_BEHAVIOUR = "risk_behaviour"  # risikoadfærd
    CRIME = "crime"  # kriminalitet
    SERIOUS_CRIME = "serious_crime"  # kvalificeret kriminalitet
    VIOLENCE = "violence"  # vold
    WEAPONS = "weapons"  # våben
    SUBSTANCE_MISUSE = "substance_misuse"  # misbrug
    SCHOOL_ABSENCE = "school_absence"  # ulovligt skolefravær
    WELLBEING = "wellbeing"  # mistrivsel
    NEGLECT = "neglect"  # omsorgssvigt
    ABUSE = "abuse"  # overgreb
    RADICALISATION = "radicalisation"  # radikalisering
    GANG_AFFILIATION = "gang_affiliation"  # bandetilknytning
    MENTAL_HEALTH = "mental_health"  # psykiske vanskeligheder
    AREA_SAFETY = "area_safety"  # tryghed i området
    VANDALISM = "vandalism"  # hærværk
    RELEASE = "release"  # løsladelse


class Purpose(StrEnum):
    """Why information is shared. Only crime prevention is lawful (Rpl. § 115, stk. 2)."""

    CRIME_PREVENTION = "crime_prevention"
    INVESTIGATION = "investigation"


class CustodyKind(StrEnum):
    PRISON = "prison"  # afsoning i Kriminalforsorgens institution
    PLACEMENT = "placement"  # anbringelse uden for Kriminalforsorgen (strfulbl. § 78, stk. 2)
    REMAND = "remand"  # varetægtsfængsling / anden frihedsberøvelse


class Custody(_Frozen):
    kind: CustodyKind
    convicted: bool = False
    release_date: date | None = None
    radicalisation_risk: bool = False


class Reporter(_Frozen):
    name: str = Field(min_length=1, max_length=200)
    role: str = Field(min_length=1, max_length=100)
    contact: str | None = Field(default=None, max_length=200)
    public_employee: bool


class Subject(_Frozen):
    cpr: Cpr | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)
    birth_date: date | None = None
    district: str | None = Field(default=None, max_length=100)
    resident: bool = True
    psychiatric_contact: bool = False
    socially_vulnerable: bool = False
    custody: Custody | None = None

    @model_validator(mode="after")
    def _identifiable_and_consistent(self) -> Subject:
        if self.cpr is None and self.name is None:
            raise ValueError("en person skal kunne identificeres: angiv cpr eller name")
        if self.cpr is not None and self.birth_date is not None and birth_date(self.cpr) != self.birth_date:
            raise ValueError("birth_date stemmer ikke med CPR-nummeret")
        return self

    def born(self) -> date | None:
        if self.birth_date is not None:
            return self.birth_date
        return birth_date(self.cpr) if self.cpr is not None else None


class Concern(_Frozen):
    categories: frozenset[Category] = Field(min_length=1)
    description: str = Field(min_length=1, max_length=MAX_DESCRIPTION)
    observed_at: AwareDatetime | None = None
    location: str | None = Field(default=None, max_length=200)
    child_at_risk: bool = False
    abuse_suspected: bool = False
    expected_child_at_risk: bool = False  # Barnets lov § 133, stk. 1, nr. 2
    # Straffeloven § 141: the planned offence, an id from the agreement's closed list
    # (`straffeloven_141.offences`); the police alert names it and its sections. An id not on
    # the list is refused (`unknown_offence`).
    planned_offence: str | None = Field(default=None, min_length=1, max_length=40, pattern=OFFENCE_ID)
    # Something dangerous is planned that is not (or not yet) named as a listed offence: urgent to
    # DKE, without a police alert under § 141. Kept from schema v1's first reading, when this flag
    # alone raised the alert; a report naming `planned_offence` need not set it.
    planned_serious_crime: bool = False
    # Barnets lov § 133: a custody holder is suspected of the abuse, so the notification says the
    # custody holders are not to be told of it.
    guardian_suspected: bool = False
    school_absence_pct: float | None = Field(default=None, ge=0, le=100)


class Consent(_Frozen):
    """Consent to disclosure: the person's own, and for a child the custody holders'. `fields`
    names what the consent covers (field names such as `subject.name`); unset, it covers what
    the agreement lists for each consent recipient."""

    subject: bool = False
    guardians: bool = False
    fields: frozenset[Annotated[str, Field(max_length=60, pattern=r"^[a-z]+\.[a-z_]+$")]] | None = Field(
        default=None, max_length=20
    )


class ConcernReport(_Frozen):
    reporter: Reporter
    subject: Subject | None = None
    concern: Concern
    consent: Consent = Consent()
    purpose: Purpose = Purpose.CRIME_PREVENTION
    schema_version: Literal[1] = 1
