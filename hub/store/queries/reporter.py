"""What a report's reporter has heard back from DKE: the kvittering and each feedback
(`reportermessage`, written by `hub.services.reporter`). Read models only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from hub.store.deadlines import utc
from hub.store.models import ReporterMessage


@dataclass(frozen=True, slots=True)
class ReporterMessageView:
    """One message to the reporter: `acknowledgement` (kvittering) or `feedback` with its outcome."""

    report_ref: str
    kind: str
    outcome: str | None
    sent_by: str
    sent_at: datetime
    message_event_id: str


def _view(m: ReporterMessage) -> ReporterMessageView:
    return ReporterMessageView(m.report_ref, m.kind, m.outcome, m.sent_by, utc(m.created_at), m.message_event_id)


def reporter_messages(session: Session, report_ref: str) -> list[ReporterMessageView]:
    """The report's messages to its reporter, oldest first."""
    found = session.exec(
        select(ReporterMessage).where(ReporterMessage.report_ref == report_ref).order_by(col(ReporterMessage.id))
    )
    return [_view(m) for m in found]


def reporter_message_by_event(session: Session, source_id: str, event_id: str) -> ReporterMessageView | None:
    """The message the staff event (`source_id`, `event_id`) led to, once stored."""
    m = session.exec(
        select(ReporterMessage).where(ReporterMessage.source_id == source_id, ReporterMessage.event_id == event_id)
    ).first()
    return _view(m) if m is not None else None
