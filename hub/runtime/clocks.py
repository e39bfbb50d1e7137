"""The statutory clocks' scheduler loop in `hub serve` (`hub.services.deadlines`).

Every `interval_s` seconds one tick, in a worker thread: the due clocks are claimed and their
events written to the outbox in one transaction; the relay is then woken to send them. Every
process that stores reports runs it; the claim makes each clock fire once among them. A
failing tick (database down) is logged once and tried again at the next interval.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

import anyio
from sqlalchemy.exc import SQLAlchemyError

from hub.errors import TransientError
from hub.logs import get_logger
from hub.services.deadlines import DeadlineScheduler, Tick
from hub.store.deadlines import APPROACHING, BREACHED

log = get_logger("hub.runtime.clocks")


class Clocks:
    """Runs `scheduler` every `interval_s` seconds; `fired()` is called after a tick that
    fired something (the relay's wake-up). `now` is injectable for tests."""

    def __init__(
        self,
        scheduler: DeadlineScheduler,
        interval_s: float,
        fired: Callable[[], None],
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.scheduler = scheduler
        self.interval_s = interval_s
        self.fired = fired
        self.now = now
        self._failing = False

    async def tick(self) -> Tick:
        tick = await anyio.to_thread.run_sync(self.scheduler.run_until, self.now())
        if tick.fired:
            log.info("deadlines.fired", approaching=tick.count(APPROACHING), breached=tick.count(BREACHED))
            self.fired()
        return tick

    async def run(self) -> None:
        while True:
            try:
                await self.tick()
                self._failing = False
            except (TransientError, SQLAlchemyError, OSError) as exc:
                if not self._failing:
                    log.warning("deadlines.tick_failed", error=type(exc).__name__)
                self._failing = True
            except Exception as exc:  # the scheduler must outlive any one failure
                log.error("deadlines.tick_failed", exc_info=exc)
            await asyncio.sleep(self.interval_s)
