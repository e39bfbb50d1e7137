"""Send a staff action for the reporter the way every client does (`acknowledgement.requested` or
`feedback.requested` on `hub.decisions.v1`) and wait for its outcome, as `hub.entrypoints.outcome`
does for decisions: the message stored for the reporter, or the hub's refusal from the deciding
source's receipts stream. The workspace waits asynchronously, `hub triage receipt`/`feedback`
synchronously."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import redis
import redis.asyncio as aredis
from sqlalchemy.engine import Engine

from hub.entrypoints.outcome import Pending, Refused, send_entry_and_wait, send_entry_and_wait_sync
from hub.schemas.cloudevents import EVENT_FIELD, new_event, uuid4_text
from hub.schemas.reporter import (
    ACKNOWLEDGEMENT_REQUESTED,
    FEEDBACK_REQUESTED,
    AcknowledgementRequest,
    FeedbackRequest,
)
from hub.store import queries
from hub.store.queries.reporter import ReporterMessageView, reporter_message_by_event

Action = AcknowledgementRequest | FeedbackRequest
Outcome = ReporterMessageView | Refused | Pending


def action_entry(action: Action, source: str) -> tuple[str, dict[str, str]]:
    """(event id, stream entry fields) of the staff action's event."""
    event_id = uuid4_text()
    type_ = ACKNOWLEDGEMENT_REQUESTED if isinstance(action, AcknowledgementRequest) else FEEDBACK_REQUESTED
    event = new_event(type_, action, now=datetime.now(UTC), source=source, event_id=event_id, subject=action.report_ref)
    return event_id, {EVENT_FIELD: json.dumps(event, ensure_ascii=False)}


def stored(engine: Engine, source: str, event_id: str) -> ReporterMessageView | None:
    with queries.reading(engine) as session:
        return reporter_message_by_event(session, source, event_id)


async def send_and_wait(
    client: aredis.Redis, engine: Engine, source: str, action: Action, timeout_s: float
) -> Outcome:
    event_id, fields = action_entry(action, source)
    return await send_entry_and_wait(client, engine, source, event_id, fields, stored, timeout_s)


def send_and_wait_sync(client: redis.Redis, engine: Engine, source: str, action: Action, timeout_s: float) -> Outcome:
    event_id, fields = action_entry(action, source)
    return send_entry_and_wait_sync(client, engine, source, event_id, fields, stored, timeout_s)
