"""The right of access (indsigt): finding a person's cases by CPR number or by name and birth
date, and everything the hub holds on what happened with their data: the reports received
about them, each disclosure with who decided it, and which member of staff opened their cases
in the workspace (the access log), when and on what ground.

Only the person's own data: a report's reporter, description and other people in it are not
read out; a name and birth date that match more than one person are refused by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func
from sqlalchemy import select as core_select  # six columns: more than sqlmodel's select types
from sqlmodel import Session, col, select

from hub.schemas.cpr import birth_date
from hub.store.lookups import subject_key
from hub.store.models import AccessRecord, Case, Decision, Disclosure, Report, Staff
from hub.store.queries.cases import _disclosure
from hub.store.queries.views import DisclosureView, as_utc


@dataclass(frozen=True)
class Person:
    """Who the access request is about: the cases found, and how the person is identified in
    them (so the document says whom it covers). `subject_keys` are the distinct CPR-based
    keys found: more than one means the name and birth date matched several people."""

    case_ids: tuple[int, ...]
    subject_keys: tuple[str, ...]
    name: str | None
    born: date | None


@dataclass(frozen=True)
class ReceivedReport:
    """A report about the person: when, from which source, which categories (no free text,
    nothing about the reporter)."""

    report_ref: str
    received_at: datetime
    source_id: str
    categories: tuple[str, ...]


@dataclass(frozen=True)
class AccessDisclosure:
    """A disclosure with who decided it: a triage worker's initials for a referral, None for
    a notification the law makes the hub raise itself."""

    disclosure: DisclosureView
    decided_by: str | None
    decided_at: datetime | None


@dataclass(frozen=True)
class StaffView:
    """One time a member of staff opened one of the person's cases in the workspace (the access
    log): when, who (username; name and role while the account exists), which case, on what
    ground (`own_claim`, `assigned`, `break_glass`). The written break-glass reason is not read:
    it is for the jurist's review (the workspace's access log), not for the letter."""

    viewed_at: datetime
    staff: str
    staff_name: str | None
    role: str | None
    report_ref: str
    ground: str


def person_by_cpr(session: Session, cpr: str) -> Person:
    """The cases of the person with this (normalised) CPR number."""
    key = subject_key(cpr)
    ids = tuple(i for i in session.exec(select(Case.id).where(Case.subject_key == key).order_by(col(Case.id))) if i)
    name = None
    if ids:
        path = col(Report.payload)[("subject", "name")].as_string()
        name = session.exec(
            select(path).where(col(Report.case_id).in_(ids)).order_by(col(Report.received_at).desc()).limit(1)
        ).first()
    return Person(ids, (key,) if ids and key else (), name, birth_date(cpr))


def person_by_name(session: Session, name: str, born: date) -> Person:
    """The cases whose reports name this person (same name; case is ignored, for letters
    outside ASCII only on PostgreSQL) with this birth date (given, or read from the report's
    CPR number)."""
    wanted = " ".join(name.split()).lower()
    subject = col(Report.payload)
    query = select(
        col(Report.case_id),
        subject[("subject", "name")].as_string(),
        subject[("subject", "birth_date")].as_string(),
        subject[("subject", "cpr")].as_string(),
    ).where(func.lower(subject[("subject", "name")].as_string()) == func.lower(" ".join(name.split())))
    found: set[int] = set()
    keys: set[str] = set()
    shown: str | None = None
    for case_id, their_name, their_born, cpr in session.execute(query):
        if case_id is None or " ".join((their_name or "").split()).lower() != wanted:
            continue
        if _born(their_born, cpr) != born:
            continue
        found.add(case_id)
        shown = their_name
        if cpr:
            keys.add(subject_key(cpr) or "")
    # A person's CPR-keyed cases that the name search did not reach (a report with CPR only).
    if keys:
        found |= {i for i in session.exec(select(Case.id).where(col(Case.subject_key).in_(keys))) if i}
    return Person(tuple(sorted(found)), tuple(sorted(keys)), shown, born)


def _born(text: str | None, cpr: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else (birth_date(cpr) if cpr else None)
    except ValueError:
        return None


def reports_about(session: Session, person: Person) -> list[ReceivedReport]:
    if not person.case_ids:
        return []
    cats = col(Report.payload)[("concern", "categories")]
    query = (
        select(col(Report.ref), col(Report.received_at), col(Report.source_id), cats)
        .where(col(Report.case_id).in_(person.case_ids))
        .order_by(col(Report.received_at), col(Report.ref))
    )
    return [
        ReceivedReport(ref, as_utc(at), source, tuple(sorted(categories or ())))
        for ref, at, source, categories in session.execute(query)
    ]


def disclosures_about(session: Session, person: Person) -> list[AccessDisclosure]:
    """Every disclosure about the person, oldest first, with who decided it."""
    if not person.case_ids:
        return []
    query = (
        select(Disclosure, Decision)
        .outerjoin(Decision, col(Decision.id) == col(Disclosure.decision_id))
        .where(col(Disclosure.case_id).in_(person.case_ids))
        .order_by(col(Disclosure.created_at), col(Disclosure.id))
    )
    return [
        AccessDisclosure(_disclosure(d), dec.decided_by if dec else None, as_utc(dec.decided_at) if dec else None)
        for d, dec in session.exec(query)
    ]


def staff_views(session: Session, person: Person) -> list[StaffView]:
    """Who opened the person's cases, oldest first: the access records of the reports in the
    person's cases, nobody else's."""
    if not person.case_ids:
        return []
    refs = select(Report.ref).where(col(Report.case_id).in_(person.case_ids))
    query = (
        core_select(
            col(AccessRecord.at),
            col(AccessRecord.staff),
            col(Staff.display_name),
            col(Staff.role),
            col(AccessRecord.report_ref),
            col(AccessRecord.ground),
        )
        .outerjoin(Staff, col(Staff.username) == col(AccessRecord.staff))
        .where(col(AccessRecord.report_ref).in_(refs))
        .order_by(col(AccessRecord.at), col(AccessRecord.id))
    )
    return [
        StaffView(as_utc(at), staff, name, role, ref, ground)
        for at, staff, name, role, ref, ground in session.execute(query)
    ]
