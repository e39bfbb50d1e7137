"""Redis stream mechanics shared by handlers, relay and reclaimer.

Entries are read raw: FastStream's default parser assumes its own envelope and fails on
bytes that are not UTF-8, which would let one bad entry stall a batch. Here every entry
arrives as `Entry` with its raw fields, and the application decides what it means.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import redis.asyncio as aredis
from faststream.redis.message import FAKE_CONSUMER, RedisBatchStreamMessage
from redis.exceptions import ResponseError

from hub.schemas.cloudevents import EVENT_FIELD, uuid4_text
from hub.schemas.entry import Entry


def consumer_name() -> str:
    """Unique per process: host, pid and a random suffix (pids are reused across restarts)."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def encode(event: dict[str, Any]) -> dict[str, str]:
    """The one-field wire form of a CloudEvent: `{"event": "<json>"}`, compact, non-ASCII as it is."""
    return {EVENT_FIELD: orjson.dumps(event).decode()}


async def ensure_group(client: aredis.Redis, stream: str, group: str, start: str = "0") -> None:
    """Create the consumer group at id 0 (not `$`), so entries written before it are read;
    `start="$"`: only entries written from now on."""
    try:
        await client.xgroup_create(stream, group, id=start, mkstream=True)
    except ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


async def raw_batch_parser(
    raw: Any, original: Callable[[Any], Awaitable[RedisBatchStreamMessage]]
) -> RedisBatchStreamMessage:
    """FastStream parser that never fails: the body is left to `raw_batch_decoder`.

    Never FastStream's own parser, not even for entries in its envelope (a `__data__` field):
    on a hub stream that is just an entry with the wrong fields, refused by the envelope parser
    like any other (`extra_fields` or `missing_event_field`). FastStream's parser would fail
    the whole batch on garbage bytes there, and every entry in it would wait for the reclaimer."""
    return RedisBatchStreamMessage(
        raw_message=raw,
        body=b"",
        consumer=FAKE_CONSUMER,
        group=None,
        headers={},
        batch_headers=[],
        reply_to="",
        content_type=None,
        message_id=uuid4_text(),  # from a pool: uuid.uuid4() is a system call per id
        correlation_id=uuid4_text(),
        path={},
    )


async def raw_batch_decoder(msg: RedisBatchStreamMessage) -> list[Entry]:
    raw = msg.raw_message
    ids = [i.decode() for i in raw.get("message_ids") or []]
    if len(ids) != len(raw["data"]):  # FastStream's in-memory test broker sends no entry ids
        ids = [f"0-{n}" for n in range(len(raw["data"]))]
    return [Entry(stream=raw["channel"], entry_id=i, fields=dict(f)) for i, f in zip(ids, raw["data"], strict=True)]


async def delivery_counts(client: aredis.Redis, stream: str, group: str, ids: list[str]) -> dict[str, int]:
    """Times each pending entry was delivered (XPENDING), for the dead-letter cap."""
    if not ids:
        return {}
    wanted = set(ids)
    lo, hi = min(ids, key=_id_key), max(ids, key=_id_key)
    rows = await client.xpending_range(stream, group, min=lo, max=hi, count=len(ids) * 4 + 10)
    counts: dict[str, int] = {}
    for row in rows:
        entry_id = row["message_id"]
        key = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
        if key in wanted:
            counts[key] = int(row["times_delivered"])
    return counts


def _id_key(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)
