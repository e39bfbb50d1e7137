"""The local information-sharing agreement, as a versioned, validated value.

Everything `shared/domain.md` marks as local policy or unconfirmed lives here, not in the
rules: age bands, the KSP window around release, field allow-lists, retention, and who
outside the three structures may receive what (with consent only).
"""

from __future__ import annotations

import hashlib
import tomllib

from pydantic import BaseModel, ConfigDict, Field, model_validator

# Every field a disclosure can name. Wire names: `<part>.<field>` of the concern report.
ALL_FIELDS: frozenset[str] = frozenset(
    {
        "reporter.name",
        "reporter.role",
        "reporter.contact",
        "subject.cpr",
        "subject.name",
        "subject.birth_date",
        "subject.district",
        "subject.resident",
        "subject.psychiatric_contact",
        "subject.custody",
        "concern.categories",
        "concern.description",
        "concern.observed_at",
        "concern.location",
        "concern.school_absence_pct",
    }
)

# Health and psychiatric information: never outside PSP (domain.md, purely private matters).
HEALTH_FIELDS: frozenset[str] = frozenset({"subject.psychiatric_contact"})
# Fields that say nothing about a person's purely private matters.
NON_PRIVATE_FIELDS: frozenset[str] = frozenset(
    {"subject.name", "subject.district", "reporter.role", "concern.location"}
)


class AgeBand(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    ssp_max_age: int = Field(18, ge=1, le=30, description="SSP: subjects younger than this")
    ssp_plus_max_age: int = Field(25, ge=18, le=35, description="SSP+: young adults younger than this")


class KspWindow(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    days_before_release: int = Field(90, ge=0, le=730)
    days_after_release: int = Field(365, ge=0, le=1825)


class Agreement(BaseModel):
    """A parsed agreement file. `version` is the file's own; `digest` its content hash."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    version: str
    ages: AgeBand = AgeBand()
    ksp: KspWindow = KspWindow()
    fields: dict[str, frozenset[str]] = Field(
        description="allow-list of fields per recipient kind (police, social_services, ...)"
    )
    departments_with_consent: frozenset[str] = Field(
        default=frozenset(), description="fields a department outside SSP/PSP/KSP may get with consent"
    )
    retention_days: dict[str, int] = Field(default_factory=dict)
    digest: str = ""

    @model_validator(mode="after")
    def _known_fields(self) -> Agreement:
        for kind, names in {**self.fields, "departments_with_consent": self.departments_with_consent}.items():
            unknown = sorted(set(names) - ALL_FIELDS)
            if unknown:
                raise ValueError(f"{kind}: ukendte felter {unknown}; kendte felter: {sorted(ALL_FIELDS)}")
        if self.ages.ssp_plus_max_age < self.ages.ssp_max_age:
            raise ValueError("ages.ssp_plus_max_age må ikke være mindre end ages.ssp_max_age")
        return self

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}#{self.digest[:12]}"


def parse_agreement(text: str) -> Agreement:
    """Parse and validate agreement TOML. The digest covers the exact text."""
    raw = tomllib.loads(text)
    digest = hashlib.sha256(text.encode()).hexdigest()
    return Agreement.model_validate({**raw, "digest": digest})

