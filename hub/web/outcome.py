"""Send a decision the way every client does (`decision.made` on `hub.decisions.v1`) and wait for
its outcome, so staff get a truthful answer at once: the stored decision with each recipient's
verdict, or the hub's refusal from the decision source's receipts stream."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import anyio

from hub.schemas import streams
from hub.schemas.cloudevents import EVENT_FIELD, new_event, uuid4_text
from hub.schemas.decision import DECISION_MADE, TriageDecision
from hub.store import queries
from hub.store.queries.views import DecisionView
from hub.web.deps import WebDeps

POLL_S = 0.1


@dataclass(frozen=True, slots=True)
class Refused:
    code: str
    message_da: str
    errors: tuple[dict[str, str], ...]


@dataclass(frozen=True, slots=True)
class Pending:
    """Sent, but no outcome within the wait: the hub may be busy (the case page will show it)."""

    event_id: str


async def send_and_wait(deps: WebDeps, decision: TriageDecision) -> DecisionView | Refused | Pending:
    event_id = uuid4_text()
    receipts = streams.receipts(deps.decision_source)
    last = await deps.client.xrevrange(receipts, count=1)
    after = last[0][0] if last else b"0-0"
    event = new_event(
        DECISION_MADE,
        decision,
        now=datetime.now(UTC),
        source=deps.decision_source,
        event_id=event_id,
        subject=decision.report_ref,
    )
    await deps.client.xadd(streams.DECISIONS, {EVENT_FIELD: json.dumps(event, ensure_ascii=False)})
    deadline = time.monotonic() + deps.outcome_timeout_s
    while time.monotonic() < deadline:
        stored = await anyio.to_thread.run_sync(_stored, deps, event_id)
        if stored is not None:
            return stored
        refused, after = await _refusal(deps, receipts, after, event_id)
        if refused is not None:
            return refused
        await asyncio.sleep(POLL_S)
    return Pending(event_id)


def _stored(deps: WebDeps, event_id: str) -> DecisionView | None:
    with queries.reading(deps.engine) as session:
        return queries.decision_by_event(session, deps.decision_source, event_id)


async def _refusal(deps: WebDeps, receipts: str, after: Any, event_id: str) -> tuple[Refused | None, Any]:
    entries = await deps.client.xrange(receipts, min=b"(" + _b(after), count=100)
    for entry_id, fields in entries or []:
        after = entry_id
        try:
            data = json.loads((fields or {})[EVENT_FIELD.encode()])["data"]
        except (KeyError, ValueError, TypeError):
            continue
        if data.get("report_event_id") == event_id and data.get("status") == "rejected":
            errors = tuple(
                {"field": e.get("field", ""), "problem": e.get("problem", "")} for e in data.get("errors", [])
            )
            return Refused(data.get("code", ""), data.get("message_da") or "", errors), after
    return None, after


def _b(value: Any) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode()
