"""The receipt of one report, for the source that sent it (`GET /v1/reports/{ref}/receipt`).

An accepted report keeps its receipt on its row. A refused one has no report row: its rejection
receipt is kept as the outbox row that carried it to the source's receipts stream (until the
retention of relayed outbox rows removes it). Either way only the sending source gets it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlmodel import Session, col, select

from hub.schemas import streams
from hub.store.models import Outbox, Report

# How many of a source's newest receipts are searched for a refusal: a refusal is answered
# within seconds, so a client asking about it finds it among the newest; the bound keeps a
# poll for a report not yet processed from reading the whole outbox.
RECENT_RECEIPTS = 2_000


def receipt_for(
    session: Session, source_id: str, ref: str, ref_of: Callable[[str], str], *, recent: int = RECENT_RECEIPTS
) -> dict[str, Any] | None:
    """The receipt's data (`ReceiptData` as stored) of report `ref` if `source_id` sent it, else None.

    `ref_of(event_id)` is the reference of a report of this source with that CloudEvent id: a
    rejection receipt names the event id, not the reference (the store does not derive it)."""
    report = session.get(Report, ref)
    if report is not None:
        data = (report.receipt_event or {}).get("data") if report.source_id == source_id else None
        return data if isinstance(data, dict) else None
    newest = (
        select(Outbox.event)
        .where(Outbox.stream == streams.receipts(source_id))
        .order_by(col(Outbox.id).desc())
        .limit(recent)
    )
    for event in session.exec(newest):
        data = event.get("data") if isinstance(event, dict) else None
        if not isinstance(data, dict) or data.get("status") != "rejected":
            continue
        event_id = data.get("report_event_id")
        if isinstance(event_id, str) and ref_of(event_id) == ref:
            return data
    return None
