"""Claims on triage items: at most one owner, changed only by a conditional update, and every
claim, release and takeover kept in `claimevent` (append-only, chained in the audit chain by
`_record`, the table's only writer, in the caller's transaction)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from hub.store import audit_chain
from hub.store.models import ClaimEvent, TriageItem

CLAIM, RELEASE, TAKEOVER, DECIDE = "claim", "release", "takeover", "decide"


def owner(session: Session, report_ref: str) -> str | None:
    return session.exec(select(TriageItem.claimed_by).where(TriageItem.report_ref == report_ref)).first()


def _set_owner(session: Session, report_ref: str, expected: str | None, new: str | None, now: datetime) -> bool:
    """Compare-and-set of the owner: False if someone else changed it first."""
    where = col(TriageItem.claimed_by).is_(None) if expected is None else col(TriageItem.claimed_by) == expected
    result = session.exec(
        update(TriageItem)
        .where(col(TriageItem.report_ref) == report_ref, where)
        .values(claimed_by=new, claimed_at=now if new else None)
    )
    return bool(result.rowcount == 1)


def _record(session: Session, event: ClaimEvent) -> None:
    session.add(event)
    session.flush()  # the id is the event's key in the chain
    audit_chain.append(session, audit_chain.CLAIM_EVENT, [event.model_dump()])


def claim(session: Session, report_ref: str, staff: str, now: datetime) -> bool:
    """Claim an unowned item; False if it has an owner already (or does not exist)."""
    if not _set_owner(session, report_ref, None, staff, now):
        return False
    _record(session, ClaimEvent(report_ref=report_ref, action=CLAIM, staff=staff, at=now))
    return True


def release(session: Session, report_ref: str, staff: str, now: datetime) -> bool:
    """Give up one's own claim; False if the item is not claimed by `staff`."""
    if not _set_owner(session, report_ref, staff, None, now):
        return False
    _record(session, ClaimEvent(report_ref=report_ref, action=RELEASE, staff=staff, at=now))
    return True


def take_over(session: Session, report_ref: str, staff: str, previous: str, now: datetime) -> bool:
    """Take over an item `previous` owns (recorded with the previous owner); False if the owner
    changed meanwhile."""
    if not _set_owner(session, report_ref, previous, staff, now):
        return False
    _record(session, ClaimEvent(report_ref=report_ref, action=TAKEOVER, staff=staff, previous=previous, at=now))
    return True


def history(session: Session, report_ref: str) -> list[ClaimEvent]:
    query = select(ClaimEvent).where(ClaimEvent.report_ref == report_ref).order_by(col(ClaimEvent.id))
    return list(session.exec(query))
