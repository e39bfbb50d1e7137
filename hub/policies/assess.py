"""`assess`: what happens to an incoming concern report.

Decides whether the report is accepted (Retsplejeloven § 115, stk. 2: never for
investigation), the triage queue, a suggested level (niveau) and pillar, the mandatory
notifications (Straffeloven § 141 police alert; Barnets lov § 133 underretning) and the
statutory deadlines (Barnets lov §§ 136-137). Pure: the caller passes `now`.

The duty to notify under Barnets lov § 133 is personal to everyone in public service, and
DKE's staff are: once a report gives reason to believe a child may need special support,
the hub issues the notification whoever the reporter is. Whether the reporter is a public
employee decides only whether a receipt is due to them (professional notifier).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import NamedTuple

from hub.policies.agreement import Agreement, Derived, derive
from hub.policies.deadlines import assess_by, receipt_due_by
from hub.policies.decision import Assessment, Notification, NotificationKind, build
from hub.policies.facts import SourceFacts, age_of
from hub.policies.rules import CITATIONS, REASONS
from hub.schemas.decision import Level, Pillar
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
POLICE_ALERT, CHILDREN_NOTIFICATION = NotificationKind.POLICE_ALERT, NotificationKind.CHILDREN_NOTIFICATION


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


# tuple.__new__(ReportFacts, values) is ReportFacts(*values) without the Python-level __new__ a
# NamedTuple generates (most of the cost of building one); `values` must be in field order.
_tuple_new = tuple.__new__


def report_facts(report: ConcernReport, now: datetime) -> ReportFacts:
    concern, subject, age = report.concern, report.subject, age_of(report, now.date())
    child = (age < ADULT_AGE) if age is not None else (subject is not None and concern.child_at_risk)
    return _tuple_new(ReportFacts, (report, concern, concern.categories, subject, age, child))


# --- Retsplejeloven § 115, stk. 2 --------------------------------------------------------------


def rpl115_2(f: ReportFacts) -> bool:
    """Retsplejeloven § 115, stk. 2: information is never passed on to investigate crime, so a
    report made for investigation is refused outright."""
    return f.report.purpose is INVESTIGATION


# --- Straffeloven § 141 ------------------------------------------------------------------------


def strfl141(f: ReportFacts) -> bool:
    """Straffeloven § 141: a serious crime against life or health is being planned."""
    return f.concern.planned_serious_crime


# --- Barnets lov § 133: each rule says whether it is a ground for notification -----------------


def bl133_1_1(f: ReportFacts) -> bool:
    """Barnets lov § 133, stk. 1, nr. 1: a child may need special support."""
    return f.child and (f.concern.child_at_risk or not f.categories.isdisjoint(SUPPORT_CATEGORIES))


def bl133_1_2(f: ReportFacts) -> bool:
    """Barnets lov § 133, stk. 1, nr. 2: support right after birth (the expectant parents)."""
    return f.concern.expected_child_at_risk


def bl133_1_3(f: ReportFacts) -> bool:
    """Barnets lov § 133, stk. 1, nr. 3: unlawful school absence."""
    return f.child and SCHOOL_ABSENCE in f.categories


def bl133_1_4(f: ReportFacts) -> bool:
    """Barnets lov § 133, stk. 1, nr. 4: the child may have been subjected to abuse."""
    return f.child and (f.concern.abuse_suspected or ABUSE in f.categories)


def bl133_2(f: ReportFacts) -> bool:
    """Barnets lov § 133, stk. 2: 15 % or more unlawful absence in a quarter."""
    pct = f.concern.school_absence_pct
    return f.child and pct is not None and pct >= ABSENCE_THRESHOLD_PCT


NOTIFICATION_RULES: dict[str, Callable[[ReportFacts], bool]] = {
    "BL133-1-1": bl133_1_1,
    "BL133-1-2": bl133_1_2,
    "BL133-1-3": bl133_1_3,
    "BL133-1-4": bl133_1_4,
    "BL133-2": bl133_2,
}
# Of these, only stk. 1, nr. 2 (the expected child) can apply when the subject is no child:
# an index over the same table, so the hot path skips rules whose own guard cannot pass.
_NOTIFICATION_RULES: dict[bool, tuple[tuple[str, Callable[[ReportFacts], bool]], ...]] = {
    True: tuple(NOTIFICATION_RULES.items()),
    False: (("BL133-1-2", bl133_1_2),),
}


def notification_grounds(f: ReportFacts) -> tuple[str, ...]:
    """The Barnets lov § 133 rules that require a notification, in table order."""
    grounds = []  # a plain loop: this is the hot path
    for rid, applies in _NOTIFICATION_RULES[f.child]:
        if applies(f):
            grounds.append(rid)
    return tuple(grounds)


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


def dbl_8(f: ReportFacts) -> bool:
    """Databeskyttelsesloven § 8: the report holds criminal-offence data (processed because it is
    necessary for the crime-prevention task)."""
    return holds_criminal_data(f.subject, f.categories)


def dbl_11(f: ReportFacts) -> bool:
    """Databeskyttelsesloven § 11: the CPR number is used only to identify the person (case key)."""
    return f.subject is not None and f.subject.cpr is not None


# --- DKE's practice: level and queue -----------------------------------------------------------


def level_rule(f: ReportFacts) -> str | None:
    """Albertslund's levels (local practice): which LEVEL-* rule applies, if any."""
    if f.subject is None:
        return None
    cats = f.categories
    if not cats.isdisjoint(LEVEL_III_CATEGORIES) or f.concern.planned_serious_crime:
        return "LEVEL-III"
    if not cats.isdisjoint(LEVEL_II_CATEGORIES):
        return "LEVEL-II"
    return "LEVEL-I"


_LEVELS = {"LEVEL-I": Level.I, "LEVEL-II": Level.II, "LEVEL-III": Level.III}
_ROUTES: dict[str, tuple[Queue, Pillar]] = {
    "ROUTE-URGENT": (Queue.URGENT, Pillar.REACTIVE),
    "ROUTE-PROACTIVE": (Queue.PROACTIVE, Pillar.PROACTIVE),
    "ROUTE-OPERATIVE": (Queue.OPERATIVE, Pillar.OPERATIVE),
    "ROUTE-REACTIVE": (Queue.REACTIVE, Pillar.REACTIVE),
}


def route_rule(f: ReportFacts, level: str | None, urgent: bool) -> str:
    """The PRO model's routing: urgent first, then no person, street risk behaviour, the rest."""
    if urgent:
        return "ROUTE-URGENT"
    if f.subject is None:
        return "ROUTE-PROACTIVE"
    if level == "LEVEL-I" and not f.categories.isdisjoint(STREET_CATEGORIES):
        return "ROUTE-OPERATIVE"
    return "ROUTE-REACTIVE"


# Every rule id `assess` can emit (the meta-test checks the rule table against it).
ASSESS_RULE_IDS: frozenset[str] = frozenset(
    {
        "RPL115-2",
        "STRFL141",
        *NOTIFICATION_RULES,
        "BL-ASSESS-24H",
        "BL-RECEIPT-6D",
        "DBL-8",
        "DBL-11",
        *_LEVELS,
        *_ROUTES,
    }
)


def _notification(
    agreement: Agreement, derived: Derived, kind: NotificationKind, rule_ids: tuple[str, ...], grounds: tuple[str, ...]
) -> Notification:
    key = (kind, rule_ids)
    found = derived.notifications.get(key)
    if found is None:
        nf = agreement.notification_fields
        fields = nf.police_alert if kind is POLICE_ALERT else nf.children_notification
        found = derived.notifications[key] = Notification(kind=kind, rule_ids=rule_ids, grounds=grounds, fields=fields)
    return found


def _values(derived: Derived, rule_ids: tuple[str, ...], **values: object) -> dict[str, object]:
    return {
        **values,
        "rule_ids": rule_ids,
        "citations": tuple(CITATIONS[r] for r in rule_ids),
        "reasons": tuple(REASONS[r] for r in rule_ids),
        "policy_version": derived.policy_version,
    }


_REFUSED = ("RPL115-2",)
_DEADLINES = ("BL-ASSESS-24H",)
_DEADLINES_PROFESSIONAL = ("BL-ASSESS-24H", "BL-RECEIPT-6D")


def _template(
    agreement: Agreement,
    derived: Derived,
    rule_ids: tuple[str, ...],
    grounds: tuple[str, ...],
    level: str | None,
    route: str,
) -> Assessment:
    """The assessment for this set of fired rules, without deadlines."""
    notifications = []
    if "STRFL141" in rule_ids:
        notifications.append(_notification(agreement, derived, POLICE_ALERT, ("STRFL141",), ("STRFL141",)))
    if grounds:
        deadlines = tuple(r for r in rule_ids if r in _DEADLINES_PROFESSIONAL)
        notifications.append(_notification(agreement, derived, CHILDREN_NOTIFICATION, grounds + deadlines, grounds))
    queue, pillar = _ROUTES[route]
    return build(
        Assessment,
        _values(
            derived,
            rule_ids,
            accepted=True,
            queue=queue,
            suggested_level=_LEVELS[level].value if level is not None else None,
            suggested_pillar=pillar.value,
            notifications=tuple(notifications),
            assess_by=None,
            receipt_due_by=None,
        ),
    )


def assess(report: ConcernReport, source: SourceFacts, agreement: Agreement, now: datetime) -> Assessment:
    """Assess one report received at `now` from `source`. Never raises for a valid report."""
    derived = derive(agreement)
    f = report_facts(report, now)
    if rpl115_2(f):
        refused = derived.assessments.get(_REFUSED)
        if refused is None:
            refused = derived.assessments[_REFUSED] = build(
                Assessment,
                _values(
                    derived,
                    _REFUSED,
                    accepted=False,
                    queue=None,
                    suggested_level=None,
                    suggested_pillar=None,
                    notifications=(),
                    assess_by=None,
                    receipt_due_by=None,
                ),
            )
        return refused

    alert = strfl141(f)
    fired = ["STRFL141"] if alert else []
    grounds = notification_grounds(f)
    if grounds:
        fired.extend(grounds)
        fired.extend(_DEADLINES_PROFESSIONAL if report.reporter.public_employee else _DEADLINES)
    if dbl_8(f):
        fired.append("DBL-8")
    if dbl_11(f):
        fired.append("DBL-11")
    level = level_rule(f)
    if level is not None:
        fired.append(level)
    route = route_rule(f, level, alert or "BL133-1-4" in grounds)  # urgent: a police alert or abuse
    fired.append(route)

    # Everything but the deadlines depends only on the rules that fired: build it once.
    rule_ids = tuple(fired)
    template = derived.assessments.get(rule_ids)
    if template is None:
        template = derived.assessments[rule_ids] = _template(agreement, derived, rule_ids, grounds, level, route)
    if not grounds:
        return template
    values = dict(template.__dict__)
    values["assess_by"] = assess_by(now)
    if "BL-RECEIPT-6D" in rule_ids:
        values["receipt_due_by"] = receipt_due_by(now)
    return build(Assessment, values)
