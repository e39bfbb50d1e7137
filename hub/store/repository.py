"""Repository functions over one session: the only place that knows the tables' shape."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from hub.schemas import streams
from hub.schemas.cloudevents import new_event
from hub.schemas.events import MESSAGE_DEADLETTERED, DeadLetter
from hub.store.models import (
    Case,
    DeadLetterRecord,
    Decision,
    Disclosure,
    Outbox,
    ProcessedEntry,
    Report,
    TriageItem,
)
from hub.transport import Entry


def processed_ids(session: Session, stream: str, entry_ids: Sequence[str]) -> set[str]:
    if not entry_ids:
        return set()
    rows = session.exec(
        select(ProcessedEntry.entry_id).where(
            ProcessedEntry.stream == stream, col(ProcessedEntry.entry_id).in_(entry_ids)
        )
    )
    return set(rows)


def mark_processed(session: Session, stream: str, entry_id: str, now: datetime) -> None:
    session.add(ProcessedEntry(stream=stream, entry_id=entry_id, processed_at=now))


def reports_by_event(session: Session, source_id: str, event_ids: Iterable[str]) -> dict[str, Report]:
    ids = list(set(event_ids))
    if not ids:
        return {}
    rows = session.exec(select(Report).where(Report.source_id == source_id, col(Report.event_id).in_(ids)))
    return {r.event_id: r for r in rows}


def get_report(session: Session, ref: str) -> Report | None:
    return session.get(Report, ref)


def subject_key(cpr: str | None) -> str | None:
    return hashlib.sha256(cpr.encode()).hexdigest() if cpr else None


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


def add_outbox(session: Session, stream: str, event: dict[str, Any], now: datetime) -> None:
    session.add(Outbox(stream=stream, event=event, created_at=now))


def add_deadletter(session: Session, entry: Entry, reason: str, detail: str, now: datetime) -> None:
    """Keep the entry whole in the database; put a redacted record on `hub.deadletter.v1`."""
    payload = entry.raw_bytes
    digest = hashlib.sha256(payload).hexdigest()
    session.add(
        DeadLetterRecord(
            stream=entry.stream,
            entry_id=entry.entry_id,
            reason=reason,
            detail=detail,
            deliveries=entry.deliveries,
            payload=payload,
            payload_sha256=digest,
            created_at=now,
        )
    )
    data = DeadLetter(
        stream=entry.stream,
        entry_id=entry.entry_id,
        reason=reason,
        detail=detail,
        deliveries=entry.deliveries,
        payload_sha256=digest,
        payload_bytes=len(payload),
    )
    add_outbox(session, streams.DEADLETTER, new_event(MESSAGE_DEADLETTERED, data, now=now), now)


def triage_items(session: Session, queue: str | None = None, status: str | None = "open") -> list[TriageItem]:
    query = select(TriageItem).order_by(col(TriageItem.created_at))
    if queue:
        query = query.where(TriageItem.queue == queue)
    if status:
        query = query.where(TriageItem.status == status)
    return list(session.exec(query))


def triage_item(session: Session, report_ref: str) -> TriageItem | None:
    return session.exec(select(TriageItem).where(TriageItem.report_ref == report_ref)).first()


def decision_exists(session: Session, source_id: str, event_id: str) -> bool:
    row = session.exec(
        select(Decision.id).where(Decision.source_id == source_id, Decision.event_id == event_id)
    ).first()
    return row is not None


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
