"""Repository functions over one session for the CLI and the demo: reports, cases, triage
items, disclosures, dead letters. The batch write path lives beside it: `hub.store.rows`
(RowBatch), `hub.store.bulk` (bulk writers), `hub.store.lookups` (tracking and look-ups),
`hub.store.deadletters` (the lossless field codec and dead-letter rows)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

# Re-exported: the CLI reads them here.
from hub.store.deadletters import decode_fields as decode_fields
from hub.store.deadletters import encode_fields as encode_fields
from hub.store.lookups import subject_key as subject_key
from hub.store.models import Case, DeadLetterRecord, Disclosure, Outbox, Report, TriageItem


def reports_by_event(session: Session, source_id: str, event_ids: Iterable[str]) -> dict[str, Report]:
    ids = list(set(event_ids))
    if not ids:
        return {}
    rows = session.exec(select(Report).where(Report.source_id == source_id, col(Report.event_id).in_(ids)))
    return {r.event_id: r for r in rows}


def get_report(session: Session, ref: str) -> Report | None:
    return session.get(Report, ref)


def case_for(session: Session, key: str | None, now: datetime) -> Case:
    """The subject's open case, or a new one (an area observation always gets a new one)."""
    if key is not None:
        found = session.exec(select(Case).where(Case.subject_key == key).order_by(col(Case.id))).first()
        if found is not None:
            return found
    case = Case(subject_key=key, created_at=now)
    session.add(case)
    session.flush()
    return case


def add_outbox(
    session: Session, stream: str, event: dict[str, Any], now: datetime, relay_after: datetime | None = None
) -> Outbox:
    row = Outbox(stream=stream, event=event, created_at=now, relay_after=relay_after)
    session.add(row)
    return row


def deadletters(
    session: Session, *, stream: str | None = None, reason: str | None = None, limit: int = 100
) -> list[DeadLetterRecord]:
    """Dead letters, newest first."""
    query = select(DeadLetterRecord).order_by(col(DeadLetterRecord.id).desc()).limit(limit)
    if stream:
        query = query.where(DeadLetterRecord.stream == stream)
    if reason:
        query = query.where(DeadLetterRecord.reason == reason)
    return list(session.exec(query))


def deadletter(session: Session, record_id: int, *, for_update: bool = False) -> DeadLetterRecord | None:
    query = select(DeadLetterRecord).where(DeadLetterRecord.id == record_id)
    if for_update:
        query = query.with_for_update()
    return session.exec(query).first()


def record_replay(record: DeadLetterRecord, new_entry_id: str, now: datetime) -> None:
    record.replayed_at = now
    record.replay_count += 1
    record.replay_entry_id = new_entry_id


def triage_items(session: Session, queue: str | None = None, status: str | None = "open") -> list[TriageItem]:
    query = select(TriageItem).order_by(col(TriageItem.created_at))
    if queue:
        query = query.where(TriageItem.queue == queue)
    if status:
        query = query.where(TriageItem.status == status)
    return list(session.exec(query))


def triage_item(session: Session, report_ref: str) -> TriageItem | None:
    return session.exec(select(TriageItem).where(TriageItem.report_ref == report_ref)).first()


def disclosures_for(session: Session, report_ref: str) -> list[Disclosure]:
    return list(
        session.exec(select(Disclosure).where(Disclosure.report_ref == report_ref).order_by(col(Disclosure.id)))
    )


def disclosures_about(session: Session, cpr: str) -> list[Disclosure]:
    """Every disclosure about the person with this CPR number (the data subject's right of
    access to the log): all their cases, oldest first."""
    key = subject_key(cpr)
    case_ids = list(session.exec(select(Case.id).where(Case.subject_key == key)))
    if not case_ids:
        return []
    return list(
        session.exec(
            select(Disclosure).where(col(Disclosure.case_id).in_(case_ids)).order_by(col(Disclosure.created_at))
        )
    )
