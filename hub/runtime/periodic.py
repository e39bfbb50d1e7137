"""Periodic tasks of `hub serve`: the audit chain's anchor, and the retention job.

Both run in every process that stores (not in an urgent-watch-only one). Anchoring is cheap and
idempotent (the head is published only when it moved). Retention runs under a lease in Redis
(`SET NX PX`): whichever process takes it does the job, the others skip that round; the lease
outlives a crashed holder by at most its length. The job's own steps are idempotent, so a job
cut short is done again next round.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import anyio
import redis.asyncio as aredis
from sqlalchemy.engine import Engine

from hub.logs import get_logger
from hub.services.audit import chain_head, publish_anchor

log = get_logger("hub.runtime.periodic")


async def every(interval_s: float, step: Callable[[], Awaitable[None]], name: str) -> None:
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
