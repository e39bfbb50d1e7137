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
from typing import Any, cast

import orjson
import redis
import redis.asyncio as aredis
import redis.cluster
from faststream.redis.message import FAKE_CONSUMER, RedisBatchStreamMessage
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.crc import key_slot
from redis.exceptions import ResponseError

from hub.config.redis_cluster import is_cluster_url, parse_cluster_url
from hub.schemas.cloudevents import EVENT_FIELD, uuid4_text
from hub.schemas.entry import Entry

# No socket timeout on the asyncio cluster client, as on the plain one (redis-py's cluster
# default is 5 s): on Python 3.11 a cancellation that meets the timeout's own expiry or a
# reply is lost, and a cancelled blocking read carries on reading, so the hub's reader tasks
# (and FastStream's) would never end at shutdown. Without it the cluster client waits on a
# connection as the plain client the hub uses on one Redis does (the relay bounds its sends).
CLUSTER_SOCKET_TIMEOUT: float | None = None


def redis_client(url: str) -> aredis.Redis:
    """The one way the hub makes an asyncio Redis client: a server's URL, or a cluster's
    (`redis+cluster://HOST:PORT,...`, `hub.config.redis_cluster`).

    The cluster client has the same command methods (redis-py's cluster mixins), and routes
    each single-key command to the master of its key's slot; it is typed as the plain client so
    the hub's code is one. What must differ on a cluster (a command over several keys) asks
    `slot_groups`, which keeps each command within one hash slot."""
    if not is_cluster_url(url):
        return aredis.Redis.from_url(url)
    cluster = parse_cluster_url(url)
    client = RedisCluster(
        startup_nodes=[ClusterNode(host, port) for host, port in cluster.nodes],
        username=cluster.username,
        password=cluster.password,
        ssl=cluster.ssl,
        socket_timeout=CLUSTER_SOCKET_TIMEOUT,
    )
    return cast("aredis.Redis", client)


def sync_redis_client(url: str) -> redis.Redis:
    """`redis_client`, synchronous (the CLI, and tests that look from outside)."""
    if not is_cluster_url(url):
        return redis.Redis.from_url(url)
    cluster = parse_cluster_url(url)
    client = redis.cluster.RedisCluster(
        startup_nodes=[redis.cluster.ClusterNode(host, port) for host, port in cluster.nodes],  # type: ignore[no-untyped-call]
        username=cluster.username,
        password=cluster.password,
        ssl=cluster.ssl,
    )
    return cast("redis.Redis", client)


def is_cluster(client: object) -> bool:
    return isinstance(client, RedisCluster | redis.cluster.RedisCluster)


def slot_groups(client: object, keys: list[str]) -> list[list[int]]:
    """The positions of `keys`, grouped so that each group can go into one multi-key command:
    all of them on one server; per hash slot on a cluster (a command over keys of different
    slots fails there with CROSSSLOT). Each group keeps the keys' order."""
    if not is_cluster(client):
        return [list(range(len(keys)))] if keys else []
    groups: dict[int, list[int]] = {}
    for n, key in enumerate(keys):
        groups.setdefault(key_slot(key.encode()), []).append(n)
    return list(groups.values())


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
