"""The coalescer: batches of several streams that arrive while a transaction runs are stored
together in the next one."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

import anyio

from hub.runtime.worker.gate import Gate
from hub.schemas.entry import Entry
from hub.services.pipeline import Outcome
from hub.store.bulk import OutboxRow

ProcessManyFn = Callable[[list[tuple[str, list[Entry]]], datetime], Outcome]
CommittedFn = Callable[[list[tuple[str, list[Entry]]], list[OutboxRow]], None]


class Coalescer:
    """Batches of several streams that arrive while a transaction runs go into the next one
    together.

    Under a steady load each intake stream delivers small batches. One transaction each would
    cost a dozen database round trips per batch, and the batches would queue for the worker
    threads behind each other; stored together, a batch waits at most for the transactions in
    progress. Up to `concurrency` transactions run at a time (one computes while another waits
    for the database), each of at most `max_entries` entries (whole batches; at least one); a
    transaction beside one in progress starts only for a backlog (`overlap_at` entries
    waiting). Below that, what waits goes into the running drain's next transaction: under a
    steady trickle a second transaction of a few entries costs more than it saves (issue #17:
    PostgreSQL's and the hub's cost per report under a steady load was twice the burst's).
    If a transaction fails, each of its batches is retried alone by its own caller, so one
    bad entry never holds up another stream's batch."""

    def __init__(
        self,
        process_many: ProcessManyFn,
        limiter: anyio.CapacityLimiter | None,
        *,
        concurrency: int,
        max_entries: int,
        gate: Gate | None = None,
        on_loop: bool = False,
        on_commit: CommittedFn | None = None,
    ) -> None:
        self.process_many = process_many
        self.gate = gate
        # On the event loop's own thread, not a worker thread: for a process that has nothing
        # else to do meanwhile (the urgent watch's own), where handing each transaction to a
        # thread and back only adds two waits for a core on a busy machine.
        self.on_loop = on_loop
        self.on_commit = on_commit  # after each commit: the batches and the rows to publish (metrics)
        self.limiter = limiter
        self.concurrency = concurrency
        self.max_entries = max_entries
        self.overlap_at = max(1, max_entries // 2)
        self._waiting: list[tuple[str, list[Entry], asyncio.Future[Outcome]]] = []
        self._busy: set[str] = set()  # streams with a batch in a transaction in progress
        self._draining: set[asyncio.Task[None]] = set()

    async def submit(self, stream: str, entries: list[Entry]) -> Outcome:
        """Store `entries` (with whatever else is waiting); what to ack and publish, or the
        transaction's exception."""
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._waiting.append((stream, entries, future))
        self._draining = {task for task in self._draining if not task.done()}
        if not self._draining or (len(self._draining) < self.concurrency and self._backlog()):
            self._draining.add(asyncio.create_task(self._drain(), name="coalesced-batches"))
        return await future

    async def finish(self) -> None:
        """Wait for the transactions in progress (at shutdown, whose callers may be gone: their
        entries stay pending and their events unsent, for the next start to finish)."""
        if self._draining:
            await asyncio.gather(*self._draining, return_exceptions=True)

    def _backlog(self) -> bool:
        return sum(len(entries) for _, entries, _ in self._waiting) >= self.overlap_at

    def _take(self) -> list[tuple[str, list[Entry], asyncio.Future[Outcome]]]:
        """The waiting batches, oldest first, up to `max_entries` entries (at least one batch),
        skipping streams that have a batch in a transaction in progress: a stream's batches are
        committed in the order they were read (a subject's reports meet their case in order)."""
        size = 0
        taken: list[tuple[str, list[Entry], asyncio.Future[Outcome]]] = []
        left: list[tuple[str, list[Entry], asyncio.Future[Outcome]]] = []
        held = set(self._busy)
        for item in self._waiting:
            stream, entries, _ = item
            if stream in held or (taken and size + len(entries) > self.max_entries):
                held.add(stream)
                left.append(item)
            else:
                taken.append(item)
                size += len(entries)
        self._waiting = left
        return taken

    async def _drain(self) -> None:
        while self._waiting:
            if self.gate is not None:
                await self.gate.bulk_turn()
            if not (items := self._take()):
                return
            busy = {stream for stream, _, _ in items}
            self._busy |= busy
            try:
                batches, now = [(st, es) for st, es, _ in items], datetime.now(UTC)
                if self.on_loop:
                    done = self.process_many(batches, now)
                else:
                    done = await anyio.to_thread.run_sync(self.process_many, batches, now, limiter=self.limiter)
            except Exception as exc:  # noqa: BLE001  (handed to every caller, who retries alone)
                for _, _, future in items:
                    if not future.done():
                        future.set_exception(exc)
                continue
            finally:
                self._busy -= busy
            if self.on_commit is not None:
                self.on_commit(batches, done.publish)
            acked, publish = set(done.ack), done.publish
            for _, entries, future in items:
                if not future.done():  # the first caller still waiting publishes the events
                    future.set_result(
                        Outcome([e.entry_id for e in entries if e.entry_id in acked], publish, done.relay)
                    )
                    publish = []
