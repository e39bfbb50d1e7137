"""Dead letters: the set-aside messages, listed without their content, or one with it; and who
showed or replayed them."""

from __future__ import annotations

from sqlmodel import Session, col, select

from hub.store.deadletters import decode_fields
from hub.store.models import DeadLetterAccess, DeadLetterRecord
from hub.store.queries.views import (
    DeadLetterAccessView,
    DeadLetterSummary,
    DeadLetterView,
    PayloadField,
    as_utc,
    utc_or_none,
)


def _summary(r: DeadLetterRecord) -> DeadLetterSummary:
    return DeadLetterSummary(
        id=r.id or 0,
        stream=r.stream,
        entry_id=r.entry_id,
        reason=r.reason,
        detail=r.detail,
        deliveries=r.deliveries,
        created_at=as_utc(r.created_at),
        payload_bytes=len(r.payload),
        payload_sha256=r.payload_sha256,
        replay_count=r.replay_count,
        replayed_at=utc_or_none(r.replayed_at),
        replay_entry_id=r.replay_entry_id,
    )


def dead_letters(
    session: Session, *, stream: str | None = None, reason: str | None = None, limit: int = 100
) -> list[DeadLetterSummary]:
    """Set-aside messages, newest first, without their content."""
    query = select(DeadLetterRecord).order_by(col(DeadLetterRecord.id).desc()).limit(limit)
    if stream:
        query = query.where(DeadLetterRecord.stream == stream)
    if reason:
        query = query.where(DeadLetterRecord.reason == reason)
    return [_summary(r) for r in session.exec(query)]


def dead_letter(session: Session, record_id: int) -> DeadLetterView | None:
    """One set-aside message with its fields as they arrived (personal data: show on request)."""
    record = session.get(DeadLetterRecord, record_id)
    if record is None:
        return None
    try:
        fields = tuple(PayloadField(k, v) for k, v in decode_fields(record.payload, record.payload_encoding).items())
    except ValueError:
        fields = (PayloadField(None, record.payload),)
    return DeadLetterView(_summary(record), fields)


def dead_letter_accesses(
    session: Session, *, deadletter_id: int | None = None, limit: int = 100
) -> list[DeadLetterAccessView]:
    """Who showed a set-aside message's content or replayed it, newest first."""
    query = select(DeadLetterAccess).order_by(col(DeadLetterAccess.id).desc()).limit(limit)
    if deadletter_id is not None:
        query = query.where(DeadLetterAccess.deadletter_id == deadletter_id)
    return [
        DeadLetterAccessView(
            a.deadletter_id, a.stream, a.entry_id, a.action, a.actor, a.os_user, a.reason, a.new_entry_id, as_utc(a.at)
        )
        for a in session.exec(query)
    ]
