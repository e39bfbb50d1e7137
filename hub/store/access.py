"""The access log: who viewed which case's personal data, when and on what ground.

`record_access` is the only writer of `accessrecord` (append-only: nothing but retention deletes
a row), and chains every record (`hub.store.audit_chain`) in the caller's transaction, so an
edited or deleted record is named by `hub audit verify`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from hub.store import audit_chain
from hub.store.lookups import subject_key
from hub.store.models import AccessRecord, Case, Report
from hub.store.queries.views import as_utc

OWN_CLAIM, ASSIGNED, BREAK_GLASS = "own_claim", "assigned", "break_glass"
ACCESS_REQUEST = "access_request"  # the jurist looked the person up to answer a request for access
GROUNDS = (OWN_CLAIM, ASSIGNED, BREAK_GLASS, ACCESS_REQUEST)


@dataclass(frozen=True, slots=True)
class AccessView:
    staff: str
    report_ref: str
    ground: str
    reason: str | None
    flagged: bool
    at: datetime


def record_access(
    session: Session, *, staff: str, report_ref: str, case_id: int | None, ground: str, reason: str | None, at: datetime
) -> None:
    """Append one access record and chain it (in the caller's transaction). A break-glass view
    is flagged for the jurist's review."""
    if ground not in GROUNDS:
        raise ValueError(f"unknown access ground {ground!r}")
    row = AccessRecord(
        staff=staff,
        report_ref=report_ref,
        case_id=case_id,
        ground=ground,
        reason=reason,
        flagged=ground == BREAK_GLASS,
        at=at,
    )
    session.add(row)
    session.flush()  # the id is the record's key in the chain
    audit_chain.append(session, audit_chain.ACCESS, [row.model_dump()])


def _views(rows: list[AccessRecord]) -> list[AccessView]:
    return [AccessView(r.staff, r.report_ref, r.ground, r.reason, r.flagged, as_utc(r.at)) for r in rows]


def access_log(
    session: Session, *, report_ref: str | None = None, staff: str | None = None, flagged_only: bool = False
) -> list[AccessView]:
    """Access records, newest first, for one case and/or one staff member."""
    query = select(AccessRecord).order_by(col(AccessRecord.at).desc(), col(AccessRecord.id).desc())
    if report_ref is not None:
        query = query.where(AccessRecord.report_ref == report_ref)
    if staff is not None:
        query = query.where(AccessRecord.staff == staff)
    if flagged_only:
        query = query.where(col(AccessRecord.flagged).is_(True))
    return _views(list(session.exec(query.limit(500))))


def viewers_of(session: Session, cpr: str) -> list[AccessView]:
    """Who viewed the data of the person with this (normalised) CPR number, across all their
    cases, oldest first (for `hub access CPR`: the lead wires it)."""
    case_ids = list(session.exec(select(Case.id).where(Case.subject_key == subject_key(cpr))))
    if not case_ids:
        return []
    refs = select(Report.ref).where(col(Report.case_id).in_(case_ids))
    query = (
        select(AccessRecord)
        .where(col(AccessRecord.report_ref).in_(refs))
        .order_by(col(AccessRecord.at), col(AccessRecord.id))
    )
    return _views(list(session.exec(query)))
