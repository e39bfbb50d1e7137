"""The rule table's test cases: for every rule, cases where it fires and cases where it does not.

Each case runs the public `assess` or `disclose` on obviously fake data and states what a
user would notice: the effect or queue, the fields, the deadlines. `test_rules.py` runs them
with pytest ids `<rule id>/<case>`, and a meta-test checks every rule has both kinds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hub.policies import Agreement, Assessment, Disclosure, PolicyEngine, Recipient, Request
from hub.policies.examples import (
    DEPARTMENT,
    EXAMPLE_AGREEMENT,
    EXAMPLE_NOW,
    JUSTIFICATION,
    POLICE,
    PRISON,
    PSYCHIATRY,
    SCHOOL_SOURCE,
    SCHOOLS,
    SOCIAL,
    examples,
    report,
)
from hub.policies.facts import SourceFacts, SourceKind
from hub.policies.fields import HEALTH_FIELDS, NON_PERSONAL_FIELDS
from hub.schemas.decision import Structure
from hub.schemas.report import ConcernReport, Purpose

A = EXAMPLE_AGREEMENT
PRIVATE_SOURCE = SourceFacts(source_id="forening", kind=SourceKind.PRIVATE)
NOW = EXAMPLE_NOW
SSP, PSP, KSP = Structure.SSP, Structure.PSP, Structure.KSP
Decision = Assessment | Disclosure


def variant(**changes: Any) -> Agreement:
    """The example agreement with some values changed (validated like a file)."""
    return Agreement.model_validate({**A.model_dump(), **changes})


OWN_OFFENCES = variant(straffeloven_141={"offences": [
    {"id": "hacking", "label": "grov forstyrrelse af driften af informationssystemer", "sections": ["§ 193"]}]})
NARROW_SSP_PLUS = variant(structures={"ssp_plus": ["social_services", "police"]})
NO_SSP_PLUS = variant(ages={"ssp_max_age": 18, "ssp_plus_max_age": 18})


def engine(agreement: Agreement) -> PolicyEngine:
    """A fresh engine per case: a case's decision never comes from another case's memo."""
    return PolicyEngine(agreement)


def to(recipient: Recipient, structure: Structure, rep: ConcernReport, *, justification: str = JUSTIFICATION,
       purpose: Purpose = Purpose.CRIME_PREVENTION, agreement: Agreement = A,
       now: datetime = NOW, answers: dict[str, str] | None = None) -> Callable[[], Disclosure]:
    return lambda: engine(agreement).disclose(Request(report=rep, recipient=recipient, structure=structure,
                                                      purpose=purpose, justification=justification,
                                                      answers=answers or {}), now)


def assessing(rep: ConcernReport, *, agreement: Agreement = A, now: datetime = NOW) -> Callable[[], Assessment]:
    return lambda: engine(agreement).assess(rep, SCHOOL_SOURCE, now)


def birthday(years: int, days: int = 0) -> date:
    """Born `years` ago today, shifted by `days` (positive: younger)."""
    return date(NOW.year - years, NOW.month, NOW.day) + timedelta(days=days)


def person(birth: date | None = None, **subject: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"name": "Testperson Testesen", **subject}
    if birth is not None:
        out["birth_date"] = birth.isoformat()
    return out


def custody(kind: str, days_ago: int, *, convicted: bool = True, radical: bool = False) -> dict[str, Any]:
    return {"kind": kind, "convicted": convicted, "radicalisation_risk": radical,
            "release_date": (NOW - timedelta(days=days_ago)).date().isoformat()}


@dataclass(frozen=True)
class Case:
    rule_id: str
    name: str
    run: Callable[[], Decision]
    fires: bool
    outcome: str | None = None  # expected effect (disclosure) or queue, or "refused" (assessment)
    check: Callable[[Any], bool] | None = None  # what else a user would notice

    @property
    def id(self) -> str:
        return f"{self.rule_id}/{self.name}"


def outcome_of(d: Decision) -> str:
    if isinstance(d, Disclosure):
        return d.effect.value
    return d.queue.value if d.accepted and d.queue else "refused"


def fire(rule_id: str, name: str, run: Callable[[], Decision], outcome: str | None = None,
         check: Callable[[Any], bool] | None = None) -> Case:
    return Case(rule_id, name, run, True, outcome, check)


def miss(rule_id: str, name: str, run: Callable[[], Decision], outcome: str | None = None,
         check: Callable[[Any], bool] | None = None) -> Case:
    return Case(rule_id, name, run, False, outcome, check)


def _notified(kind: str) -> Callable[[Assessment], bool]:
    return lambda a: kind in {n.kind.value for n in a.notifications}


def _danish(y: int, m: int, d: int) -> datetime:
    from hub.policies.deadlines import danish_time

    return datetime(y, m, d, 23, 59, 59, tzinfo=danish_time())


def _dk(y: int, m: int, d: int, hour: int, minute: int = 0) -> datetime:
    """A Danish wall-clock time as a UTC instant (what the running service passes as `now`)."""
    from hub.schemas.dates import danish_time

    return datetime(y, m, d, hour, minute, tzinfo=danish_time()).astimezone(UTC)


# Danish dates around midnight: 00:30 Danish is 23:30 UTC the day before in winter, 22:30 in summer.
WINTER_0030, WINTER_EVE = _dk(2026, 11, 20, 0, 30), _dk(2026, 11, 19, 23, 30)
SUMMER_0030, SUMMER_EVE = _dk(2026, 7, 15, 0, 30), _dk(2026, 7, 14, 23, 30)
SSP_PLUS_TO_26 = variant(ages={"ssp_max_age": 18, "ssp_plus_max_age": 26})
CLOSED_XMAS = variant(working_days={"closed_days": ["12-24", "12-31", "06-05"]})


child = report(14)
adult_40 = report(40, concern={"categories": ["crime"]})
vulnerable = report(41, subject={"socially_vulnerable": True, "psychiatric_contact": True})
area = report(None, concern={"categories": ["vandalism"], "location": "Albertslund Station"})


def _cases() -> list[Case]:
    cases = [
        # Every worked example in the docs is also a firing case.
        *(fire(e.rule_id, "docs-example", e.run) for e in examples()),
        # RPL115-2: investigation is refused, in intake and in referral.
        fire("RPL115-2", "referral-for-investigation", to(POLICE, SSP, child, purpose=Purpose.INVESTIGATION),
             "withhold", lambda d: d.fields == frozenset()),
        fire("RPL115-2", "report-for-investigation", assessing(report(16, purpose="investigation")), "refused",
             lambda a: a.notifications == () and a.queue is None),
        miss("RPL115-2", "crime-prevention", to(POLICE, SSP, child), "share"),
        # RPL115-4: the necessity justification.
        fire("RPL115-4", "blank", to(POLICE, SSP, child, justification="  \n\t "), "withhold"),
        fire("RPL115-4", "too-short", to(POLICE, SSP, child, justification="nødvendig"), "withhold"),
        miss("RPL115-4", "minimum-length", to(POLICE, SSP, child, justification="nødvendigt"), "share"),
        # RPL115-MEMBER: only participants, per registry and agreement.
        fire("RPL115-MEMBER", "not-in-structure-per-registry",
             to(SCHOOLS, KSP, report(17, subject={"custody": custody("prison", 5)})), "withhold"),
        fire("RPL115-MEMBER", "school-in-ssp-plus-narrowed",
             to(SCHOOLS, SSP, report(22), agreement=NARROW_SSP_PLUS), "withhold"),
        fire("RPL115-MEMBER", "housing-association",
             to(Recipient(partner_id="boligselskab", kind=SourceKind.HOUSING, structures=frozenset({SSP})), SSP,
                child), "withhold"),
        miss("RPL115-MEMBER", "police-in-ssp", to(POLICE, SSP, child), "share"),
        miss("RPL115-MEMBER", "school-in-ssp-for-an-adult-nobody-covers", to(SCHOOLS, SSP, adult_40,
             agreement=NARROW_SSP_PLUS), "withhold", lambda d: d.rule_ids == ("RPL115-NOMATCH",)),
        miss("RPL115-MEMBER", "school-in-ssp-plus-by-default", to(SCHOOLS, SSP, report(22)), "share"),
        # RPL115-3: self-governing institutions.
        fire("RPL115-3", "self-governing-housing-withheld",
             to(Recipient(partner_id="selvejende", kind=SourceKind.HOUSING, structures=frozenset({SSP}),
                          self_governing=True), SSP, child), "withhold",
             lambda d: "RPL115-3" in {r.rule_id for r in d.reasons}),
        miss("RPL115-3", "public-school", to(SCHOOLS, SSP, child), "share"),
        # RPL115-1-1: SSP under the agreed age.
        fire("RPL115-1-1", "day-before-18th-birthday", to(POLICE, SSP, report(None, subject=person(birthday(18, 1)))),
             "share"),
        miss("RPL115-1-1", "18th-birthday-today", to(POLICE, SSP, report(None, subject=person(birthday(18)))),
             "share", lambda d: "RPL115-1-1-PLUS" in d.rule_ids),
        miss("RPL115-1-1", "child-in-psp", to(POLICE, PSP, child), "withhold"),
        # ... on the Danish date: 18 at 00:30 Danish time on the birthday is an adult (UTC: still the day before).
        miss("RPL115-1-1", "18th-birthday-0030-danish-winter",
             to(POLICE, SSP, report(None, subject=person(date(2008, 11, 20))), now=WINTER_0030), "share",
             lambda d: "RPL115-1-1-PLUS" in d.rule_ids),
        miss("RPL115-1-1", "18th-birthday-0030-danish-summer",
             to(POLICE, SSP, report(None, subject=person(date(2008, 7, 15))), now=SUMMER_0030), "share",
             lambda d: "RPL115-1-1-PLUS" in d.rule_ids),
        fire("RPL115-1-1", "eve-of-18th-birthday-2330-danish",
             to(POLICE, SSP, report(None, subject=person(date(2008, 11, 20))), now=WINTER_EVE), "share"),
        # RPL115-1-1-PLUS: SSP+ for young adults.
        fire("RPL115-1-1-PLUS", "18th-birthday-today",
             to(SOCIAL, SSP, report(None, subject=person(birthday(18)))), "share"),
        fire("RPL115-1-1-PLUS", "day-before-25th-birthday",
             to(SOCIAL, SSP, report(None, subject=person(birthday(25, 1)))), "share"),
        miss("RPL115-1-1-PLUS", "25th-birthday-today",
             to(SOCIAL, SSP, report(None, subject=person(birthday(25)))), "withhold",
             lambda d: "RPL115-NOMATCH" in d.rule_ids),
        miss("RPL115-1-1-PLUS", "26th-birthday-0030-danish-summer",
             to(SOCIAL, SSP, report(None, subject=person(date(2000, 7, 15))), agreement=SSP_PLUS_TO_26,
                now=SUMMER_0030), "withhold", lambda d: "RPL115-NOMATCH" in d.rule_ids),
        miss("RPL115-1-1-PLUS", "26th-birthday-0030-danish-winter",
             to(SOCIAL, SSP, report(None, subject=person(date(2000, 11, 20))), agreement=SSP_PLUS_TO_26,
                now=WINTER_0030), "withhold", lambda d: "RPL115-NOMATCH" in d.rule_ids),
        fire("RPL115-1-1-PLUS", "eve-of-26th-birthday-2330-danish",
             to(SOCIAL, SSP, report(None, subject=person(date(2000, 7, 15))), agreement=SSP_PLUS_TO_26,
                now=SUMMER_EVE), "share"),
        miss("RPL115-1-1-PLUS", "ssp-plus-switched-off", to(SOCIAL, SSP, report(22), agreement=NO_SSP_PLUS),
             "withhold"),
        # RPL115-1-1-AGE: unknown age.
        fire("RPL115-1-1-AGE", "no-cpr-no-birth-date-to-social", to(SOCIAL, SSP, report(None, subject=person())),
             "escalate"),
        miss("RPL115-1-1-AGE", "birth-date-given", to(SOCIAL, SSP, report(None, subject=person(birthday(15)))),
             "share"),
        miss("RPL115-1-1-AGE", "unknown-age-in-psp",
             to(SOCIAL, PSP, report(None, subject=person(socially_vulnerable=True))), "share"),
        # RPL115-1-2: PSP for socially vulnerable persons.
        fire("RPL115-1-2", "vulnerable-without-psychiatry",
             to(SOCIAL, PSP, report(50, subject={"socially_vulnerable": True})), "share"),
        fire("RPL115-1-2", "psychiatry-gets-psychiatric-contact", to(PSYCHIATRY, PSP, vulnerable), "share",
             lambda d: "subject.psychiatric_contact" in d.fields),
        miss("RPL115-1-2", "psychiatric-contact-only", to(PSYCHIATRY, PSP, report(35, subject={
            "psychiatric_contact": True})), "escalate"),
        miss("RPL115-1-2", "vulnerable-in-ssp", to(SOCIAL, SSP, vulnerable), "withhold"),
        # RPL115-1-2-CHECK.
        fire("RPL115-1-2-CHECK", "to-psychiatry",
             to(PSYCHIATRY, PSP, report(35, subject={"psychiatric_contact": True})), "escalate"),
        miss("RPL115-1-2-CHECK", "vulnerable-and-psychiatric", to(PSYCHIATRY, PSP, vulnerable), "share"),
        # RPL115-1-3-a: prison, within the window.
        fire("RPL115-1-3-a", "release-in-90-days",
             to(PRISON, KSP, report(30, subject={"custody": custody("prison", -90)})), "share"),
        fire("RPL115-1-3-a", "released-365-days-ago",
             to(PRISON, KSP, report(30, subject={"custody": custody("prison", 365)})), "share"),
        miss("RPL115-1-3-a", "release-in-91-days",
             to(PRISON, KSP, report(30, subject={"custody": custody("prison", -91)})), "withhold"),
        miss("RPL115-1-3-a", "released-366-days-ago",
             to(PRISON, KSP, report(30, subject={"custody": custody("prison", 366)})), "withhold"),
        # ... counted in Danish dates: the window (365 days after release) ends at Danish midnight.
        fire("RPL115-1-3-a", "last-day-of-window-2330-danish",
             to(PRISON, KSP, report(30, subject={"custody": {"kind": "prison", "convicted": True,
                                                             "release_date": "2025-11-19"}}), now=WINTER_EVE),
             "share"),
        miss("RPL115-1-3-a", "day-after-window-0030-danish",
             to(PRISON, KSP, report(30, subject={"custody": {"kind": "prison", "convicted": True,
                                                             "release_date": "2025-11-19"}}), now=WINTER_0030),
             "withhold"),
        fire("RPL115-1-3-a", "first-day-of-window-0030-danish",
             to(PRISON, KSP, report(30, subject={"custody": {"kind": "prison", "convicted": True,
                                                             "release_date": "2026-10-13"}}), now=SUMMER_0030),
             "share"),
        miss("RPL115-1-3-a", "not-convicted",
             to(PRISON, KSP, report(30, subject={"custody": custody("prison", 5, convicted=False)})), "withhold"),
        miss("RPL115-1-3-a", "no-release-date",
             to(PRISON, KSP, report(30, subject={"custody": {"kind": "prison", "convicted": True}})), "withhold"),
        # RPL115-1-3-b: under 18 on release, from placement.
        fire("RPL115-1-3-b", "17-on-release-18-now",
             to(SOCIAL, KSP, report(None, subject=person(birthday(18, -10), custody=custody("placement", 30)))),
             "share"),
        miss("RPL115-1-3-b", "18-on-release",
             to(SOCIAL, KSP, report(None, subject=person(birthday(18, -40), custody=custody("placement", 30)))),
             "withhold"),
        miss("RPL115-1-3-b", "placement-not-convicted",
             to(SOCIAL, KSP, report(16, subject={"custody": custody("placement", 30, convicted=False)})),
             "withhold"),
        # RPL115-1-3-c: radicalisation risk.
        fire("RPL115-1-3-c", "prison-and-radicalisation",
             to(POLICE, KSP, report(30, subject={"custody": custody("prison", 5, radical=True)})), "share",
             lambda d: {"RPL115-1-3-a", "RPL115-1-3-c"} <= set(d.rule_ids)),
        miss("RPL115-1-3-c", "remand-without-radicalisation",
             to(POLICE, KSP, report(30, subject={"custody": custody("remand", 5, convicted=False)})), "withhold"),
        # RPL115-NOMATCH.
        fire("RPL115-NOMATCH", "adult-in-psp-not-vulnerable", to(SOCIAL, PSP, adult_40), "withhold"),
        fire("RPL115-NOMATCH", "adult-in-ksp-without-custody", to(POLICE, KSP, adult_40), "withhold"),
        miss("RPL115-NOMATCH", "child-in-ssp", to(SOCIAL, SSP, child), "share"),
        # Departments outside the structures: consent.
        fire("RPL115-OUTSIDE", "adult-with-guardians-consent-only",
             to(DEPARTMENT, SSP, report(20, consent={"guardians": True})), "withhold"),
        miss("RPL115-OUTSIDE", "adult-with-consent", to(DEPARTMENT, SSP, report(20, consent={"subject": True})),
             "share"),
        fire("RPL115-OUTSIDE-CONSENT", "child-with-both-consents",
             to(DEPARTMENT, SSP, report(15, consent={"subject": True, "guardians": True})), "share",
             lambda d: d.fields <= A.departments_with_consent),
        miss("RPL115-OUTSIDE-CONSENT", "no-consent", to(DEPARTMENT, SSP, child), "withhold"),
        # Issue #15: consent is a basis of its own; a consenting 40-year-old is no longer refused.
        fire("RPL115-OUTSIDE-CONSENT", "consent-though-no-structure-covers",
             to(DEPARTMENT, SSP, report(40, consent={"subject": True})), "share",
             lambda d: "CONSENT" in d.rule_ids and "RPL115-NOMATCH" not in d.rule_ids),
        fire("RPL115-OUTSIDE-CONSENT-UNCLEAR", "child-consents-guardians-do-not",
             to(DEPARTMENT, SSP, report(15, consent={"subject": True})), "escalate"),
        fire("RPL115-OUTSIDE-CONSENT-UNCLEAR", "unknown-age-subject-consent",
             to(DEPARTMENT, SSP, report(None, subject=person(), consent={"subject": True})), "escalate"),
        miss("RPL115-OUTSIDE-CONSENT-UNCLEAR", "child-both-consents",
             to(DEPARTMENT, SSP, report(15, consent={"subject": True, "guardians": True})), "share"),
        # NOPERSON: area observations.
        fire("NOPERSON", "to-social-services-non-personal-only", to(SOCIAL, SSP, area), "share",
             lambda d: d.fields <= NON_PERSONAL_FIELDS and "reporter.contact" not in d.fields),
        miss("NOPERSON", "identified-person", to(POLICE, SSP, child), "share"),
        # Field rules.
        fire("MIN-FIELDS", "police-get-no-description", to(POLICE, SSP, child), "share",
             lambda d: "concern.description" not in d.fields and "subject.name" in d.fields),
        miss("MIN-FIELDS", "withheld-gets-no-fields", to(POLICE, SSP, adult_40), "withhold",
             lambda d: d.fields == frozenset()),
        fire("MIN-FIELDS-EMPTY", "kind-without-allow-list",
             to(POLICE, SSP, child, agreement=variant(fields={"school": ["subject.name"]})), "withhold",
             lambda d: d.fields == frozenset()),
        fire("MIN-FIELDS-EMPTY", "area-observation-to-a-kind-without-non-personal-fields",
             to(POLICE, SSP, area, agreement=variant(fields={"police": ["subject.name"]})), "withhold"),
        miss("MIN-FIELDS-EMPTY", "police-get-fields", to(POLICE, SSP, child), "share"),
        fire("HEALTH-PSP", "ksp-social-services", to(SOCIAL, KSP, report(30, subject={
            "psychiatric_contact": True, "custody": custody("prison", 5)})), "share",
             lambda d: not d.fields & HEALTH_FIELDS),
        miss("HEALTH-PSP", "psp-psychiatry", to(PSYCHIATRY, PSP, vulnerable), "share",
             lambda d: d.fields >= HEALTH_FIELDS),
        fire("DBL-8", "convicted-in-ksp", to(POLICE, KSP, report(30, subject={"custody": custody("prison", 5)})),
             "share", lambda d: "subject.custody" in d.fields),
        fire("DBL-8", "assessment-of-crime", assessing(adult_40), "reactive"),
        miss("DBL-8", "risk-behaviour-only", to(POLICE, SSP, child), "share"),
        miss("DBL-8", "area-observation-of-vandalism", to(POLICE, SSP, area), "share"),
        fire("DBL-11", "assessment-with-cpr", assessing(child)),
        miss("DBL-11", "school-gets-no-cpr", to(SCHOOLS, SSP, child), "share",
             lambda d: "subject.cpr" not in d.fields),
        miss("DBL-11", "no-cpr-in-report", to(POLICE, SSP, report(None, subject=person(birthday(15))),), "share",
             lambda d: "subject.cpr" not in d.fields),
        # STRFL141.
        fire("STRFL141", "adult-planning", assessing(report(30, concern={"categories": ["violence"],
                                                                         "planned_offence": "drab"})),
             "urgent", lambda a: _notified("police_alert")(a) and not _notified("children_notification")(a)),
        fire("STRFL141", "alert-carries-offence-and-sections",
             assessing(report(30, concern={"planned_offence": "brandstiftelse"})), "urgent",
             lambda a: a.notifications[0].offence is not None
             and (a.notifications[0].offence.label, a.notifications[0].offence.sections)
             == ("brandstiftelse", ("§ 180",))),
        fire("STRFL141", "offence-from-the-agreements-own-list",
             assessing(report(30, concern={"planned_offence": "hacking"}), agreement=OWN_OFFENCES), "urgent",
             lambda a: a.notifications[0].offence is not None and a.notifications[0].offence.sections == ("§ 193",)),
        miss("STRFL141", "planned-danger-without-offence",
             assessing(report(30, concern={"planned_serious_crime": True})), "urgent",
             lambda a: a.notifications == () and not any("141" in c for c in a.citations)),
        miss("STRFL141", "no-plan", assessing(report(30, concern={"categories": ["violence"]})), "reactive",
             lambda a: not _notified("police_alert")(a)),
        # Barnets lov § 133.
        fire("BL133-1-1", "private-reporter-still-notifies",
             assessing(report(13, concern={"categories": ["wellbeing"]}, public=False)), None,
             _notified("children_notification")),
        fire("BL133-1-1", "age-unknown-child-at-risk",
             assessing(report(None, subject=person(), concern={"child_at_risk": True})), None,
             _notified("children_notification")),
        miss("BL133-1-1", "18-year-old", assessing(report(18, concern={"child_at_risk": True})), None,
             lambda a: a.notifications == ()),
        miss("BL133-1-1", "18th-birthday-0030-danish-winter",
             assessing(report(None, subject=person(date(2008, 11, 20)), concern={"child_at_risk": True}),
                       now=WINTER_0030), None, lambda a: a.notifications == ()),
        miss("BL133-1-1", "18th-birthday-0030-danish-summer",
             assessing(report(None, subject=person(date(2008, 7, 15)), concern={"child_at_risk": True}),
                       now=SUMMER_0030), None, lambda a: a.notifications == ()),
        fire("BL133-1-1", "eve-of-18th-birthday-2330-danish",
             assessing(report(None, subject=person(date(2008, 7, 15)), concern={"child_at_risk": True}),
                       now=SUMMER_EVE), None, _notified("children_notification")),
        miss("BL133-1-1", "child-area-safety-only", assessing(report(13, concern={"categories": ["area_safety"]})),
             None, lambda a: a.notifications == ()),
        miss("BL133-1-2", "no-expected-child", assessing(report(24, concern={"categories": ["wellbeing"]}))),
        fire("BL133-1-3", "absence-category", assessing(report(17, concern={"categories": ["school_absence"]})),
             None, _notified("children_notification")),
        miss("BL133-1-3", "adult-absence", assessing(report(19, concern={"categories": ["school_absence"]})),
             None, lambda a: a.notifications == ()),
        fire("BL133-1-4", "abuse-category-only", assessing(report(12, concern={"categories": ["abuse"]})), "urgent"),
        miss("BL133-1-4", "adult-abuse", assessing(report(30, concern={"categories": ["abuse"]})), "reactive"),
        fire("BL133-2", "exactly-15-percent",
             assessing(report(14, concern={"categories": ["wellbeing"], "school_absence_pct": 15.0}))),
        miss("BL133-2", "14.9-percent",
             assessing(report(14, concern={"categories": ["wellbeing"], "school_absence_pct": 14.9}))),
        miss("BL133-2", "18-year-old-20-percent",
             assessing(report(18, concern={"categories": ["wellbeing"], "school_absence_pct": 20.0})), None,
             lambda a: a.notifications == ()),
        # Deadlines.
        fire("BL-ASSESS-24H", "24-hours-after-receipt", assessing(report(13, concern={"child_at_risk": True})),
             None, lambda a: a.assess_by == NOW + timedelta(hours=24)),
        miss("BL-ASSESS-24H", "no-notification", assessing(adult_40), None, lambda a: a.assess_by is None),
        fire("BL-RECEIPT-6D", "friday-to-monday-week-after", assessing(report(13, concern={"child_at_risk": True})),
             None, lambda a: a.receipt_due_by == _danish(2026, 11, 30)),
        fire("BL-RECEIPT-6D", "easter",
             assessing(report(13, concern={"child_at_risk": True}), now=datetime(2026, 4, 1, 9, tzinfo=UTC)),
             None, lambda a: a.receipt_due_by == _danish(2026, 4, 14)),
        fire("BL-RECEIPT-6D", "christmas-and-new-year",
             assessing(report(13, concern={"child_at_risk": True}), now=datetime(2026, 12, 23, 9, tzinfo=UTC)),
             None, lambda a: a.receipt_due_by == _danish(2027, 1, 4)),
        fire("BL-RECEIPT-6D", "agreement-closed-days-24-and-31-december",
             assessing(report(13, concern={"child_at_risk": True}), agreement=CLOSED_XMAS,
                       now=datetime(2026, 12, 18, 9, tzinfo=UTC)),
             None, lambda a: a.receipt_due_by == _danish(2026, 12, 30)),
        fire("BL-RECEIPT-6D", "no-closed-days-in-agreement",
             assessing(report(13, concern={"child_at_risk": True}), now=datetime(2026, 12, 18, 9, tzinfo=UTC)),
             None, lambda a: a.receipt_due_by == _danish(2026, 12, 29)),
        fire("BL-RECEIPT-6D", "agreement-closed-grundlovsdag",
             assessing(report(13, concern={"child_at_risk": True}), agreement=CLOSED_XMAS,
                       now=datetime(2026, 5, 29, 9, tzinfo=UTC)),
             None, lambda a: a.receipt_due_by == _danish(2026, 6, 9)),
        fire("BL-RECEIPT-6D", "danish-date-not-utc-date",
             assessing(report(13, concern={"child_at_risk": True}), now=datetime(2026, 11, 19, 23, 30, tzinfo=UTC)),
             None, lambda a: a.receipt_due_by == _danish(2026, 11, 30)),
        miss("BL-RECEIPT-6D", "private-reporter-gets-no-receipt",
             assessing(report(13, concern={"child_at_risk": True}, public=False)), None,
             lambda a: a.receipt_due_by is None and a.assess_by is not None),
        # The reporter's duty: the general duty of § 134 for anyone not in public service.
        fire("BL134-GENERAL", "private-person-reports-a-child", assessing(report(13, concern={"child_at_risk": True},
                                                                                 public=False)),
             None, lambda a: a.receipt_due_by is None and "BL133-1-1" in a.rule_ids
             and any("BL134-GENERAL" in n.rule_ids for n in a.notifications)),
        fire("BL134-GENERAL", "employee-through-a-private-source",
             lambda: engine(A).assess(report(13, concern={"child_at_risk": True}), PRIVATE_SOURCE, NOW),
             None, lambda a: a.receipt_due_by is None),
        fire("BL134-GENERAL", "school-source-flagged-not-public",
             lambda: engine(A).assess(report(13, concern={"child_at_risk": True}),
                                      SourceFacts(source_id="friskole", kind=SourceKind.SCHOOL, public_service=False),
                                      NOW),
             None, lambda a: a.receipt_due_by is None),
        miss("BL134-GENERAL", "teacher-has-the-enhanced-duty", assessing(report(13, concern={"child_at_risk": True})),
             None, lambda a: a.receipt_due_by is not None),
        miss("BL134-GENERAL", "housing-flagged-public",
             lambda: engine(A).assess(report(13, concern={"child_at_risk": True}),
                                      SourceFacts(source_id="kommunal-bolig", kind=SourceKind.HOUSING,
                                                  public_service=True), NOW),
             None, lambda a: a.receipt_due_by is not None),
        miss("BL134-GENERAL", "private-person-no-child", assessing(report(40, public=False)),
             None, lambda a: a.notifications == ()),
        # Levels and queues.
        fire("LEVEL-III", "planned-crime", assessing(report(19, concern={"planned_serious_crime": True})), "urgent",
             lambda a: a.suggested_level == "III"),
        miss("LEVEL-III", "crime", assessing(adult_40), None, lambda a: a.suggested_level == "II"),
        fire("LEVEL-II", "vandalism", assessing(report(19, concern={"categories": ["vandalism"]})), "reactive",
             lambda a: a.suggested_level == "II"),
        miss("LEVEL-II", "wellbeing", assessing(report(19, concern={"categories": ["wellbeing"]})), None,
             lambda a: a.suggested_level == "I"),
        fire("LEVEL-I", "wellbeing", assessing(report(19, concern={"categories": ["wellbeing"]})), "reactive"),
        miss("LEVEL-I", "area-has-no-level", assessing(area), "proactive", lambda a: a.suggested_level is None),
        fire("ROUTE-URGENT", "planned-offence-adult",
             assessing(report(30, concern={"planned_offence": "roeveri"})), "urgent"),
        miss("ROUTE-URGENT", "planned-danger-adult",
             assessing(report(30, concern={"planned_serious_crime": True})), "urgent",
             lambda a: "PLANNED-DANGER" in a.rule_ids),
        miss("ROUTE-URGENT", "child-at-risk-not-abuse", assessing(report(13, concern={"child_at_risk": True})),
             "operative"),
        fire("ROUTE-PROACTIVE", "area-vandalism", assessing(area), "proactive",
             lambda a: a.suggested_pillar == "proactive"),
        miss("ROUTE-PROACTIVE", "person", assessing(child), "operative"),
        fire("ROUTE-OPERATIVE", "risk-behaviour", assessing(child), "operative"),
        miss("ROUTE-OPERATIVE", "street-level-ii", assessing(report(16, concern={"categories": ["vandalism"]})),
             "reactive"),
        fire("ROUTE-REACTIVE", "wellbeing", assessing(report(16, concern={"categories": ["wellbeing"]})),
             "reactive"),
        miss("ROUTE-REACTIVE", "abuse", assessing(report(9, concern={"abuse_suspected": True})), "urgent"),
        *_second_reading(),
        *_answered(),
    ]
    return cases



def _informed(custody_holders: bool, child_told: bool) -> Callable[[Assessment], bool]:
    def check(a: Assessment) -> bool:
        n = next(n for n in a.notifications if n.kind.value == "children_notification")
        told = n.informed
        return told is not None and (told.custody_holders, told.child) == (custody_holders, child_told)
    return check


# Private categories and the description (issue #15, point 2).
DRUGS = report(16, concern={"categories": ["crime", "substance_misuse"], "description": "Fritekst."})
ONLY_PRIVATE = report(16, concern={"categories": ["mental_health"]})
WHY_DESCRIPTION = "Beskrivelsen af episoden er nødvendig for sagsbehandlerens vurdering."
SCHOOLS_MAY = variant(private_matters={"allow": {"ssp": {"school": {"categories": ["substance_misuse"]}}}})


def described(recipient: Recipient, structure: Structure, rep: ConcernReport, **kw: Any) -> Callable[[], Disclosure]:
    """A disclosure whose decision justifies sharing the description itself."""
    agreement = kw.pop("agreement", A)
    return lambda: engine(agreement).disclose(
        Request(report=rep, recipient=recipient, structure=structure, purpose=Purpose.CRIME_PREVENTION,
                justification=JUSTIFICATION, description_justification=kw.pop("why", WHY_DESCRIPTION)), NOW)


def _second_reading() -> list[Case]:
    housing = Recipient(partner_id="boligsocial", kind=SourceKind.HOUSING, structures=frozenset({SSP}))
    housing_by_consent = variant(consent={"recipients": {"housing": ["subject.name", "concern.categories"]}})
    return [
        # STRFL141-UNKNOWN: an offence id not on the list.
        fire("STRFL141-UNKNOWN", "not-on-the-list", assessing(report(30, concern={"planned_offence": "tyveri"})),
             "refused", lambda a: a.notifications == () and a.queue is None),
        fire("STRFL141-UNKNOWN", "listed-by-default-but-not-in-this-agreement",
             assessing(report(30, concern={"planned_offence": "drab"}), agreement=OWN_OFFENCES), "refused"),
        miss("STRFL141-UNKNOWN", "listed", assessing(report(30, concern={"planned_offence": "drab"})), "urgent"),
        # PLANNED-DANGER: planned and dangerous, no listed offence.
        fire("PLANNED-DANGER", "flag-without-offence", assessing(report(30, concern={"planned_serious_crime": True})),
             "urgent", lambda a: a.notifications == () and a.suggested_level == "III"),
        fire("PLANNED-DANGER", "area-observation", assessing(report(None, concern={"planned_serious_crime": True})),
             "urgent"),
        miss("PLANNED-DANGER", "listed-offence-goes-to-police",
             assessing(report(30, concern={"planned_offence": "drab", "planned_serious_crime": True})), "urgent",
             _notified("police_alert")),
        miss("PLANNED-DANGER", "nothing-planned", assessing(adult_40), "reactive"),
        # PRIVATE-CATEGORIES.
        fire("PRIVATE-CATEGORIES", "substance-misuse-to-police-in-ssp", to(POLICE, SSP, DRUGS), "share",
             lambda d: d.withheld_categories == {"substance_misuse"} and "concern.categories" in d.fields),
        fire("PRIVATE-CATEGORIES", "only-private-category-drops-the-field", to(SCHOOLS, SSP, ONLY_PRIVATE), "share",
             lambda d: "concern.categories" not in d.fields
             and ("concern.categories:mental_health", "PRIVATE-CATEGORIES") in d.removed),
        fire("PRIVATE-CATEGORIES", "mental-health-to-ksp",
             to(POLICE, KSP, report(30, subject={"custody": custody("prison", 5)},
                                    concern={"categories": ["mental_health", "release"]})), "share",
             lambda d: d.withheld_categories == {"mental_health"}),
        miss("PRIVATE-CATEGORIES", "psp-participant-in-psp",
             to(SOCIAL, PSP, report(41, subject={"socially_vulnerable": True},
                                    concern={"categories": ["substance_misuse"]})), "share",
             lambda d: d.withheld_categories == frozenset() and "concern.categories" in d.fields),
        miss("PRIVATE-CATEGORIES", "agreement-allows-schools", to(SCHOOLS, SSP, DRUGS, agreement=SCHOOLS_MAY),
             "share", lambda d: d.withheld_categories == frozenset()),
        miss("PRIVATE-CATEGORIES", "no-private-category", to(POLICE, SSP, child), "share"),
        # PRIVATE-DESCRIPTION.
        fire("PRIVATE-DESCRIPTION", "no-description-reason", to(SOCIAL, SSP, DRUGS), "share",
             lambda d: "concern.description" not in d.fields),
        fire("PRIVATE-DESCRIPTION", "reason-too-short", described(SOCIAL, SSP, DRUGS, why="nødvendig"), "share",
             lambda d: "concern.description" not in d.fields),
        fire("PRIVATE-DESCRIPTION", "agreement-says-never",
             described(SOCIAL, SSP, DRUGS, agreement=variant(private_matters={"allow": {}})), "share",
             lambda d: "concern.description" not in d.fields),
        fire("PRIVATE-DESCRIPTION", "consent-alone-gets-no-description",
             to(DEPARTMENT, SSP, report(40, consent={"subject": True}),
                agreement=variant(departments_with_consent=["subject.name", "concern.description"])), "share",
             lambda d: d.fields == {"subject.name"}),
        miss("PRIVATE-DESCRIPTION", "with-description-reason", described(SOCIAL, SSP, DRUGS), "share",
             lambda d: "concern.description" in d.fields and d.withheld_categories == {"substance_misuse"}),
        miss("PRIVATE-DESCRIPTION", "police-allow-list-has-none", described(POLICE, SSP, DRUGS), "share",
             lambda d: "concern.description" not in d.fields),
        # CONSENT: a basis of its own.
        fire("CONSENT", "consenting-40-year-old-to-department", to(DEPARTMENT, SSP, report(40, consent={
            "subject": True})), "share",
             lambda d: d.fields == A.departments_with_consent & {"subject.name", "subject.district", "reporter.role"}
             and not any("115" in c for c in d.citations)),
        fire("CONSENT", "child-under-15-guardians-suffice",
             to(DEPARTMENT, SSP, report(14, consent={"guardians": True})), "share"),
        fire("CONSENT", "only-the-consented-fields",
             to(DEPARTMENT, SSP, report(40, consent={"subject": True, "fields": ["subject.name"]})), "share",
             lambda d: d.fields == {"subject.name"}),
        fire("CONSENT", "consent-recipient-kind-outside-structures",
             to(housing, SSP, report(40, consent={"subject": True}), agreement=housing_by_consent), "share",
             lambda d: d.fields == {"subject.name", "concern.categories"}),
        miss("CONSENT", "housing-not-a-consent-recipient", to(housing, SSP, report(40, consent={"subject": True})),
             "withhold", lambda d: "RPL115-MEMBER" in d.rule_ids),
        miss("CONSENT", "no-consent", to(DEPARTMENT, SSP, report(40)), "withhold",
             lambda d: "RPL115-OUTSIDE" in d.rule_ids),
        miss("CONSENT", "15-year-old-without-own-consent",
             to(DEPARTMENT, SSP, report(15, consent={"guardians": True})), "escalate"),
        miss("CONSENT", "member-kind-not-listed", to(POLICE, SSP, report(40, consent={"subject": True})), "withhold"),
        # Who is told of a § 133 notification.
        fire("BL133-GUARDIANS-NOT-TOLD", "guardian-suspected",
             assessing(report(9, concern={"categories": ["abuse"], "guardian_suspected": True})), "urgent",
             _informed(False, False)),
        fire("BL133-GUARDIANS-NOT-TOLD", "guardian-suspected-16-year-old-still-told",
             assessing(report(16, concern={"categories": ["abuse"], "guardian_suspected": True})), "urgent",
             _informed(False, True)),
        miss("BL133-GUARDIANS-NOT-TOLD", "abuse-by-someone-else",
             assessing(report(9, concern={"categories": ["abuse"]})), "urgent", _informed(True, False)),
        miss("BL133-GUARDIANS-NOT-TOLD", "no-notification",
             assessing(report(30, concern={"guardian_suspected": True})), None, lambda a: a.notifications == ()),
        fire("BL133-INFORM", "15-year-old-is-told", assessing(report(15, concern={"child_at_risk": True})), None,
             _informed(True, True)),
        fire("BL133-INFORM", "14-year-old-parents-only", assessing(report(14, concern={"child_at_risk": True})),
             None, _informed(True, False)),
        miss("BL133-INFORM", "adult", assessing(adult_40), None, lambda a: a.notifications == ()),
    ]


# Escalations answered by a person (issue #18 point 7): the policy decides again with the answer.
UNCLEAR, AGE, CHECK = "RPL115-OUTSIDE-CONSENT-UNCLEAR", "RPL115-1-1-AGE", "RPL115-1-2-CHECK"
UNCLEAR_CONSENT = report(15, consent={"guardians": True})
NO_AGE = report(None, subject=person())
PSYCH_ONLY = report(35, subject={"psychiatric_contact": True})


def _answered() -> list[Case]:
    return [
        fire("RPL115-OUTSIDE-CONSENT-CONFIRMED", "unclear-consent-confirmed",
             to(DEPARTMENT, SSP, UNCLEAR_CONSENT, answers={UNCLEAR: "yes"}), "share",
             lambda d: "CONSENT" in d.rule_ids and d.fields <= A.departments_with_consent),
        fire("RPL115-OUTSIDE-CONSENT-CONFIRMED", "confirmed-but-no-justification",
             to(DEPARTMENT, SSP, UNCLEAR_CONSENT, justification="", answers={UNCLEAR: "yes"}), "withhold",
             lambda d: "RPL115-4" in d.rule_ids),
        miss("RPL115-OUTSIDE-CONSENT-CONFIRMED", "unanswered", to(DEPARTMENT, SSP, UNCLEAR_CONSENT), "escalate"),
        miss("RPL115-OUTSIDE-CONSENT-CONFIRMED", "answer-to-a-question-not-asked",
             to(DEPARTMENT, SSP, report(15, consent={"subject": True, "guardians": True}), answers={UNCLEAR: "no"}),
             "share", lambda d: "RPL115-OUTSIDE-CONSENT-DENIED" not in d.rule_ids),
        miss("RPL115-OUTSIDE-CONSENT-CONFIRMED", "not-a-department",
             to(SOCIAL, SSP, UNCLEAR_CONSENT, answers={UNCLEAR: "yes"}), "share",
             lambda d: "CONSENT" not in d.rule_ids),
        # A consent recipient of the agreement that is no department is not asked about unclear
        # consent: its answer does not make consent the basis.
        miss("RPL115-OUTSIDE-CONSENT-CONFIRMED", "consent-recipient-not-a-department",
             to(Recipient(partner_id="boligsocial", kind=SourceKind.HOUSING, structures=frozenset({SSP})), SSP,
                report(15, consent={"guardians": True}), answers={UNCLEAR: "yes"},
                agreement=variant(consent={"recipients": {"housing": ["subject.name"]}})), "withhold",
             lambda d: "CONSENT" not in d.rule_ids),
        fire("RPL115-OUTSIDE-CONSENT-DENIED", "unclear-consent-denied",
             to(DEPARTMENT, SSP, UNCLEAR_CONSENT, answers={UNCLEAR: "no"}), "withhold",
             lambda d: d.fields == frozenset() and "RPL115-NOMATCH" not in d.rule_ids),
        miss("RPL115-OUTSIDE-CONSENT-DENIED", "no-consent-at-all-is-not-asked",
             to(DEPARTMENT, SSP, child, answers={UNCLEAR: "no"}), "withhold",
             lambda d: d.rule_ids == ("RPL115-OUTSIDE",)),
        miss("RPL115-OUTSIDE-CONSENT-DENIED", "unknown-answer-still-escalates",
             to(DEPARTMENT, SSP, UNCLEAR_CONSENT, answers={UNCLEAR: "maybe"}), "escalate"),
        fire("RPL115-1-1-AGE-ANSWERED", "answered-under-18", to(POLICE, SSP, NO_AGE, answers={AGE: "ssp"}), "share",
             lambda d: AGE not in d.rule_ids),
        fire("RPL115-1-1-AGE-ANSWERED", "answered-ssp-plus-to-police",
             to(POLICE, SSP, NO_AGE, answers={AGE: "ssp_plus"}), "share"),
        fire("RPL115-1-1-AGE-ANSWERED", "answered-ssp-plus-but-schools-not-in-ssp-plus",
             to(SCHOOLS, SSP, NO_AGE, agreement=NARROW_SSP_PLUS, answers={AGE: "ssp_plus"}), "withhold",
             lambda d: "RPL115-MEMBER" in d.rule_ids),
        fire("RPL115-1-1-AGE-ANSWERED", "answered-under-18-schools-take-part",
             to(SCHOOLS, SSP, NO_AGE, agreement=NARROW_SSP_PLUS, answers={AGE: "ssp"}), "share"),
        fire("RPL115-1-1-AGE-ANSWERED", "answer-never-overrides-investigation",
             to(POLICE, SSP, NO_AGE, purpose=Purpose.INVESTIGATION, answers={AGE: "ssp"}), "withhold",
             lambda d: [r.rule_id for r in d.reasons] == ["RPL115-2"]),
        miss("RPL115-1-1-AGE-ANSWERED", "age-known-answer-ignored",
             to(POLICE, SSP, adult_40, answers={AGE: "ssp"}), "withhold", lambda d: "RPL115-NOMATCH" in d.rule_ids),
        miss("RPL115-1-1-AGE-ANSWERED", "unanswered", to(POLICE, SSP, NO_AGE), "escalate"),
        fire("RPL115-1-1-AGE-OLDER", "answered-older", to(POLICE, SSP, NO_AGE, answers={AGE: "older"}), "withhold"),
        fire("RPL115-1-1-AGE-OLDER", "ssp-plus-answer-without-an-ssp-plus-band",
             to(POLICE, SSP, NO_AGE, agreement=NO_SSP_PLUS, answers={AGE: "ssp_plus"}), "withhold"),
        miss("RPL115-1-1-AGE-OLDER", "answered-ssp", to(POLICE, SSP, NO_AGE, answers={AGE: "ssp"}), "share"),
        fire("RPL115-1-2-ANSWERED", "judged-vulnerable", to(PSYCHIATRY, PSP, PSYCH_ONLY, answers={CHECK: "yes"}),
             "share", lambda d: "subject.psychiatric_contact" in d.fields and CHECK not in d.rule_ids),
        fire("RPL115-1-2-ANSWERED", "judged-vulnerable-but-justification-too-short",
             to(PSYCHIATRY, PSP, PSYCH_ONLY, justification="kort", answers={CHECK: "yes"}), "withhold"),
        miss("RPL115-1-2-ANSWERED", "marked-vulnerable-answer-ignored",
             to(PSYCHIATRY, PSP, vulnerable, answers={CHECK: "no"}), "share",
             lambda d: "RPL115-1-2" in d.rule_ids and "RPL115-1-2-NOT-VULNERABLE" not in d.rule_ids),
        miss("RPL115-1-2-ANSWERED", "answer-to-another-question",
             to(PSYCHIATRY, PSP, PSYCH_ONLY, answers={AGE: "ssp"}), "escalate"),
        fire("RPL115-1-2-NOT-VULNERABLE", "judged-not-vulnerable",
             to(PSYCHIATRY, PSP, PSYCH_ONLY, answers={CHECK: "no"}), "withhold",
             lambda d: "RPL115-NOMATCH" not in d.rule_ids),
        miss("RPL115-1-2-NOT-VULNERABLE", "judged-vulnerable",
             to(PSYCHIATRY, PSP, PSYCH_ONLY, answers={CHECK: "yes"}), "share"),
    ]


CASES: list[Case] = _cases()
