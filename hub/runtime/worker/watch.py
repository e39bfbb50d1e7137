"""The urgent watch's reader: one XREADGROUP over every intake stream, without acks (on a
Redis Cluster one per hash slot: a command over keys of several slots fails there)."""

from __future__ import annotations

import asyncio
from typing import cast

from redis.exceptions import RedisError

from hub.logs import get_logger
from hub.runtime.transport import slot_groups
from hub.runtime.worker.stream import StreamWorker
from hub.schemas.entry import Entry

log = get_logger("hub.runtime.worker")


async def watch_forever(worker: StreamWorker, streams: list[str], batch_size: int, poll_ms: int) -> None:
    """The urgent watch's reader: one XREADGROUP over every intake stream at once, each batch
    handed to `worker.watch`. A plain redis-py loop, not a FastStream subscriber per stream: it
    reads every entry the hub receives and stores almost none, so its cost per entry is what
    counts (a substring test).

    It reads with NOACK: nothing waits in its pending list, and the ordinary entries are never
    acked (an urgent one's ack after its commit finds nothing to do). The watch only
    speeds urgent reports up; the intake group is what keeps every entry. If the watch fails
    to store an urgent report (or its process dies), the intake group stores it in its turn.

    The loop must outlive any one failure: if it stopped, urgent reports would wait their turn.

    On a Redis Cluster the streams are read by one such loop per hash slot (`slot_groups`),
    side by side: each blocking read waits on the master that holds its streams."""
    groups = [[streams[n] for n in group] for group in slot_groups(worker.client, streams)]
    if len(groups) == 1:
        await _read_forever(worker, groups[0], batch_size, poll_ms)
        return
    # `gather`, not a TaskGroup: each cancellation of this task reaches every loop again (the
    # hub cancels until its tasks end; redis-py's cluster client can absorb one cancellation
    # of a blocking read, and a TaskGroup passes on only the first).
    loops = [
        asyncio.create_task(_read_forever(worker, g, batch_size, poll_ms), name="urgent-watch-slot") for g in groups
    ]
    try:
        await asyncio.gather(*loops)  # they outlive their failures: none ends
    finally:
        for loop in loops:
            loop.cancel()


async def _read_forever(worker: StreamWorker, streams: list[str], batch_size: int, poll_ms: int) -> None:
    backoff = 0.1
    while True:
        try:
            reply = cast(
                "list[tuple[bytes, list[tuple[bytes, dict[bytes, bytes] | None]]]] | None",
                await worker.client.xreadgroup(
                    worker.group,
                    worker.consumer,
                    dict.fromkeys(streams, ">"),
                    count=batch_size,
                    block=poll_ms,
                    noack=True,
                ),
            )
            backoff = 0.1
        except (RedisError, OSError) as exc:
            log.warning("urgent_watch.retry", exc_info=exc, retry_in_s=backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)
            continue
        batches = [
            (s.decode(), [Entry(s.decode(), i.decode(), fields) for i, fields in messages if fields])
            for s, messages in reply or []
        ]
        try:
            await worker.watch(batches)
        except Exception as exc:  # the intake group stores them in their turn
            log.error("urgent_watch.failed", exc_info=exc)
