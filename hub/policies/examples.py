"""One worked example per rule, evaluated (not written down) wherever it is shown.

docs/policies.md prints each example's actual decision, and the tests check that each
example fires its rule, so the documentation cannot claim what the code does not do.
Examples run under `EXAMPLE_AGREEMENT` (the statute's defaults and the sample allow-lists),
at `EXAMPLE_NOW`; all people in them are fake.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from hub.policies import rules as R
from hub.policies.agreement import Agreement, Necessity
from hub.policies.decision import Assessment, Disclosure
from hub.policies.disclose import Request
from hub.policies.engine import PolicyEngine
from hub.policies.facts import Recipient, SourceFacts, SourceKind
from hub.schemas.cpr import make_cpr
from hub.schemas.dates import danish_date
from hub.schemas.decision import Structure
from hub.schemas.report import ConcernReport, Purpose

EXAMPLE_NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)  # a Friday
JUSTIFICATION = "Koordineret indsats med skole og sagsbehandler er nødvendig for at forebygge kriminalitet."

EXAMPLE_AGREEMENT = Agreement(
    name="example",
    version="docs",
    fields={
        SourceKind.POLICE: frozenset(
            {"subject.cpr", "subject.name", "subject.birth_date", "subject.district", "subject.custody",
             "concern.categories", "concern.observed_at", "concern.location", "reporter.role",
             "reporter.contact"}
        ),
        SourceKind.SOCIAL_SERVICES: frozenset(
            {"subject.cpr", "subject.name", "subject.birth_date", "subject.district", "subject.resident",
             "subject.psychiatric_contact", "subject.custody", "concern.categories", "concern.description",
             "concern.observed_at", "concern.school_absence_pct", "reporter.role", "reporter.contact"}
        ),
        SourceKind.SCHOOL: frozenset(
            {"subject.name", "subject.birth_date", "subject.district", "concern.categories",
             "concern.school_absence_pct", "reporter.role"}
        ),
        SourceKind.PSYCHIATRY: frozenset(
            {"subject.cpr", "subject.name", "subject.birth_date", "subject.psychiatric_contact",
             "concern.categories", "concern.description", "reporter.role", "reporter.contact"}
        ),
        SourceKind.PRISON_PROBATION: frozenset(
            {"subject.cpr", "subject.name", "subject.birth_date", "subject.custody", "concern.categories",
             "reporter.role", "reporter.contact"}
        ),
    },
    departments_with_consent=frozenset({"subject.name", "subject.district", "reporter.role"}),
    necessity=Necessity(min_justification_chars=10),
    retention_days={"report": 730, "disclosure_log": 1825, "deadletter": 90},
)

SCHOOL_SOURCE = SourceFacts(source_id="eksempel-skole", kind=SourceKind.SCHOOL)

_ALL = frozenset(Structure)
POLICE = Recipient(partner_id="politi", kind=SourceKind.POLICE, structures=_ALL)
SOCIAL = Recipient(partner_id="boern-og-unge", kind=SourceKind.SOCIAL_SERVICES, structures=_ALL)
SCHOOLS = Recipient(partner_id="skoler", kind=SourceKind.SCHOOL, structures=frozenset({Structure.SSP}))
PSYCHIATRY = Recipient(partner_id="psykiatri", kind=SourceKind.PSYCHIATRY, structures=frozenset({Structure.PSP}))
PRISON = Recipient(partner_id="kriminalforsorgen", kind=SourceKind.PRISON_PROBATION,
                   structures=frozenset({Structure.KSP}))
DEPARTMENT = Recipient(partner_id="kultur-fritid", kind=SourceKind.MUNICIPAL_DEPARTMENT,
                       structures=frozenset({Structure.SSP}))
FREE_SCHOOL = Recipient(partner_id="friskolen", kind=SourceKind.SCHOOL, structures=frozenset({Structure.SSP}),
                        self_governing=True)


def born(years: int, now: datetime = EXAMPLE_NOW) -> date:
    """A birth date `years` old (and 40 days) at `now`."""
    return danish_date(now - timedelta(days=int(365.25 * years) + 40))


def report(age: int | None = 14, *, serial: int = 1, subject: dict[str, Any] | None = None,
           concern: dict[str, Any] | None = None, public: bool = True, **top: Any) -> ConcernReport:
    """A fake report about a person of `age` (None: an area observation, no subject)."""
    data: dict[str, Any] = {
        "reporter": {"name": "Lærer Testesen", "role": "SSP-lærer", "contact": "ssp@skole.example",
                     "public_employee": public},
        "concern": {"categories": ["risk_behaviour"], "description": "Testbeskrivelse.", **(concern or {})},
        **top,
    }
    if age is not None or subject:
        person: dict[str, Any] = {"name": "Testperson Testesen", "district": "Herstedlund"}
        if age is not None:
            person["cpr"] = make_cpr(born(age), serial)
        data["subject"] = {**person, **(subject or {})}
    return ConcernReport.model_validate(data)


@dataclass(frozen=True, slots=True)
class Example:
    rule: R.Rule
    title: str  # English: the situation
    report: ConcernReport
    to: Recipient | None = None  # None: the example is an assessment
    structure: Structure | None = None
    purpose: Purpose = Purpose.CRIME_PREVENTION
    justification: str = JUSTIFICATION
    agreement: Agreement | None = None  # the example's own agreement, where it needs one
    answers: tuple[tuple[str, str], ...] = ()  # a person's answers to escalated questions

    @property
    def rule_id(self) -> str:
        return self.rule.id

    def run(self, engine: PolicyEngine | None = None, now: datetime = EXAMPLE_NOW) -> Assessment | Disclosure:
        """The example's decision: by `engine` (default: a fresh one under `EXAMPLE_AGREEMENT`),
        or by a fresh engine under the example's own agreement where it has one."""
        if self.agreement is not None:
            engine = PolicyEngine(self.agreement)
        elif engine is None:
            engine = PolicyEngine(EXAMPLE_AGREEMENT)
        if self.to is None or self.structure is None:
            return engine.assess(self.report, SCHOOL_SOURCE, now)
        return engine.disclose(Request(report=self.report, recipient=self.to, structure=self.structure,
                                       purpose=self.purpose, justification=self.justification,
                                       answers=dict(self.answers)), now)


def _release(days_ago: int) -> str:
    return danish_date(EXAMPLE_NOW - timedelta(days=days_ago)).isoformat()


# Kept as an lru_cache: a pure function of no arguments (constant data, built on first use
# rather than at import).
@lru_cache(maxsize=1)
def examples() -> tuple[Example, ...]:
    """The worked examples, one per rule id (built on first use)."""
    ssp, psp, ksp = Structure.SSP, Structure.PSP, Structure.KSP
    child_13 = report(13, concern={"categories": ["wellbeing"], "child_at_risk": True})
    return (
        Example(R.RPL115_2, "The police ask about a 16-year-old in SSP to investigate a burglary.",
                report(16, concern={"categories": ["crime"]}), POLICE, ssp, purpose=Purpose.INVESTIGATION),
        Example(R.RPL115_4, "A 15-year-old is referred to the police in SSP with no justification.",
                report(15), POLICE, ssp, justification=""),
        Example(R.RPL115_MEMBER, "A socially vulnerable 40-year-old is referred to the schools in PSP.",
                report(40, subject={"socially_vulnerable": True}), SCHOOLS, psp),
        Example(R.RPL115_3, "A 14-year-old is referred in SSP to a self-governing free school.",
                report(14), FREE_SCHOOL, ssp),
        Example(R.RPL115_1_1, "A 13-year-old in distress is referred to children's services in SSP.",
                child_13, SOCIAL, ssp),
        Example(R.RPL115_1_1_PLUS, "A 22-year-old with gang affiliation is referred to the police in SSP.",
                report(22, concern={"categories": ["gang_affiliation"]}), POLICE, ssp),
        Example(R.RPL115_1_1_AGE, "A young person known only by name is referred to the police in SSP.",
                report(None, subject={"name": "Testung Testesen"}), POLICE, ssp),
        Example(R.RPL115_1_2, "A socially vulnerable adult in psychiatric care is referred to psychiatry "
                "in PSP.", report(41, subject={"socially_vulnerable": True, "psychiatric_contact": True},
                                  concern={"categories": ["mental_health"]}), PSYCHIATRY, psp),
        Example(R.RPL115_1_2_CHECK, "An adult in psychiatric care, not marked socially vulnerable, is "
                "referred to the police in PSP.", report(35, subject={"psychiatric_contact": True}),
                POLICE, psp),
        Example(R.RPL115_1_3_A, "A convicted 34-year-old released from prison 10 days ago is referred to "
                "Kriminalforsorgen in KSP.",
                report(34, subject={"custody": {"kind": "prison", "convicted": True,
                                                "release_date": _release(10)}},
                       concern={"categories": ["release", "crime"]}), PRISON, ksp),
        Example(R.RPL115_1_3_B, "A convicted 17-year-old released from placement a month ago is referred to "
                "children's services in KSP.",
                report(17, subject={"custody": {"kind": "placement", "convicted": True,
                                                "release_date": _release(30)}},
                       concern={"categories": ["release"]}), SOCIAL, ksp),
        Example(R.RPL115_1_3_C, "A 28-year-old released from remand custody and judged at risk of "
                "radicalisation is referred to the police in KSP.",
                report(28, subject={"custody": {"kind": "remand", "radicalisation_risk": True,
                                                "release_date": _release(5)}},
                       concern={"categories": ["radicalisation"]}), POLICE, ksp),
        Example(R.RPL115_NOMATCH, "A 40-year-old with no psychiatric contact or release is referred to "
                "children's services in SSP.", report(40, concern={"categories": ["crime"]}), SOCIAL, ssp),
        Example(R.RPL115_OUTSIDE, "A 15-year-old is referred to culture & leisure without consent.",
                report(15), DEPARTMENT, ssp),
        Example(R.RPL115_OUTSIDE_CONSENT, "A 20-year-old who consented is referred to culture & leisure.",
                report(20, consent={"subject": True}), DEPARTMENT, ssp),
        Example(R.RPL115_OUTSIDE_CONSENT_UNCLEAR, "A 15-year-old's guardians consented but the young "
                "person did not; referred to culture & leisure.",
                report(15, consent={"guardians": True}), DEPARTMENT, ssp),
        Example(R.NOPERSON, "Vandalism at the station, no identifiable person, is shared with the police.",
                report(None, concern={"categories": ["vandalism", "area_safety"],
                                      "location": "Albertslund Station"}), POLICE, ssp),
        Example(R.MIN_FIELDS, "A 14-year-old with school absence is referred to the schools in SSP.",
                report(14, concern={"categories": ["school_absence"], "school_absence_pct": 12.0}),
                SCHOOLS, ssp),
        Example(R.MIN_FIELDS_EMPTY, "A 14-year-old is referred to the police in SSP under an agreement that "
                "lists no fields for the police.", report(14), POLICE, ssp,
                agreement=Agreement.model_validate({**EXAMPLE_AGREEMENT.model_dump(), "fields": {
                    SourceKind.SCHOOL: frozenset({"subject.name"})}})),
        Example(R.HEALTH_PSP, "A 16-year-old in psychiatric care is referred to children's services in SSP.",
                report(16, subject={"psychiatric_contact": True}), SOCIAL, ssp),
        Example(R.DBL_8, "A 16-year-old suspected of theft is referred to the police in SSP.",
                report(16, concern={"categories": ["crime"]}), POLICE, ssp),
        Example(R.DBL_11, "A 12-year-old identified by CPR number is referred to the police in SSP.",
                report(12), POLICE, ssp),
        Example(R.STRFL141, "The police report a 17-year-old planning to kill a rival this weekend.",
                report(17, concern={"categories": ["weapons", "violence"], "planned_offence": "drab"})),
        Example(R.BL133_1_1, "A teacher reports a 13-year-old in distress.", child_13),
        Example(R.BL133_1_2, "A 24-year-old expecting a child is reported to be unable to care for it.",
                report(24, concern={"categories": ["wellbeing"], "expected_child_at_risk": True})),
        Example(R.BL133_1_3, "A 12-year-old is reported for unlawful school absence.",
                report(12, concern={"categories": ["school_absence"]})),
        Example(R.BL133_1_4, "A teacher suspects a 9-year-old is abused at home.",
                report(9, concern={"categories": ["abuse"], "abuse_suspected": True})),
        Example(R.BL133_2, "A 14-year-old has 18 % unlawful absence this quarter.",
                report(14, concern={"categories": ["school_absence"], "school_absence_pct": 18.0})),
        Example(R.BL_ASSESS_24H, "A housing officer (not a public employee) reports a 13-year-old in "
                "distress.", report(13, concern={"categories": ["wellbeing"], "child_at_risk": True},
                                    public=False)),
        Example(R.BL_RECEIPT_6D, "A teacher reports a 13-year-old in distress on a Friday.", child_13),
        Example(R.BL134_GENERAL, "A neighbour (a private person) reports a 13-year-old left alone for days.",
                report(13, concern={"categories": ["neglect"], "child_at_risk": True}, public=False)),
        Example(R.LEVEL_III, "A 17-year-old is reported carrying a knife.",
                report(17, concern={"categories": ["weapons"]})),
        Example(R.LEVEL_II, "A 19-year-old is reported for repeated shoplifting.",
                report(19, concern={"categories": ["crime"]})),
        Example(R.LEVEL_I, "A 19-year-old is reported for risk behaviour.", report(19)),
        Example(R.ROUTE_URGENT, "A teacher suspects a 9-year-old is abused at home.",
                report(9, concern={"categories": ["abuse"], "abuse_suspected": True})),
        Example(R.ROUTE_PROACTIVE, "Unrest at the station, no identifiable person.",
                report(None, concern={"categories": ["area_safety"]})),
        Example(R.ROUTE_OPERATIVE, "A 15-year-old hangs out late with older youths in the street.",
                report(15, concern={"categories": ["risk_behaviour"]})),
        Example(R.ROUTE_REACTIVE, "A 19-year-old is reported for repeated shoplifting.",
                report(19, concern={"categories": ["crime"]})),
        Example(R.STRFL141_UNKNOWN, "A report names a planned shoplifting spree as the planned offence "
                "(`tyveri`, not on the § 141 list).", report(17, concern={"planned_offence": "tyveri"})),
        Example(R.PLANNED_DANGER, "A 17-year-old is said to plan to bring a knife to a party; no listed "
                "offence is named.", report(17, concern={"categories": ["weapons"], "planned_serious_crime": True})),
        Example(R.PRIVATE_CATEGORIES, "A 16-year-old's theft and substance misuse are referred to the police "
                "in SSP.", report(16, concern={"categories": ["crime", "substance_misuse"]}), POLICE, ssp),
        Example(R.PRIVATE_DESCRIPTION, "A 13-year-old in distress is referred to children's services in SSP; "
                "the decision gives no reason to share the description.", child_13, SOCIAL, ssp),
        Example(R.CONSENT, "A 40-year-old who consented is referred to culture & leisure (outside SSP, PSP "
                "and KSP).", report(40, consent={"subject": True}), DEPARTMENT, ssp),
        Example(R.BL133_NOT_TOLD, "A teacher suspects a 9-year-old is abused by a parent.",
                report(9, concern={"categories": ["abuse"], "abuse_suspected": True,
                                   "guardian_suspected": True})),
        Example(R.BL133_INFORM, "A teacher reports a 16-year-old in distress: the parents and the young "
                "person are told of the notification.",
                report(16, concern={"categories": ["wellbeing"], "child_at_risk": True})),
        # Escalations answered by a person (issue #18 point 7).
        Example(R.RPL115_OUTSIDE_CONSENT_CONFIRMED, "A 15-year-old's guardians consented but the young person "
                "was not asked; staff confirm the consent covers the referral to culture & leisure.",
                report(15, consent={"guardians": True}), DEPARTMENT, ssp,
                answers=((R.RPL115_OUTSIDE_CONSENT_UNCLEAR.id, R.YES),)),
        Example(R.RPL115_OUTSIDE_CONSENT_DENIED, "A 15-year-old's guardians consented but the young person "
                "did not; staff answer that there is no valid consent to culture & leisure.",
                report(15, consent={"guardians": True}), DEPARTMENT, ssp,
                answers=((R.RPL115_OUTSIDE_CONSENT_UNCLEAR.id, R.NO),)),
        Example(R.RPL115_1_1_AGE_ANSWERED, "A young person known only by name is referred to the police in SSP; "
                "staff state from the school's records that the person is under 18.",
                report(None, subject={"name": "Testung Testesen"}), POLICE, ssp,
                answers=((R.RPL115_1_1_AGE.id, R.SSP_BAND),)),
        Example(R.RPL115_1_1_AGE_OLDER, "A person known only by name is referred to the police in SSP; staff "
                "state that the person is in their forties.",
                report(None, subject={"name": "Testperson Testesen"}), POLICE, ssp,
                answers=((R.RPL115_1_1_AGE.id, R.OLDER_BAND),)),
        Example(R.RPL115_1_2_ANSWERED, "An adult in psychiatric care, not marked socially vulnerable, is "
                "referred to psychiatry in PSP; staff judge the person socially vulnerable.",
                report(35, subject={"psychiatric_contact": True}), PSYCHIATRY, psp,
                answers=((R.RPL115_1_2_CHECK.id, R.YES),)),
        Example(R.RPL115_1_2_NOT_VULNERABLE, "An adult in psychiatric care, not marked socially vulnerable, is "
                "referred to psychiatry in PSP; staff judge the person not socially vulnerable.",
                report(35, subject={"psychiatric_contact": True}), PSYCHIATRY, psp,
                answers=((R.RPL115_1_2_CHECK.id, R.NO),)),
    )


def example_for(rule_id: str) -> Example:
    return next(e for e in examples() if e.rule_id == rule_id)
