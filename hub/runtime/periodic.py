"""Periodic tasks of `hub serve`: the audit chain's anchor, and the retention job.

Both run in every process that stores (not in an urgent-watch-only one). Anchoring is cheap and
idempotent (the head is published only when it moved). Retention runs under a lease in Redis
(`SET NX PX`): whichever process takes it does the job, the others skip that round; the lease
outlives a crashed holder by at most its length. The job's own steps are idempotent, so a job
cut short is done again next round.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import anyio
import redis.asyncio as aredis
from sqlalchemy.engine import Engine

from hub.config.registry import Registry
from hub.logs import get_logger
from hub.policies import Agreement
from hub.services.audit import chain_head, publish_anchor
from hub.services.retention import RetentionRun, run_retention

log = get_logger("hub.runtime.periodic")


async def every(interval_s: float, step: Callable[[], Awaitable[object]], name: str) -> None:
    """Run `step` now and then every `interval_s`; a failure is logged and tried next round."""
    while True:
        try:
            await step()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001  (a periodic task outlives a bad round)
            log.warning("periodic.failed", task=name, error=type(exc).__name__)
        await asyncio.sleep(interval_s)


async def anchor_once(client: aredis.Redis, engine: Engine) -> None:
    head = await anyio.to_thread.run_sync(chain_head, engine)
    if await publish_anchor(client, head, datetime.now(UTC)):
        log.info("audit.anchored", seq=head.seq if head else None)


RETENTION_LEASE = "hub:lease:retention"
RETENTION_CHECK_S = 3600.0  # how often a process asks for the lease (at most the interval)


async def take_lease(client: aredis.Redis, key: str, ms: int) -> bool:
    """A lease on `key` for `ms` milliseconds (`SET NX PX`); False while another process holds it."""
    return bool(await client.set(key, uuid.uuid4().hex, nx=True, px=ms))


async def retention_once(
    client: aredis.Redis, engine: Engine, registry: Registry, agreement: Agreement, interval_s: float
) -> RetentionRun | None:
    """The retention job, if this process gets the lease (None: it ran less than `interval_s` ago).

    The lease is not given back when the job is done: it lasts the interval, so the job runs once
    per interval whichever process asks, and at most once at a time. A process that dies
    mid-job leaves the lease to run out; the job's steps are idempotent, the next one finishes."""
    if not await take_lease(client, RETENTION_LEASE, int(interval_s * 1000)):
        return None
    done = await run_retention(client, engine, registry, agreement, datetime.now(UTC))
    log.info("retention.done", **done.database, stream_entries_trimmed=sum(done.streams.values()))
    return done
