"""The priority gate: bulk intake transactions wait briefly while urgent reports or triage
decisions are being stored."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class Gate:
    """Bulk transactions wait to start while priority work (an urgent report, a triage decision)
    waits or runs, so that work gets a thread and most of the GIL at once instead of queueing
    behind a backlog. At most `max_wait_s` per transaction: a flood of priority work slows bulk
    work down but cannot stop it."""

    def __init__(self, max_wait_s: float = 0.05) -> None:
        self.max_wait_s = max_wait_s
        self._priority = 0
        self._clear = asyncio.Event()
        self._clear.set()

    @contextlib.asynccontextmanager
    async def priority(self) -> AsyncIterator[None]:
        self._priority += 1
        self._clear.clear()
        try:
            yield
        finally:
            self._priority -= 1
            if not self._priority:
                self._clear.set()

    async def bulk_turn(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._clear.wait(), self.max_wait_s)
