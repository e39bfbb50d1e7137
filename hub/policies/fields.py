"""The fields a decision can name, what kind of information each one is, and projection.

Field names are wire names, `<part>.<field>` of the concern report. The classification is
the data-protection reading of the report: which fields identify a person
(databeskyttelsesloven § 11 for the CPR number), which are purely private matters
("rent private forhold", Retsplejeloven § 115, stk. 1: health, criminal matters, serious
social problems) and which are health information that never leaves PSP.
`project` turns a decision's field set into the values a recipient actually receives.
"""

from __future__ import annotations

from typing import Any

from hub.schemas.report import ConcernReport

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

# Health and psychiatric information: only PSP members receive it, in PSP.
HEALTH_FIELDS: frozenset[str] = frozenset({"subject.psychiatric_contact"})

# Purely private matters about the person: health, criminal matters (custody, the categories
# of concern), serious social problems (school absence) and the free text, which may hold any
# of them. Departments outside SSP/PSP/KSP get none of these without consent.
PRIVATE_FIELDS: frozenset[str] = frozenset(
    {
        "subject.psychiatric_contact",
        "subject.custody",
        "concern.categories",
        "concern.description",
        "concern.school_absence_pct",
    }
)

# Fields that say nothing about a person's purely private matters.
NON_PRIVATE_FIELDS: frozenset[str] = ALL_FIELDS - PRIVATE_FIELDS

# What an area observation (no identifiable person) may carry: no person, no reporter identity.
NON_PERSONAL_FIELDS: frozenset[str] = frozenset(
    {"concern.categories", "concern.observed_at", "concern.location", "subject.district", "reporter.role"}
)

# Fields that may carry criminal-offence data (databeskyttelsesloven § 8).
CRIMINAL_DATA_FIELDS: frozenset[str] = frozenset(
    {"subject.custody", "concern.categories", "concern.description"}
)

# Danish labels, for the people who read decisions (triage staff, the legal team).
FIELD_LABELS_DA: dict[str, str] = {
    "reporter.name": "Indberetters navn",
    "reporter.role": "Indberetters rolle",
    "reporter.contact": "Indberetters kontaktoplysninger",
    "subject.cpr": "CPR-nummer",
    "subject.name": "Navn",
    "subject.birth_date": "Fødselsdato",
    "subject.district": "Område/skoledistrikt",
    "subject.resident": "Bor i kommunen",
    "subject.psychiatric_contact": "Kontakt med psykiatrien",
    "subject.custody": "Frihedsberøvelse og løsladelse",
    "concern.categories": "Bekymringens kategorier",
    "concern.description": "Beskrivelse (fritekst)",
    "concern.observed_at": "Tidspunkt for observation",
    "concern.location": "Sted for observation",
    "concern.school_absence_pct": "Ulovligt skolefravær i kvartalet (%)",
}


def project(
    report: ConcernReport, fields: frozenset[str], withheld_categories: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """The allowed fields of `report`, as JSON-ready values, without the categories the policy
    withheld (purely private matters). Absent values are left out."""
    parts: dict[str, Any] = {
        "reporter": report.reporter.model_dump(mode="json"),
        "subject": report.subject.model_dump(mode="json") if report.subject else {},
        "concern": report.concern.model_dump(mode="json"),
    }
    out: dict[str, Any] = {}
    for name in sorted(fields):
        part, _, key = name.partition(".")
        value = parts.get(part, {}).get(key)
        if value is not None:
            if isinstance(value, list) and key == "categories":
                value = sorted(c for c in value if c not in withheld_categories)
            out[name] = value
    return out
