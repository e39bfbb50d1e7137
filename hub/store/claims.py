"""Claims on triage items: at most one owner, changed only by a conditional update, and every
claim, release, takeover and assignment kept in `claimevent` (append-only, chained in the audit chain by
`_record`, the table's only writer, in the caller's transaction)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from hub.store import audit_chain
from hub.store.models import ClaimEvent, TriageItem

CLAIM, RELEASE, TAKEOVER, ASSIGN, DECIDE = "claim", "release", "takeover", "assign", "decide"


def owner(session: Session, report_ref: str) -> str | None:
    return session.exec(select(TriageItem.claimed_by).where(TriageItem.report_ref == report_ref)).first()


def holder(session: Session, report_ref: str) -> tuple[str | None, str | None]:
    """The item's owner and who assigned it to them (None: they took it themselves)."""
    found = session.exec(
        select(TriageItem.claimed_by, TriageItem.assigned_by).where(TriageItem.report_ref == report_ref)
    ).first()
    return (found[0], found[1]) if found is not None else (None, None)


def _set_owner(
    session: Session,
    report_ref: str,
    expected: str | None,
    new: str | None,
    now: datetime,
    assigned_by: str | None = None,
) -> bool:
    """Compare-and-set of the owner: False if someone else changed it first. Any change but an
    assignment clears `assigned_by` (the new owner took the item themselves)."""
    where = col(TriageItem.claimed_by).is_(None) if expected is None else col(TriageItem.claimed_by) == expected
    result = session.exec(
        update(TriageItem)
        .where(col(TriageItem.report_ref) == report_ref, where)
        .values(claimed_by=new, claimed_at=now if new else None, assigned_by=assigned_by)
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


def assign(session: Session, report_ref: str, to: str, by: str, expected: str | None, now: datetime) -> bool:
    """Give the item to colleague `to`, on behalf of `by`. `expected` is the owner `by` saw: None
    (unclaimed) or `by` (their own item); False if that is not so, or no longer (compare-and-set
    like a claim). Recorded with who assigned it."""
    if expected not in (None, by) or to == by:
        return False
    if not _set_owner(session, report_ref, expected, to, now, assigned_by=by):
        return False
    _record(
        session, ClaimEvent(report_ref=report_ref, action=ASSIGN, staff=to, previous=expected, assigned_by=by, at=now)
    )
    return True


def history(session: Session, report_ref: str) -> list[ClaimEvent]:
    query = select(ClaimEvent).where(ClaimEvent.report_ref == report_ref).order_by(col(ClaimEvent.id))
    return list(session.exec(query))
