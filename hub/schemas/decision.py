"""The triage decision: data of `decision.made` v1, written to `hub.decisions.v1`.

DKE triage staff (through `hub triage decide`, or any client) decide a report's level,
pillar and which partners to refer it to, and justify why sharing is necessary; optionally which
partners to convene to the meeting of that level (`Meeting`: Niveau I coordination meeting,
II sagsmøde, III the Operativgruppe).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from hub.schemas.cloudevents import Identifier
from hub.schemas.report import Purpose

DECISION_MADE = "dk.albertslund.hub.decision.made.v1"


class Level(StrEnum):
    """Albertslund's levels for individual cases (niveau)."""

    I = "I"  # noqa: E741  risikoadfærd: risk behaviour
    II = "II"  # kriminalitet: crime
    III = "III"  # kvalificeret kriminalitet: serious crime


class Pillar(StrEnum):
    """The PRO model's pillars."""

    PROACTIVE = "proactive"
    REACTIVE = "reactive"
    OPERATIVE = "operative"


class Structure(StrEnum):
    """The statutory cooperation structures of Retsplejeloven § 115, stk. 1."""

    SSP = "ssp"
    PSP = "psp"
    KSP = "ksp"


# pydantic's (Rust) regex: `$` is the very end, a trailing newline does not match.
PartnerId = Annotated[Identifier, Field(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9-]*$")]


class ReferralTarget(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    structure: Structure
    partner_id: PartnerId


class Forum(StrEnum):
    """The meeting of each level (the PRO model's enkeltsagsbehandling): who DKE convenes."""

    COORDINATION = "coordination"  # Niveau I: koordinationsmøde
    CASE = "case"  # Niveau II: sagsmøde
    OPERATIVGRUPPE = "operativgruppe"  # Niveau III: Operativgruppen, convened by DKE


FORUM_OF_LEVEL: dict[Level, Forum] = {
    Level.I: Forum.COORDINATION,
    Level.II: Forum.CASE,
    Level.III: Forum.OPERATIVGRUPPE,
}

class Meeting(BaseModel):
    """The meeting a decision convenes, at the decision's level. `convene` names the partners
    invited; empty at Niveau I and II means the level's standing participants (the registry's),
    at Niveau III DKE must name the Operativgruppe's members it convenes. `structure` is the § 115
    cooperation the meeting shares in; empty: the one structure of the decision's referrals."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    convene: tuple[PartnerId, ...] = Field(default=(), max_length=50)
    structure: Structure | None = None
    proposed_at: AwareDatetime | None = None
    # What the meeting is for (not the legal purpose, which is the decision's `purpose`).
    agenda: str = Field(default="", max_length=1000)

    @field_validator("convene")
    @classmethod
    def _once(cls, ids: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(ids)) != len(ids):
            raise ValueError("a partner is convened once")
        return ids


class AnswerBasis(StrEnum):
    """What a person's answer to an escalated question rests on."""

    RECORDS = "records"  # journal, case files
    PERSON = "person"  # stated by the person
    GUARDIANS = "guardians"  # stated by the custody holders
    PARTNER = "partner"  # stated by a partner agency
    ASSESSMENT = "assessment"  # the staff member's own professional judgment


class Answer(BaseModel):
    """A person's answer to the question of an escalating rule (`hub.policies.rules.QUESTIONS`):
    which rule asked (`rule_id`), for which recipient where the question is asked per recipient
    (`partner_id`), the answer's value, why (`reason`, at least the agreement's minimum
    justification length) and what it rests on. Who answered is the decision's `decided_by`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule_id: str = Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9][A-Za-z0-9-]*$")
    partner_id: Identifier | None = Field(default=None, min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9-]*$")
    answer: str = Field(min_length=1, max_length=20, pattern=r"^[a-z_]+$")
    reason: str = Field(min_length=1, max_length=2000)
    basis: AnswerBasis


class TriageDecision(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    report_ref: Identifier = Field(min_length=1, max_length=40)
    level: Level
    pillar: Pillar
    referrals: tuple[ReferralTarget, ...] = ()
    justification: str = Field(default="", max_length=2000)
    # Why the free-text description itself must go along (purely private matters may be in it):
    # without it, no recipient gets the description.
    description_justification: str = Field(default="", max_length=2000)
    purpose: Purpose = Purpose.CRIME_PREVENTION
    decided_by: Identifier = Field(min_length=1, max_length=100)
    # A report is decided once; a new decision on a decided report is a revision and must say why.
    revision_reason: str | None = Field(default=None, min_length=1, max_length=2000)
    # The meeting of the decision's level (Niveau I-III) that DKE convenes, if any.
    meeting: Meeting | None = None
    # A person's answers to the questions the policy escalated (issue #18 point 7).
    answers: tuple[Answer, ...] = Field(default=(), max_length=50)
