"""The reclaimer: entries left pending too long (a crashed consumer's, or this one's after a
transient failure) are claimed and handled again; a batch that fails does not stop the rest."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from redis.exceptions import RedisError

from hub.logs import get_logger
from hub.runtime.transport import delivery_counts
from hub.runtime.worker.stream import StreamWorker
from hub.schemas.entry import Entry

log = get_logger("hub.runtime.worker")


async def reclaim(worker: StreamWorker, stream: str, min_idle_ms: int, count: int) -> int:
    """Claim the stream's entries pending longer than `min_idle_ms` in any consumer of the
    worker's group, `count` at a time, and handle them; the number claimed. A batch whose
    handling fails is logged and left pending for the next round; the pages after it are
    still claimed and handled (one bad batch must not hold the stream's others back)."""
    claimed_total = 0
    start = "0-0"
    while True:
        next_id, messages, *_ = await worker.client.xautoclaim(
            stream, worker.group, worker.consumer, min_idle_time=min_idle_ms, start_id=start, count=count
        )
        messages = [m for m in messages if m is not None and m[1] is not None]
        if messages:
            ids = [m[0].decode() for m in messages]
            counts = await delivery_counts(worker.client, stream, worker.group, ids)
            entries = [
                Entry(stream, i, dict(fields), counts.get(i, 1)) for i, (_, fields) in zip(ids, messages, strict=True)
            ]
            try:
                await worker.handle(stream, entries)
            except (RedisError, OSError):
                raise  # Redis is gone: the next round starts over
            except Exception as exc:  # logged; these stay pending for the next round
                log.error("reclaim.batch_failed", stream=stream, count=len(entries), exc_info=exc)
            claimed_total += len(entries)
        start = next_id.decode() if isinstance(next_id, bytes) else next_id
        if start == "0-0":
            return claimed_total


async def reclaim_forever(
    workers: list[tuple[StreamWorker, str]],
    min_idle_ms: int,
    interval_s: float,
    count: int,
    *,
    also: Callable[[], Awaitable[object]] | None = None,
) -> None:
    """Every `interval_s`, claim and handle entries pending longer than `min_idle_ms` in any
    consumer of the group (a crashed process's, or this one's after a transient failure); then
    run `also` (the sweep of unknown intake streams, `UnknownStreams.sweep`).

    The loop must outlive any one failure: if it stopped, a crashed consumer's entries would
    stay pending for good."""
    while True:
        await asyncio.sleep(interval_s)
        for worker, stream in workers:
            try:
                claimed = await reclaim(worker, stream, min_idle_ms, count)
                if claimed:
                    log.info("reclaim.done", stream=stream, claimed=claimed)
            except (RedisError, OSError) as exc:
                log.warning("reclaim.retry", stream=stream, exc_info=exc)
            except Exception as exc:  # logged; the entries stay pending for the next round
                log.error("reclaim.failed", stream=stream, exc_info=exc)
        if also is not None:
            try:
                await also()
            except (RedisError, OSError) as exc:
                log.warning("unknown_streams.retry", exc_info=exc)
            except Exception as exc:  # logged; tried again next round
                log.error("unknown_streams.failed", exc_info=exc)
