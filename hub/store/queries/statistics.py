"""Counts for DKE's quarterly report: reports, § 133 notifications and referrals grouped by a
dimension and by time bucket, in SQL (GROUP BY) on SQLite and PostgreSQL alike.

Buckets are given as instants: `edges` e0 < e1 < ... < en make bucket i = [e_i, e_{i+1}).
The caller picks them (months of a quarter in Danish time, or quarters); the store knows no
calendar. Every function returns counts only: no reference, no name, no CPR number leaves it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, select, true
from sqlmodel import Session, col

from hub.schemas.cpr import birth_date
from hub.schemas.dates import danish_date
from hub.store.models import Decision, Disclosure, Report, TriageItem
from hub.store.queries.views import as_utc, utc_or_none

Counts = dict[tuple[str | None, int], int]  # (key, bucket) -> count; key None: not recorded

# The dimensions of a report that are a column or a path into the stored report.
_PAYLOAD, _ASSESSMENT = col(Report.payload), col(Report.assessment)
REPORT_DIMENSIONS: dict[str, Any] = {
    "source": col(Report.source_id),
    "queue": col(Report.queue),
    "pillar": _ASSESSMENT[("suggested_pillar",)].as_string(),
    "level": col(TriageItem.suggested_level),
    "district": _PAYLOAD[("subject", "district")].as_string(),
}


def _bucket(moment: Any, edges: Sequence[datetime]) -> ColumnElement[Any]:
    whens = [(and_(moment >= edges[i], moment < edges[i + 1]), literal(i)) for i in range(len(edges) - 1)]
    return case(*whens, else_=literal(-1))


def _in_range(moment: Any, edges: Sequence[datetime]) -> ColumnElement[bool]:
    return and_(moment >= edges[0], moment < edges[-1])


def _counts(session: Session, query: Any) -> Counts:
    return {(key, int(bucket)): int(n) for key, bucket, n in session.execute(query)}


def reports_by(session: Session, dimension: str, edges: Sequence[datetime]) -> Counts:
    """Accepted reports per value of `dimension` (a key of REPORT_DIMENSIONS) and bucket of
    their time of receipt."""
    key = REPORT_DIMENSIONS[dimension]
    bucket = _bucket(col(Report.received_at), edges)
    query = select(key, bucket, func.count()).where(_in_range(col(Report.received_at), edges))
    if dimension == "level":
        query = query.select_from(Report).outerjoin(TriageItem, col(TriageItem.report_ref) == col(Report.ref))
    return _counts(session, query.group_by(key, bucket))


def reports_by_category(session: Session, edges: Sequence[datetime]) -> Counts:
    """Reports per concern category (a report with two categories counts under both)."""
    path = _PAYLOAD[("concern", "categories")]
    if session.get_bind().dialect.name == "postgresql":
        each = func.json_array_elements_text(path).table_valued("value")
    else:
        each = func.json_each(_PAYLOAD, "$.concern.categories").table_valued("value")
    bucket = _bucket(col(Report.received_at), edges)
    query = (
        select(each.c.value, bucket, func.count())
        .select_from(Report)
        .join(each, true())
        .where(_in_range(col(Report.received_at), edges))
        .group_by(each.c.value, bucket)
    )
    return _counts(session, query)


@dataclass(frozen=True)
class AgeBand:
    key: str
    low: int  # inclusive
    high: int | None  # exclusive; None: no upper bound


def reports_by_age(session: Session, edges: Sequence[datetime], bands: Sequence[AgeBand]) -> Counts:
    """Reports per age band of the person on the day of receipt (Danish date); key None for
    a report without a person or without a birth date or CPR number. The age is worked out
    here, from the birth date or the CPR number, and only the band's count leaves."""
    received = col(Report.received_at)
    query = select(
        received, _PAYLOAD[("subject", "birth_date")].as_string(), _PAYLOAD[("subject", "cpr")].as_string()
    ).where(_in_range(received, edges))
    counts: Counter[tuple[str | None, int]] = Counter()
    for at, born_text, cpr in session.execute(query):
        moment = as_utc(at)
        bucket = next(i for i in range(len(edges) - 1) if edges[i] <= moment < edges[i + 1])
        born = _born(born_text, cpr)
        age = None if born is None else _age(born, danish_date(moment))
        band = None if age is None else next((b.key for b in bands if _within(age, b)), None)
        counts[band, bucket] += 1
    return dict(counts)


def _born(born_text: str | None, cpr: str | None) -> date | None:
    try:
        if born_text:
            return date.fromisoformat(born_text)
        return birth_date(cpr) if cpr else None
    except ValueError:  # stored reports were validated; an odd value counts as not recorded
        return None


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _within(age: int, band: AgeBand) -> bool:
    return age >= band.low and (band.high is None or age < band.high)


def referrals_by(session: Session, edges: Sequence[datetime], *, by_reason: bool = False) -> Counts:
    """Referrals per `structure/effect` (share, withhold, escalate) and bucket of the time they
    were decided; with `by_reason`, the withheld ones per `structure/rule id` of the rule that
    decided the withholding (the first reason given)."""
    created = col(Disclosure.created_at)
    structure = func.coalesce(col(Disclosure.structure), "")
    second = col(Disclosure.reasons)[(0, "rule_id")].as_string() if by_reason else col(Disclosure.effect)
    key = structure + literal("/") + func.coalesce(second, "")
    bucket = _bucket(created, edges)
    query = select(key, bucket, func.count()).where(col(Disclosure.kind) == "referral", _in_range(created, edges))
    if by_reason:
        query = query.where(col(Disclosure.effect) == "withhold")
    return _counts(session, query.group_by(key, bucket))


MET, LATE, OPEN_OVERDUE, OPEN = "met", "late", "open_overdue", "open"


def notifications_133(session: Session, edges: Sequence[datetime], as_of: datetime) -> Counts:
    """§ 133 notifications (underretninger) per bucket of receipt, by whether DKE's triage
    decided the report within the 24-hour assessment deadline: `met`, `late`, still open past
    the deadline at `as_of` (`open_overdue`) or open with time left (`open`)."""
    first = (
        select(col(Decision.report_ref).label("ref"), func.min(col(Decision.decided_at)).label("at"))
        .group_by(col(Decision.report_ref))
        .subquery()
    )
    received = col(Report.received_at)
    query = (
        select(received, _ASSESSMENT[("assess_by",)].as_string(), first.c.at)
        .select_from(Disclosure)
        .join(Report, col(Report.ref) == col(Disclosure.report_ref))
        .outerjoin(first, first.c.ref == col(Disclosure.report_ref))
        .where(col(Disclosure.kind) == "children_notification", _in_range(received, edges))
    )
    counts: Counter[tuple[str | None, int]] = Counter()
    for at, due_text, decided in session.execute(query):
        moment = as_utc(at)
        bucket = next(i for i in range(len(edges) - 1) if edges[i] <= moment < edges[i + 1])
        due, done = utc_or_none(due_text), utc_or_none(decided)
        if due is None:
            outcome = None
        elif done is not None:
            outcome = MET if done <= due else LATE
        else:
            outcome = OPEN_OVERDUE if as_of > due else OPEN
        counts[outcome, bucket] += 1
    return dict(counts)
