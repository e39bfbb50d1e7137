"""Send a staff action for the reporter the way every client does (`acknowledgement.requested` or
`feedback.requested` on `hub.decisions.v1`) and wait for its outcome, as `hub.entrypoints.outcome`
does for decisions: the message stored for the reporter, or the hub's refusal from the deciding
source's receipts stream. The workspace waits asynchronously, `hub triage receipt`/`feedback`
synchronously."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from typing import Any

import anyio
import redis
import redis.asyncio as aredis
from sqlalchemy.engine import Engine

from hub.entrypoints.outcome import Pending, Refused, _exclusive, refusal_in
from hub.schemas import streams
from hub.schemas.cloudevents import EVENT_FIELD, new_event, uuid4_text
from hub.schemas.reporter import (
    ACKNOWLEDGEMENT_REQUESTED,
    FEEDBACK_REQUESTED,
    AcknowledgementRequest,
    FeedbackRequest,
)
from hub.store import queries
from hub.store.queries.reporter import ReporterMessageView, reporter_message_by_event

POLL_S = 0.1
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
    receipts = streams.receipts(source)
    last: Any = await client.xrevrange(receipts, count=1)
    after = _exclusive(last[0][0] if last else b"0-0")
    event_id, fields = action_entry(action, source)
    await client.xadd(streams.DECISIONS, fields)  # type: ignore[arg-type]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = await anyio.to_thread.run_sync(stored, engine, source, event_id)
        if found is not None:
            return found
        refused, read = refusal_in(await client.xrange(receipts, min=after, count=100), None, event_id)
        if refused is not None:
            return refused
        after = _exclusive(read) if read is not None else after
        await asyncio.sleep(POLL_S)
    return Pending(event_id)


def send_and_wait_sync(client: redis.Redis, engine: Engine, source: str, action: Action, timeout_s: float) -> Outcome:
    receipts = streams.receipts(source)
    newest: Any = client.xrevrange(receipts, count=1)
    after = _exclusive(newest[0][0] if newest else b"0-0")
    event_id, fields = action_entry(action, source)
    client.xadd(streams.DECISIONS, fields)  # type: ignore[arg-type]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = stored(engine, source, event_id)
        if found is not None:
            return found
        refused, read = refusal_in(client.xrange(receipts, min=after, count=100), None, event_id)
        if refused is not None:
            return refused
        after = _exclusive(read) if read is not None else after
        time.sleep(POLL_S)
    return Pending(event_id)
