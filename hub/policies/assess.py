"""Assessment rules: what happens to an incoming concern report.

Decides whether the report is accepted (Retsplejeloven § 115, stk. 2: never for
investigation), the triage queue, a suggested level (niveau) and pillar, the mandatory
notifications (Straffeloven § 141 police alert; Barnets lov § 133 underretning) and the
statutory deadlines (Barnets lov §§ 136-137). The rule functions and their tables live here;
`PolicyEngine.assess` (engine.py) runs them and builds the decision. Pure: the caller passes `now`.

The duty to notify under Barnets lov § 133 is personal to everyone in public service, and
DKE's staff are: once a report gives reason to believe a child may need special support,
the hub issues the notification whoever the reporter is. Whether the reporter is a professional
notifier (a public employee, through a source in public service: `reporter.professional`)
decides whether a receipt and feedback are due to them, and which duty the notification carries
on: the enhanced duty (§ 133) or, for everyone else, the general duty (§ 134, BL134-GENERAL).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import NamedTuple

from hub.policies.decision import Verdict
from hub.policies.facts import age_of
from hub.policies.rules import (
    BL133_1_1,
    BL133_1_2,
    BL133_1_3,
    BL133_1_4,
    BL133_2,
    BL133_INFORM,
    BL133_NOT_TOLD,
    BL134_GENERAL,
    BL_ASSESS_24H,
    BL_RECEIPT_6D,
    DBL_8,
    DBL_11,
    LEVEL_I,
    LEVEL_II,
    LEVEL_III,
    PLANNED_DANGER,
    ROUTE_OPERATIVE,
    ROUTE_PROACTIVE,
    ROUTE_REACTIVE,
    ROUTE_URGENT,
    RPL115_2,
    STRFL141,
    STRFL141_UNKNOWN,
    Binding,
    Rule,
    RuleTable,
    rule_ids,
)
from hub.schemas.dates import danish_date
from hub.schemas.decision import Level, Pillar
from hub.schemas.events import Informed, PlannedOffence
from hub.schemas.report import Category, Concern, ConcernReport, Purpose, Subject
from hub.schemas.streams import Queue

ADULT_AGE = 18  # Barnets lov: a child or young person is under 18
ABSENCE_THRESHOLD_PCT = 15.0  # Barnets lov § 133, stk. 2

SUPPORT_CATEGORIES = frozenset(
    {
        Category.WELLBEING,
        Category.NEGLECT,
        Category.ABUSE,
        Category.SUBSTANCE_MISUSE,
        Category.CRIME,
        Category.SERIOUS_CRIME,
        Category.VIOLENCE,
        Category.WEAPONS,
        Category.GANG_AFFILIATION,
        Category.RADICALISATION,
        Category.RISK_BEHAVIOUR,
        Category.MENTAL_HEALTH,
    }
)
CRIMINAL_CATEGORIES = frozenset(
    {
        Category.CRIME,
        Category.SERIOUS_CRIME,
        Category.VIOLENCE,
        Category.WEAPONS,
        Category.VANDALISM,
        Category.GANG_AFFILIATION,
    }
)
# Albertslund's levels (local practice, from DKE's 2018 half-year report).
LEVEL_III_CATEGORIES = frozenset({Category.SERIOUS_CRIME, Category.WEAPONS})
LEVEL_II_CATEGORIES = frozenset({Category.CRIME, Category.VIOLENCE, Category.VANDALISM, Category.GANG_AFFILIATION})
STREET_CATEGORIES = frozenset({Category.RISK_BEHAVIOUR, Category.VANDALISM, Category.GANG_AFFILIATION})

# Module names for enum members: reading `Category.ABUSE` goes through the enum class each time.
INVESTIGATION = Purpose.INVESTIGATION
SCHOOL_ABSENCE, ABUSE = Category.SCHOOL_ABSENCE, Category.ABUSE


class ReportFacts(NamedTuple):
    """What the assessment rules read, derived once per report (a tuple: cheap to build). The
    parts of the report the rules read often are copied out of the pydantic models, whose
    attributes are several times slower to read."""

    report: ConcernReport
    concern: Concern  # report.concern
    categories: frozenset[Category]  # report.concern.categories
    subject: Subject | None  # report.subject
    age: int | None
    # Under 18; or age unknown and the reporter says a child is at risk (the reporter knows).
    child: bool
    offences: Mapping[str, PlannedOffence]  # the agreement's Straffeloven § 141 list, by id


# tuple.__new__(ReportFacts, values) is ReportFacts(*values) without the Python-level __new__ a
# NamedTuple generates (most of the cost of building one); `values` must be in field order.
_tuple_new = tuple.__new__


_NO_OFFENCES: Mapping[str, PlannedOffence] = MappingProxyType({})


def facts_for(
    report: ConcernReport, age: int | None, offences: Mapping[str, PlannedOffence] = _NO_OFFENCES
) -> ReportFacts:
    """The facts of `report` whose subject is `age` years old (None: unknown or no subject),
    under the agreement's § 141 list `offences`."""
    concern, subject = report.concern, report.subject
    child = (age < ADULT_AGE) if age is not None else (subject is not None and concern.child_at_risk)
    return _tuple_new(ReportFacts, (report, concern, concern.categories, subject, age, child, offences))


def report_facts(
    report: ConcernReport, now: datetime, offences: Mapping[str, PlannedOffence] = _NO_OFFENCES
) -> ReportFacts:
    """The facts of `report` at `now` (the subject's age on `now`'s Danish date)."""
    return facts_for(report, age_of(report, danish_date(now)), offences)


Check = Callable[[ReportFacts], Verdict | None]


# --- Retsplejeloven § 115, stk. 2 --------------------------------------------------------------


def rpl115_2(f: ReportFacts) -> Verdict | None:
    """Retsplejeloven § 115, stk. 2: information is never passed on to investigate crime, so a
    report made for investigation is refused outright."""
    return RPL115_2.withhold if f.report.purpose is INVESTIGATION else None


# --- Straffeloven § 141 ------------------------------------------------------------------------


def strfl141(f: ReportFacts) -> Verdict | None:
    """Straffeloven § 141: an offence on the agreement's closed list is being planned."""
    offence = f.concern.planned_offence
    return STRFL141.applies if offence is not None and offence in f.offences else None


def strfl141_unknown(f: ReportFacts) -> Verdict | None:
    """The report names a planned offence that is not on the agreement's § 141 list: refused, so
    that the sender names a listed one (or sends it as planned danger) instead of the hub guessing."""
    offence = f.concern.planned_offence
    return STRFL141_UNKNOWN.withhold if offence is not None and offence not in f.offences else None


def planned(concern: Concern) -> bool:
    """Whether the report says something dangerous is planned: a named offence (listed or not) or
    the `planned_serious_crime` flag. The urgent lane's scheduling hint reads the same two fields."""
    return concern.planned_offence is not None or concern.planned_serious_crime


# --- Barnets lov § 133: each rule says whether it is a ground for notification -----------------


def bl133_1_1(f: ReportFacts) -> Verdict | None:
    """Barnets lov § 133, stk. 1, nr. 1: a child may need special support."""
    if f.child and (f.concern.child_at_risk or not f.categories.isdisjoint(SUPPORT_CATEGORIES)):
        return BL133_1_1.applies
    return None


def bl133_1_2(f: ReportFacts) -> Verdict | None:
    """Barnets lov § 133, stk. 1, nr. 2: support right after birth (the expectant parents)."""
    return BL133_1_2.applies if f.concern.expected_child_at_risk else None


def bl133_1_3(f: ReportFacts) -> Verdict | None:
    """Barnets lov § 133, stk. 1, nr. 3: unlawful school absence."""
    return BL133_1_3.applies if f.child and SCHOOL_ABSENCE in f.categories else None


def bl133_1_4(f: ReportFacts) -> Verdict | None:
    """Barnets lov § 133, stk. 1, nr. 4: the child may have been subjected to abuse."""
    return BL133_1_4.applies if f.child and (f.concern.abuse_suspected or ABUSE in f.categories) else None


def bl133_2(f: ReportFacts) -> Verdict | None:
    """Barnets lov § 133, stk. 2: 15 % or more unlawful absence in a quarter."""
    pct = f.concern.school_absence_pct
    return BL133_2.applies if f.child and pct is not None and pct >= ABSENCE_THRESHOLD_PCT else None


def informed(f: ReportFacts, child_from_age: int) -> tuple[Rule, Informed]:
    """Who is to be told of a § 133 notification: nobody of the custody holders when one of them
    is suspected of the abuse (BL133-GUARDIANS-NOT-TOLD); otherwise the custody holders, and the
    child from `child_from_age` (BL133-INFORM). An unknown age tells no child."""
    child = f.age is not None and f.age >= child_from_age
    if f.concern.guardian_suspected:
        return BL133_NOT_TOLD, Informed(custody_holders=False, child=child, reason_da=BL133_NOT_TOLD.da)
    return BL133_INFORM, Informed(custody_holders=True, child=child, reason_da=BL133_INFORM.da)


# --- Databeskyttelsesloven ---------------------------------------------------------------------


def holds_criminal_data(subject: Subject | None, categories: frozenset[Category]) -> bool:
    """Whether a report about `subject` with these concern categories holds criminal-offence data
    about an identifiable person (a conviction, or a concern in a criminal category). An area
    observation (no subject) is about nobody."""
    if subject is None:
        return False
    custody = subject.custody
    if custody is not None and custody.convicted:
        return True
    return not categories.isdisjoint(CRIMINAL_CATEGORIES)


def dbl_8(f: ReportFacts) -> Verdict | None:
    """Databeskyttelsesloven § 8: the report holds criminal-offence data (processed because it is
    necessary for the crime-prevention task)."""
    return DBL_8.applies if holds_criminal_data(f.subject, f.categories) else None


def dbl_11(f: ReportFacts) -> Verdict | None:
    """Databeskyttelsesloven § 11: the CPR number is used only to identify the person (case key)."""
    return DBL_11.applies if f.subject is not None and f.subject.cpr is not None else None


# --- DKE's practice: level and queue -----------------------------------------------------------

_LEVEL_I_ID = LEVEL_I.id


def level(f: ReportFacts) -> Verdict | None:
    """Albertslund's levels (local practice): which LEVEL-* rule applies, if any."""
    if f.subject is None:
        return None
    cats = f.categories
    if not cats.isdisjoint(LEVEL_III_CATEGORIES) or planned(f.concern):
        return LEVEL_III.applies
    if not cats.isdisjoint(LEVEL_II_CATEGORIES):
        return LEVEL_II.applies
    return LEVEL_I.applies


def route(f: ReportFacts, level_rule: str | None, urgent: bool) -> Rule:
    """The PRO model's routing: urgent first, then no person, street risk behaviour, the rest.
    Reads what the other rules decided (the level, and whether it is urgent), so it is the
    engine's last step rather than an entry in a table."""
    if urgent:
        return ROUTE_URGENT
    if f.concern.planned_serious_crime:  # planned danger, no listed offence: urgent, no § 141
        return PLANNED_DANGER
    if f.subject is None:
        return ROUTE_PROACTIVE
    if level_rule == _LEVEL_I_ID and not f.categories.isdisjoint(STREET_CATEGORIES):
        return ROUTE_OPERATIVE
    return ROUTE_REACTIVE


# --- The tables ----------------------------------------------------------------------------------
# Each stage of the assessment is a table of bindings (rule declaration + function), the same
# `Binding` type the disclosure rules use. Order is table order in the decision's rule ids.
PURPOSE_RULES: RuleTable[ReportFacts] = (Binding(RPL115_2, rpl115_2), Binding(STRFL141_UNKNOWN, strfl141_unknown))
ALERT_RULES: RuleTable[ReportFacts] = (Binding(STRFL141, strfl141),)
NOTIFICATION_TABLE: RuleTable[ReportFacts] = (
    Binding(BL133_1_1, bl133_1_1),
    Binding(BL133_1_2, bl133_1_2),
    Binding(BL133_1_3, bl133_1_3),
    Binding(BL133_1_4, bl133_1_4),
    Binding(BL133_2, bl133_2),
)
DATA_RULES: RuleTable[ReportFacts] = (Binding(DBL_8, dbl_8), Binding(DBL_11, dbl_11))
LEVEL_RULES: RuleTable[ReportFacts] = (Binding(LEVEL_III, level, also=(LEVEL_II, LEVEL_I)),)
# Set by the engine itself: the deadlines a notification brings, and the routing.
DEADLINE_RULES: tuple[Rule, ...] = (BL_ASSESS_24H, BL_RECEIPT_6D)
INFORM_RULES: tuple[Rule, ...] = (BL133_NOT_TOLD, BL133_INFORM)  # who is told of a notification (`informed`)
DUTY_RULES: tuple[Rule, ...] = (BL134_GENERAL,)  # the reporter's duty, when not the enhanced one (`reporter.py`)
ROUTE_RULES: tuple[Rule, ...] = (ROUTE_URGENT, PLANNED_DANGER, ROUTE_PROACTIVE, ROUTE_OPERATIVE, ROUTE_REACTIVE)

DATA_INDEX: tuple[tuple[str, Check], ...] = tuple((b.rule.id, b.check) for b in DATA_RULES)

# The notification rules by id (what the tests and the index below read).
NOTIFICATION_RULES = {b.rule.id: b.check for b in NOTIFICATION_TABLE}
# Of these, only stk. 1, nr. 2 (the expected child) can apply when the subject is no child:
# an index over the same table, so the hot path skips rules whose own guard cannot pass.
NOTIFICATION_INDEX: dict[bool, tuple[tuple[str, Check], ...]] = {
    True: tuple((b.rule.id, b.check) for b in NOTIFICATION_TABLE),
    False: tuple((b.rule.id, b.check) for b in NOTIFICATION_TABLE if b.rule is BL133_1_2),
}


def notification_grounds(f: ReportFacts) -> tuple[str, ...]:
    """The Barnets lov § 133 rules that require a notification, in table order."""
    grounds = []  # a plain loop: this is the hot path
    for rid, check in NOTIFICATION_INDEX[f.child]:
        if check(f) is not None:
            grounds.append(rid)
    return tuple(grounds)


LEVELS: dict[str, Level] = {LEVEL_I.id: Level.I, LEVEL_II.id: Level.II, LEVEL_III.id: Level.III}
ROUTES: dict[str, tuple[Queue, Pillar]] = {
    ROUTE_URGENT.id: (Queue.URGENT, Pillar.REACTIVE),
    PLANNED_DANGER.id: (Queue.URGENT, Pillar.REACTIVE),
    ROUTE_PROACTIVE.id: (Queue.PROACTIVE, Pillar.PROACTIVE),
    ROUTE_OPERATIVE.id: (Queue.OPERATIVE, Pillar.OPERATIVE),
    ROUTE_REACTIVE.id: (Queue.REACTIVE, Pillar.REACTIVE),
}

# Every rule id an assessment can carry (the meta-test checks the rule table against it).
ASSESS_RULE_IDS: frozenset[str] = rule_ids(PURPOSE_RULES, ALERT_RULES, NOTIFICATION_TABLE, DATA_RULES, LEVEL_RULES) | {
    r.id for r in (*DEADLINE_RULES, *ROUTE_RULES, *INFORM_RULES, *DUTY_RULES)
}

# The stable refusal code of each rule that can refuse a report (receipts, HTTP answers; the
# Danish text is `hub.schemas.messages.DANISH`).
REFUSAL_CODES: dict[str, str] = {RPL115_2.id: "unlawful_purpose", STRFL141_UNKNOWN.id: "unknown_offence"}
