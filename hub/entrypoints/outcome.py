"""Send a triage decision the way every client does (`decision.made` on `hub.decisions.v1`) and
wait for its outcome, so that staff get a truthful answer at once: the stored decision with each
recipient's verdict, or the hub's refusal from the deciding source's receipts stream. The web
workspace waits asynchronously, `hub triage decide` synchronously; both read the same way."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import anyio
import redis
import redis.asyncio as aredis
from sqlalchemy.engine import Engine

from hub.schemas import streams
from hub.schemas.cloudevents import EVENT_FIELD, new_event, uuid4_text
from hub.schemas.decision import DECISION_MADE, TriageDecision
from hub.store import queries
from hub.store.queries.views import DecisionView

T = TypeVar("T")

POLL_S = 0.1


@dataclass(frozen=True, slots=True)
class Refused:
    code: str
    message_da: str
    errors: tuple[dict[str, str], ...]


@dataclass(frozen=True, slots=True)
class Pending:
    """Sent, but no outcome within the wait: the hub may be busy or stopped."""

    event_id: str


Outcome = DecisionView | Refused | Pending


def decision_entry(decision: TriageDecision, source: str) -> tuple[str, dict[str, str]]:
    """(event id, stream entry fields) of a `decision.made` event."""
    event_id = uuid4_text()
    event = new_event(
        DECISION_MADE, decision, now=datetime.now(UTC), source=source, event_id=event_id, subject=decision.report_ref
    )
    return event_id, {EVENT_FIELD: json.dumps(event, ensure_ascii=False)}


def stored(engine: Engine, source: str, event_id: str) -> DecisionView | None:
    with queries.reading(engine) as session:
        return queries.decision_by_event(session, source, event_id)


def refusal_in(entries: Any, after: Any, event_id: str) -> tuple[Refused | None, Any]:
    """The rejection receipt of `event_id` among receipt entries, and the last entry id read."""
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


def _exclusive(entry_id: Any) -> bytes:
    """An XRANGE start just after `entry_id`."""
    return b"(" + (entry_id if isinstance(entry_id, bytes) else str(entry_id).encode())


async def send_and_wait(
    client: aredis.Redis, engine: Engine, source: str, decision: TriageDecision, timeout_s: float
) -> Outcome:
    event_id, fields = decision_entry(decision, source)
    return await send_entry_and_wait(client, engine, source, event_id, fields, stored, timeout_s)


def send_and_wait_sync(
    client: redis.Redis, engine: Engine, source: str, decision: TriageDecision, timeout_s: float
) -> Outcome:
    event_id, fields = decision_entry(decision, source)
    return send_entry_and_wait_sync(client, engine, source, event_id, fields, stored, timeout_s)


# What a staff event's outcome is looked up by: (engine, source, event id) -> the stored result.
Lookup = Callable[[Engine, str, str], T | None]


async def send_entry_and_wait(
    client: aredis.Redis,
    engine: Engine,
    source: str,
    event_id: str,
    fields: dict[str, str],
    look: Lookup[T],
    timeout_s: float,
) -> T | Refused | Pending:
    """XADD a staff event to `hub.decisions.v1` and wait for what `look` finds stored, or the
    hub's refusal of it on the source's receipts stream (read only after the XADD's moment)."""
    receipts = streams.receipts(source)
    last: Any = await client.xrevrange(receipts, count=1)
    after = _exclusive(last[0][0] if last else b"0-0")
    await client.xadd(streams.DECISIONS, fields)  # type: ignore[arg-type]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = await anyio.to_thread.run_sync(look, engine, source, event_id)
        if found is not None:
            return found
        refused, read = refusal_in(await client.xrange(receipts, min=after, count=100), None, event_id)
        if refused is not None:
            return refused
        after = _exclusive(read) if read is not None else after
        await asyncio.sleep(POLL_S)
    return Pending(event_id)


def send_entry_and_wait_sync(
    client: redis.Redis,
    engine: Engine,
    source: str,
    event_id: str,
    fields: dict[str, str],
    look: Lookup[T],
    timeout_s: float,
) -> T | Refused | Pending:
    """`send_entry_and_wait`, synchronous (the CLI)."""
    receipts = streams.receipts(source)
    newest: Any = client.xrevrange(receipts, count=1)
    after = _exclusive(newest[0][0] if newest else b"0-0")
    client.xadd(streams.DECISIONS, fields)  # type: ignore[arg-type]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = look(engine, source, event_id)
        if found is not None:
            return found
        refused, read = refusal_in(client.xrange(receipts, min=after, count=100), None, event_id)
        if refused is not None:
            return refused
        after = _exclusive(read) if read is not None else after
        time.sleep(POLL_S)
    return Pending(event_id)
