"""`assess`: what happens to an incoming concern report.

Decides the triage queue, a suggested level (niveau) and pillar, the mandatory
notifications (Straffeloven § 141 police alert; Barnets lov § 133 underretning) and the
statutory deadlines. Pure: the caller passes `now`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from hub.policies.agreement import ALL_FIELDS, Agreement
from hub.policies.deadlines import assess_by, receipt_due_by
from hub.policies.decision import Assessment, Notification, NotificationKind
from hub.policies.facts import SourceFacts, subject_age
from hub.policies.rules import POLICY_VERSION, rule
from hub.schemas.decision import Level, Pillar
from hub.schemas.events import Reason
from hub.schemas.report import Category, ConcernReport, Purpose
from hub.schemas.streams import Queue

ABSENCE_THRESHOLD_PCT = 15.0  # Barnets lov § 133, stk. 2

SUPPORT_CATEGORIES = frozenset(
    {Category.WELLBEING, Category.NEGLECT, Category.ABUSE, Category.SUBSTANCE_MISUSE,
     Category.CRIME, Category.SERIOUS_CRIME, Category.VIOLENCE, Category.WEAPONS,
     Category.GANG_AFFILIATION, Category.RADICALISATION, Category.RISK_BEHAVIOUR}
)
LEVEL_III = frozenset({Category.SERIOUS_CRIME, Category.WEAPONS})
LEVEL_II = frozenset({Category.CRIME, Category.VIOLENCE, Category.VANDALISM, Category.GANG_AFFILIATION})
STREET = frozenset({Category.RISK_BEHAVIOUR, Category.VANDALISM, Category.GANG_AFFILIATION})

# The police get what they need to avert the crime; children's services what they need to act.
ALERT_FIELDS = frozenset(
    {"reporter.role", "reporter.contact", "subject.name", "subject.cpr", "subject.district",
     "concern.categories", "concern.description", "concern.observed_at", "concern.location"}
)
NOTIFICATION_FIELDS = ALL_FIELDS - {"subject.custody"}


def reason(rule_id: str) -> Reason:
    r = rule(rule_id)
    return Reason(rule_id=r.id, da=r.da, en=r.en)


def is_child(report: ConcernReport, now: datetime) -> bool:
    age = subject_age(report, now)
    return age is not None and age < 18


# --- Barnets lov § 133: each rule returns its id when the duty to notify applies ---------

def _bl133_1_1(report: ConcernReport, now: datetime) -> bool:
    """Barnets lov § 133, stk. 1, nr. 1: a child may need special support."""
    return is_child(report, now) and (
        report.concern.child_at_risk or bool(report.concern.categories & SUPPORT_CATEGORIES)
    )


def _bl133_1_2(report: ConcernReport, now: datetime) -> bool:
    """Barnets lov § 133, stk. 1, nr. 2: support right after birth (expectant parents)."""
    return report.concern.expected_child_at_risk


def _bl133_1_3(report: ConcernReport, now: datetime) -> bool:
    """Barnets lov § 133, stk. 1, nr. 3: unlawful school absence."""
    return is_child(report, now) and Category.SCHOOL_ABSENCE in report.concern.categories


def _bl133_1_4(report: ConcernReport, now: datetime) -> bool:
    """Barnets lov § 133, stk. 1, nr. 4: the child may have been subjected to abuse."""
    return is_child(report, now) and (
        report.concern.abuse_suspected or Category.ABUSE in report.concern.categories
    )


def _bl133_2(report: ConcernReport, now: datetime) -> bool:
    """Barnets lov § 133, stk. 2: 15 % or more unlawful absence in a quarter."""
    pct = report.concern.school_absence_pct
    return is_child(report, now) and pct is not None and pct >= ABSENCE_THRESHOLD_PCT


BL133_RULES: dict[str, Callable[[ConcernReport, datetime], bool]] = {
    "BL133-1-1": _bl133_1_1,
    "BL133-1-2": _bl133_1_2,
    "BL133-1-3": _bl133_1_3,
    "BL133-1-4": _bl133_1_4,
    "BL133-2": _bl133_2,
}


def _strfl141(report: ConcernReport) -> bool:
    """Straffeloven § 141: a serious crime against life or health is being planned."""
    return report.concern.planned_serious_crime


def suggest_level(report: ConcernReport) -> Level | None:
    if report.subject is None:
        return None
    cats = report.concern.categories
    if cats & LEVEL_III or report.concern.planned_serious_crime:
        return Level.III
    if cats & LEVEL_II:
        return Level.II
    return Level.I


def assess(report: ConcernReport, source: SourceFacts, agreement: Agreement, now: datetime) -> Assessment:
    version = f"{POLICY_VERSION}+{agreement.label}"
    if report.purpose is Purpose.INVESTIGATION:
        r = rule("RPL115-2")
        return Assessment(
            accepted=False, queue=None, suggested_level=None, suggested_pillar=None,
            notifications=(), assess_by=None, receipt_due_by=None, rule_ids=(r.id,),
            citations=(r.citation,), reasons=(reason(r.id),), policy_version=version,
        )

    fired: list[str] = []
    notifications: list[Notification] = []

    if _strfl141(report):
        fired.append("STRFL141")
        notifications.append(Notification(
            kind=NotificationKind.POLICE_ALERT, rule_ids=("STRFL141",), grounds=("STRFL141",),
            fields=ALERT_FIELDS,
        ))

    # The enhanced duty to notify is personal to public employees (Barnets lov § 133).
    grounds = tuple(rid for rid, applies in BL133_RULES.items() if applies(report, now))
    if grounds and report.reporter.public_employee:
        fired.extend(grounds)
        notifications.append(Notification(
            kind=NotificationKind.CHILDREN_NOTIFICATION, rule_ids=grounds, grounds=grounds,
            fields=NOTIFICATION_FIELDS,
        ))

    level = suggest_level(report)
    urgent = _strfl141(report) or (is_child(report, now) and _bl133_1_4(report, now))
    if urgent:
        queue, pillar, route = Queue.URGENT, Pillar.REACTIVE, "ROUTE-URGENT"
    elif report.subject is None:
        queue, pillar, route = Queue.PROACTIVE, Pillar.PROACTIVE, "ROUTE-PROACTIVE"
    elif level is Level.I and (report.concern.categories & STREET):
        queue, pillar, route = Queue.OPERATIVE, Pillar.OPERATIVE, "ROUTE-OPERATIVE"
    else:
        queue, pillar, route = Queue.REACTIVE, Pillar.REACTIVE, "ROUTE-REACTIVE"
    fired.append(route)

    children = any(n.kind is NotificationKind.CHILDREN_NOTIFICATION for n in notifications)
    return Assessment(
        accepted=True,
        queue=queue,
        suggested_level=level.value if level else None,
        suggested_pillar=pillar.value,
        notifications=tuple(notifications),
        assess_by=assess_by(now) if children else None,
        receipt_due_by=receipt_due_by(now) if children and report.reporter.public_employee else None,
        rule_ids=tuple(fired),
        citations=tuple(rule(rid).citation for rid in fired),
        reasons=tuple(reason(rid) for rid in fired),
        policy_version=version,
    )
