"""Plain redis-py clients playing a school and a partner: no FastStream, no hub code on the wire."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import redis.asyncio as aredis


async def read_events(client: aredis.Redis, stream: str, count: int, timeout_s: float = 10.0) -> list[dict[str, Any]]:
    """Block (XREAD) until `stream` holds at least `count` entries; return them as parsed CloudEvents.

    Every entry must have exactly one field, `event`: that is the wire contract."""
    deadline = time.monotonic() + timeout_s
    last = "0-0"
    events: list[dict[str, Any]] = []
    while len(events) < count:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"{stream}: {len(events)} entries after {timeout_s}s, wanted {count}")
        reply = await client.xread({stream: last}, block=int(remaining * 1000) or 1, count=100)
        for _, entries in reply:
            for entry_id, fields in entries:
                last = entry_id
                assert set(fields) == {b"event"}, f"{stream} entry has fields {sorted(fields)}"
                events.append(json.loads(fields[b"event"]))
    return events


async def stream_events(client: aredis.Redis, stream: str) -> list[dict[str, Any]]:
    return [json.loads(f[b"event"]) for _, f in await client.xrange(stream)]


async def pending_count(client: aredis.Redis, stream: str, group: str, timeout_s: float = 5.0) -> int:
    """Entries of `group` still pending, once that is 0 or `timeout_s` has passed. A worker acks
    a batch after publishing its events, so a reader can see the events a moment before that."""
    deadline = time.monotonic() + timeout_s
    while True:
        pending = int((await client.xpending(stream, group))["pending"])
        if pending == 0 or time.monotonic() > deadline:
            return pending
        await asyncio.sleep(0.02)
