"""One reader for many streams of one consumer group: an XREADGROUP over all of them at once
(on a Redis Cluster one per hash slot: a command over keys of several slots fails there), each
reply handed over as `(stream, entries)` batches.

Why not a FastStream subscriber per stream, as the decisions stream has: each subscriber is a
blocking read of its own, so under a steady trickle every XADD wakes one that returns a single
entry, which is then stored in a small transaction and acked alone. The cost is per read, not
per report (issue #17: CPU per report under a steady load was 2 to 4.6 times the burst's, and
34 idle subscribers per process polled ten times a second each). One read over every stream,
and a pause after a read that found less than a full batch (`linger_ms`, counted from the
read's start), lets what arrives meanwhile be read, stored and acked together. In a burst the
reads come back full and nobody pauses; at a trickle slower than the pause, an entry is read
the moment it arrives.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import cast

import redis.asyncio as aredis
from redis.exceptions import RedisError, ResponseError

from hub.logs import get_logger
from hub.runtime.transport import ensure_group, slot_groups
from hub.schemas.entry import Entry

log = get_logger("hub.runtime.worker")

Batches = list[tuple[str, list[Entry]]]
HandleFn = Callable[[Batches], Awaitable[None]]
Reply = list[tuple[bytes, list[tuple[bytes, dict[bytes, bytes] | None]]]] | None


@dataclass(frozen=True, slots=True)
class Reading:
    """How one group's streams are read."""

    name: str  # in log event names: intake, urgent_watch, referral_updates
    group: str
    consumer: str
    count: int  # XREADGROUP COUNT: per stream
    block_ms: int  # XREADGROUP BLOCK: how long an empty read waits
    linger_ms: int = 0  # the least time from one read's start to the next, unless it came back full
    noack: bool = False  # the urgent watch: nothing waits in its pending list
    start: str = "0"  # where a group lost meanwhile is created again (the catalogue's `start`)


async def read_forever(client: aredis.Redis, streams: list[str], reading: Reading, handle: HandleFn) -> None:
    """Read `streams` for ever, handing each reply's batches to `handle`.

    The loop outlives any one failure (a lost connection is retried with a growing pause; a
    batch whose handling fails is logged and left pending for the reclaimer): if it stopped,
    the streams would wait. On a cluster, one such loop per hash slot, side by side: each
    blocking read waits on the master that holds its streams."""
    groups = [[streams[n] for n in group] for group in slot_groups(client, streams)]
    if len(groups) == 1:
        await _read_forever(client, groups[0], reading, handle)
        return
    # `gather`, not a TaskGroup: each cancellation of this task reaches every loop again (the
    # hub cancels until its tasks end; redis-py's cluster client can absorb one cancellation
    # of a blocking read, and a TaskGroup passes on only the first).
    loops = [
        asyncio.create_task(_read_forever(client, g, reading, handle), name=f"{reading.name}-reader-slot")
        for g in groups
    ]
    try:
        await asyncio.gather(*loops)  # they outlive their failures: none ends
    finally:
        for loop in loops:
            loop.cancel()


async def _read_forever(client: aredis.Redis, streams: list[str], reading: Reading, handle: HandleFn) -> None:
    clock = asyncio.get_running_loop().time
    offsets = dict.fromkeys(streams, ">")
    backoff = 0.1
    while True:
        started = clock()
        try:
            reply = cast(
                "Reply",
                await client.xreadgroup(
                    reading.group,
                    reading.consumer,
                    offsets,  # type: ignore[arg-type]  # redis-py's stub wants a dict of a union
                    count=reading.count,
                    block=reading.block_ms,
                    noack=reading.noack,
                ),
            )
            backoff = 0.1
        except (RedisError, OSError) as exc:
            if isinstance(exc, ResponseError) and "NOGROUP" in str(exc):
                # A stream or its group is gone (an operator deleted the key, a Redis that lost
                # its data): one read covers every stream, so one lost group would stop them all.
                log.warning(f"{reading.name}.group_recreated", count=len(streams))
                with contextlib.suppress(RedisError, OSError):  # if not, the next read says so
                    for stream in streams:  # the others answer BUSYGROUP, which is ignored
                        await ensure_group(client, stream, reading.group, reading.start)
            log.warning(f"{reading.name}.read_retry", exc_info=exc, retry_in_s=backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)
            continue
        batches = entries_of(reply)
        try:
            await handle(batches)
        except Exception as exc:
            log.error(f"{reading.name}.read_failed", exc_info=exc)
        full = any(len(messages) >= reading.count for _, messages in reply or [])
        pause = reading.linger_ms / 1000 - (clock() - started)
        if reply and not full and pause > 0:
            await asyncio.sleep(pause)


def entries_of(reply: Reply) -> Batches:
    """An XREADGROUP reply as batches of entries; an entry deleted since it was added (no
    fields) is left out."""
    batches: Batches = []
    for raw_stream, messages in reply or []:
        stream = raw_stream.decode()
        entries = [Entry(stream, i.decode(), fields) for i, fields in messages if fields]
        if entries:
            batches.append((stream, entries))
    return batches
