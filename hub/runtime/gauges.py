"""The backlog gauges (`hub.metrics`): consumer-group lag and pending per stream and group, and
the outbox's backlog and its oldest unsent row's age, sampled every few seconds.

A scrape reads the last sample; sampling on the scrape instead would put Redis and database
round trips (and their failures) into every scrape. One XINFO GROUPS per stream the hub reads
and one COUNT/MIN query on the outbox per round: nothing on the path of an entry.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import anyio
import redis.asyncio as aredis
from redis.exceptions import RedisError
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from hub import metrics
from hub.logs import get_logger
from hub.store.models import Outbox

log = get_logger("hub.runtime.gauges")


class Gauges:
    """Samples the backlog gauges for `pairs` (stream, group: the stream catalogue's
    `hub_groups()`) and the outbox of `engine`."""

    def __init__(self, client: aredis.Redis, engine: Engine, pairs: Sequence[tuple[str, str]]) -> None:
        self.client = client
        self.engine = engine
        self.pairs = list(pairs)
        self._failing: set[str] = set()  # what failed last round: logged once until it recovers

    async def run(self, interval_s: float) -> None:
        """Sample every `interval_s` seconds until cancelled; a failure is logged and skipped."""
        while True:
            await self.sample()
            await asyncio.sleep(interval_s)

    async def sample(self) -> None:
        """One round: the groups (Redis), then the outbox (the database, in a worker thread)."""
        await self._guard("redis", self._groups())
        await self._guard("database", anyio.to_thread.run_sync(self._outbox))

    async def _guard(self, what: str, round_: Any) -> None:
        try:
            await round_
        except (RedisError, OSError, SQLAlchemyError) as exc:
            if what not in self._failing:
                log.warning("gauges.sample_failed", part=what, error=type(exc).__name__)
            self._failing.add(what)
        else:
            self._failing.discard(what)

    async def _groups(self) -> None:
        wanted: dict[str, set[str]] = {}
        for stream, group in self.pairs:
            wanted.setdefault(stream, set()).add(group)
        for stream, groups in wanted.items():
            if not await self.client.exists(stream):
                continue  # not created yet (a group is made with its stream at start-up)
            for info in await self.client.xinfo_groups(stream):
                name = _text(info.get("name"))
                if name not in groups:
                    continue
                metrics.GROUP_PENDING.labels(stream, name).set(int(info.get("pending") or 0))
                lag = info.get("lag")
                if lag is not None:  # None: Redis cannot tell (entries deleted in between)
                    metrics.GROUP_LAG.labels(stream, name).set(int(lag))

    def _outbox(self) -> None:
        with Session(self.engine) as session:
            count, oldest = session.exec(
                select(func.count(), func.min(col(Outbox.created_at))).where(col(Outbox.sent_at).is_(None))
            ).one()
        metrics.OUTBOX_BACKLOG.set(count)
        if oldest is None:
            metrics.OUTBOX_OLDEST_SECONDS.set(0)
            return
        if oldest.tzinfo is None:  # SQLite keeps the UTC time without its zone
            oldest = oldest.replace(tzinfo=UTC)
        metrics.OUTBOX_OLDEST_SECONDS.set(max((datetime.now(UTC) - oldest).total_seconds(), 0.0))


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
