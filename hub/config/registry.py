"""The source and partner registry, and loading of the configuration files.

Sources and partners are configuration, never code: the registry file says which sources
may write which intake stream and which partners read which referral streams.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from hub.policies import Agreement, Recipient, SourceFacts, SourceKind, parse_agreement
from hub.schemas import catalogue, streams
from hub.schemas.decision import Level, Structure

_ID = r"^[a-z0-9][a-z0-9-]{0,62}$"


class Source(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=_ID)
    name: str
    kind: SourceKind
    # Whether its reporters act in public service (Barnets lov § 133, the enhanced duty); unset:
    # by kind (school, police, social services, psychiatry, prison and probation, municipal
    # departments are; housing, other and private are not).
    public_service: bool | None = None

    @property
    def facts(self) -> SourceFacts:
        return SourceFacts(source_id=self.id, kind=self.kind, public_service=self.public_service)

    @property
    def in_public_service(self) -> bool:
        return self.facts.in_public_service


class Partner(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=_ID)
    name: str
    kind: SourceKind
    structures: frozenset[Structure]
    self_governing: bool = False

    @property
    def recipient(self) -> Recipient:
        return Recipient(
            partner_id=self.id,
            kind=self.kind,
            structures=self.structures,
            self_governing=self.self_governing,
        )

    def streams(self) -> list[str]:
        return [streams.referrals(s.value, self.id) for s in sorted(self.structures)]


class MeetingMembers(BaseModel):
    """Who belongs to the meeting of one level (`[meetings.I]`, `[meetings.II]`, `[meetings.III]`):
    partner ids from `[[partners]]`. At Niveau I and II they are the standing participants DKE
    convenes by default; at Niveau III the Operativgruppe's members, of whom DKE chooses."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = ""  # what staff call it, e.g. "Operativgruppen"
    members: tuple[str, ...] = ()


class Registry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    municipality: str
    decision_sources: frozenset[str] = frozenset({"dke-triage"})
    # Whom a reporter may ask, by the reference (the kvittering and feedback name it).
    reporter_contact: str = "Den Kriminalpræventive Enhed (DKE), Albertslund Kommune"
    sources: tuple[Source, ...]
    partners: tuple[Partner, ...]
    # The meetings of the levels (Niveau I coordination, II sagsmøde, III Operativgruppen).
    meetings: dict[Level, MeetingMembers] = Field(default_factory=dict)

    @field_validator("meetings")
    @classmethod
    def _members_are_partners(cls, meetings: dict[Level, MeetingMembers], info: ValidationInfo) -> dict[
        Level, MeetingMembers
    ]:
        """Each member is a partner of the registry, named once (checked at start, not at the
        first decision that convenes it)."""
        partners = {p.id for p in info.data.get("partners", ())}
        problems = []
        for level, forum in sorted(meetings.items()):
            unknown = sorted({m for m in forum.members if m not in partners})
            if unknown:
                problems.append(f"{level.value}.members: unknown partner id {', '.join(unknown)}")
            twice = sorted({m for m in forum.members if forum.members.count(m) > 1})
            if twice:
                problems.append(f"{level.value}.members: {', '.join(twice)} named twice")
        if problems:
            known = ", ".join(sorted(partners)) or "none"
            raise ValueError(f"{'; '.join(problems)} (the partner ids of [[partners]]: {known})")
        return meetings

    def source(self, source_id: str) -> Source | None:
        return next((s for s in self.sources if s.id == source_id), None)

    def partner(self, partner_id: str) -> Partner | None:
        return next((p for p in self.partners if p.id == partner_id), None)

    def meeting_members(self) -> dict[Level, tuple[str, ...]]:
        """The members of each level's meeting (`hub.policies.meetings.plan_meeting` reads them)."""
        return {level: m.members for level, m in self.meetings.items()}

    def intake_streams(self) -> list[str]:
        return [streams.intake(s.id) for s in self.sources]

    def stream_inputs(self) -> catalogue.Inputs:
        """What the stream catalogue's patterns are filled with (`hub.schemas.catalogue`)."""
        return catalogue.Inputs(
            sources=tuple(s.id for s in self.sources),
            decision_sources=tuple(sorted(self.decision_sources)),
            partners=tuple(
                catalogue.PartnerInput(p.id, p.kind.value, tuple(s.value for s in sorted(p.structures)))
                for p in self.partners
            ),
        )

    def catalogue(self) -> catalogue.Catalogue:
        """Every stream of this registry's hub (`hub.schemas.catalogue.STREAMS` expanded)."""
        return catalogue.expand(self.stream_inputs())


def _default(name: str) -> Path:
    return Path(str(resources.files("hub.config").joinpath(name)))


def default_registry_path() -> Path:
    return _default("albertslund.toml")


def default_agreement_path() -> Path:
    return _default("agreement.toml")


def load_registry(path: Path) -> Registry:
    with path.open("rb") as f:
        return Registry.model_validate(tomllib.load(f))


def load_agreement(path: Path) -> Agreement:
    return parse_agreement(path.read_text(encoding="utf-8"))
