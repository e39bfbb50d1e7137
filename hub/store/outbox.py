"""The outbox relay: moves committed outbox rows to Redis, then marks them sent.

At-least-once: a crash between XADD and the update sends a row again on restart, with the
same CloudEvent id, so readers dedupe on it. Rows are sent in id order, pipelined.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import UTC, datetime
from typing import Any

import anyio
import redis.asyncio as aredis
from redis.exceptions import RedisError
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from hub.logs import get_logger
from hub.store.models import Outbox
from hub.transport import encode

log = get_logger("hub.relay")


class OutboxRelay:
    def __init__(self, engine: Engine, client: aredis.Redis, *, batch: int, interval_s: float) -> None:
        self.engine = engine
        self.client = client
        self.batch = batch
        self.interval_s = interval_s
        self.wake = asyncio.Event()
        self.sent_total = 0
        self._lock = asyncio.Lock()  # one relay pass at a time in this process

    def _fetch(self) -> list[tuple[int, str, dict[str, Any]]]:
        with Session(self.engine) as s:
            rows = s.exec(
                select(Outbox.id, Outbox.stream, Outbox.event)
                .where(col(Outbox.sent_at).is_(None))
                .order_by(col(Outbox.id))
                .limit(self.batch)
            )
            return [(i, st, dict(ev)) for i, st, ev in rows if i is not None]

    def _mark(self, ids: list[int]) -> None:
        with Session(self.engine) as s:
            s.execute(update(Outbox).where(col(Outbox.id).in_(ids)).values(sent_at=datetime.now(UTC)))
            s.commit()

    async def relay_once(self) -> int:
        async with self._lock:
            return await self._relay_once()

    async def _relay_once(self) -> int:
        rows = await anyio.to_thread.run_sync(self._fetch)
        if not rows:
            return 0
        pipe = self.client.pipeline(transaction=False)
        for _, stream, event in rows:
            pipe.xadd(stream, encode(event))  # type: ignore[arg-type]
        await pipe.execute()
        await anyio.to_thread.run_sync(self._mark, [r[0] for r in rows])
        self.sent_total += len(rows)
        return len(rows)

    async def drain(self, timeout_s: float = 30.0) -> None:
        """Relay until nothing is left (used by `hub demo` and tests)."""
        deadline = time.monotonic() + timeout_s
        while await self.relay_once():
            if time.monotonic() > deadline:
                break

    async def run(self) -> None:
        """Relay forever: at once when woken by a commit, else every `interval_s`."""
        backoff = self.interval_s
        while True:
            self.wake.clear()  # before reading: a commit from now on wakes the next wait
            try:
                sent = await self.relay_once()
                backoff = self.interval_s
            except (RedisError, OSError, SQLAlchemyError) as exc:
                log.warning("relay.retry", exc_info=exc, retry_in_s=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            if sent < self.batch:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), self.interval_s)
