"""The consumer side of one consumer group: admit a batch, store it through the batch pipeline,
publish its events, ack it; give a delivery back after a transient failure.

Failures are sorted:
- `TransientError` (database down): nothing is acked; the entries stay pending and are
  reclaimed later, by this process or another. The delivery is given back (the count is set
  back with XCLAIM RETRYCOUNT), so an outage, however long, never dead-letters an entry.
- anything else: a batch stored together with others is retried alone, and then split in
  halves until the entries at fault are alone in their transactions, so a poison entry costs
  only itself: the good entries around it are stored in the same round. An entry that fails
  alone is answered at once: dead-lettered with reason `processing_failed` (and a rejection
  receipt to its source), then acked.
- an entry delivered more than `max_deliveries` times (a process died while storing it, again
  and again) is dead-lettered with reason `max_deliveries` before anything else is tried.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import anyio
import redis.asyncio as aredis
from redis.exceptions import RedisError

from hub.errors import TransientError
from hub.logs import get_logger
from hub.runtime.worker.coalescer import Coalescer
from hub.runtime.worker.gate import Gate
from hub.runtime.worker.head_start import HeadStart
from hub.runtime.worker.observe import alerts_committed, batch_done
from hub.runtime.worker.settings import Output, Pipeline, WorkerSettings
from hub.schemas.entry import Entry
from hub.services.pipeline import MAX_DELIVERIES, PROCESSING_FAILED, Outcome

log = get_logger("hub.runtime.worker")


class StreamWorker:
    """Handles batches for one consumer group, whichever way they arrive (read or reclaimed)."""

    def __init__(
        self,
        settings: WorkerSettings,
        pipeline: Pipeline,
        client: aredis.Redis,
        *,
        output: Output | None = None,
        limiter: anyio.CapacityLimiter | None = None,
        gate: Gate | None = None,
        urgent: Callable[[Entry], bool] | None = None,
        watched: Callable[[Entry], bool] | None = None,
    ) -> None:
        self.settings = settings
        self.pipeline = pipeline
        self.client = client
        self.output = output or Output()
        # Batches are processed in worker threads. Few of them: more threads than cores only
        # fight over the GIL, and each database round trip then waits for its turn.
        self.limiter = limiter
        self.gate = gate
        many = functools.partial(pipeline.process_many, look_first=settings.look_first)
        self.coalescer = (
            Coalescer(
                many,
                limiter,
                concurrency=settings.coalesce_concurrency,
                max_entries=settings.coalesce_max_entries,
                gate=gate,
            )
            if settings.coalesce
            else None
        )
        # The urgent watch (`watch`) stores the entries `urgent` picks apart in a lane of their
        # own; those that arrive while one such transaction runs share the next. `urgent` is
        # only a scheduling hint; the policy decides from the validated report.
        self.urgent = urgent
        # The intake group: the urgent watch's entries wait for their first read after it has
        # had time to store them (`hub.runtime.worker.head_start`).
        self.head_start = (
            HeadStart(watched, settings.watch_head_start_ms) if watched and settings.watch_head_start_ms else None
        )
        self.urgent_lane = (
            Coalescer(
                many,
                anyio.CapacityLimiter(1),
                concurrency=1,
                max_entries=settings.coalesce_max_entries,
                on_loop=settings.urgent_on_loop,
                on_commit=alerts_committed,
            )
            if settings.coalesce and urgent is not None
            else None
        )
        self._slots: dict[tuple[str, bool], asyncio.Semaphore] = {}
        self._in_flight: set[asyncio.Task[None]] = set()

    @property
    def name(self) -> str:
        return self.settings.name

    @property
    def group(self) -> str:
        return self.settings.group

    @property
    def consumer(self) -> str:
        return self.settings.consumer

    async def dispatch(self, stream: str, entries: list[Entry], *, urgent: bool = False) -> None:
        """Hand a batch over and return once it is admitted: when fewer than `batches_in_flight`
        of the stream's batches of that kind (urgent or not) are being stored. Entries are acked
        after their commit, as with `handle`."""
        slots = self._slots.setdefault((stream, urgent), asyncio.Semaphore(self.settings.batches_in_flight))
        await slots.acquire()
        task = asyncio.create_task(self.handle(stream, entries, urgent=urgent))
        self._in_flight.add(task)
        task.add_done_callback(functools.partial(self._done, slots))

    async def take(self, batches: list[tuple[str, list[Entry]]]) -> None:
        """A reader's batches (`read_forever`): each stream's handed over as `dispatch` does.
        Handed over in one go, they are stored together in the coalescer's next transaction."""
        if self.head_start is not None:
            batches = self.head_start.admit(batches, time.time() * 1000)
        for stream, entries in batches:
            await self.dispatch(stream, entries)

    async def watch(self, batches: list[tuple[str, list[Entry]]]) -> None:
        """The urgent watch's group: hand the urgent entries over to be stored at once (as
        `dispatch`). The others are left alone: the watch reads without acks (`Reading.noack`),
        and the intake group reads and stores every entry, these included."""
        for stream, entries in batches:
            if self.urgent is not None and (urgent := [e for e in entries if self.urgent(e)]):
                await self.dispatch(stream, urgent, urgent=True)

    def _done(self, slots: asyncio.Semaphore, task: asyncio.Task[None]) -> None:
        slots.release()
        self._in_flight.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            # The entries stay pending and the reclaimer hands them out again (the urgent
            # watch's, read with NOACK, are left to the intake group).
            log.error(f"{self.name}.batch_failed", exc_info=exc)

    async def finish(self) -> None:
        """Wait for the batches being stored (at shutdown, once the subscribers have stopped)."""
        if self.head_start is not None:  # no read comes any more: what is held back goes now
            for stream, entries in self.head_start.release():
                await self.dispatch(stream, entries)
        # Done tasks are taken out here as well as in `_done`: the loop can only wait, never spin
        # on a task whose callback has not run.
        while self._in_flight:
            done, _ = await asyncio.wait(set(self._in_flight))
            self._in_flight -= done
        for lane in (self.coalescer, self.urgent_lane):
            if lane is not None:
                await lane.finish()

    async def handle(self, stream: str, entries: list[Entry], *, urgent: bool = False) -> None:
        # Urgent entries and a `priority` worker's batches hold bulk transactions back meanwhile.
        priority = self.gate is not None and (urgent or self.settings.priority)
        held_back = self.gate.priority() if self.gate is not None and priority else None
        async with held_back or contextlib.nullcontext():
            await self._handle(stream, entries, urgent=urgent)

    async def _handle(self, stream: str, entries: list[Entry], *, urgent: bool) -> None:
        started = time.perf_counter()
        now = datetime.now(UTC)
        cap = self.settings.max_deliveries
        over = [e for e in entries if e.deliveries > cap]
        live = [e for e in entries if e.deliveries <= cap] if over else entries
        done = Outcome()
        try:
            if over:
                done += await self._give_up(stream, over, MAX_DELIVERIES)
            if live:
                done += await self._store(stream, live, now, urgent=urgent)
        except TransientError as exc:
            log.warning("batch.deferred", stream=stream, count=len(entries), exc_info=exc)
            acked = set(done.ack)
            await self._give_back(stream, [e for e in entries if e.entry_id not in acked])
            await self._finish(stream, done)
            return
        await self._finish(stream, done)
        batch_done(self.name, urgent, entries, started)
        log.info(
            f"{self.name}.urgent_batch" if urgent else f"{self.name}.batch",
            stream=stream,
            count=len(entries),
            dead=done.dead,
            duration_ms=round((time.perf_counter() - started) * 1000, 2),
        )

    async def _finish(self, stream: str, done: Outcome) -> None:
        """After the commit: publish the batch's events (or leave them to the relay), then ack."""
        publish = self.output.publish
        if done.publish and publish is not None:
            await publish(done.publish)
        if done.relay or (done.publish and publish is None):
            self.output.wake_relay()
        await self._ack(stream, done.ack)

    async def _store(self, stream: str, entries: list[Entry], now: datetime, *, urgent: bool) -> Outcome:
        """Store the batch: first together with other streams' batches (if coalescing), and if
        that transaction fails, alone; if that fails too, split until the entries at fault are
        alone, and answer those at once. The urgent watch leaves its failures to the intake
        group, which stores every entry in its turn."""
        lane = self.urgent_lane if urgent else self.coalescer
        if lane is not None:
            try:
                return await lane.submit(stream, entries)
            except TransientError:
                raise
            except Exception as exc:
                log.warning("batch.retrying_alone", stream=stream, count=len(entries), exc_info=exc)
        failed: list[Entry] = []
        done = await self._split(stream, entries, now, failed)
        if urgent:
            alerts_committed([(stream, entries)], done.publish)
        if failed and not urgent:
            done += await self._give_up(stream, failed, PROCESSING_FAILED)
        return done

    async def _split(self, stream: str, entries: list[Entry], now: datetime, failed: list[Entry]) -> Outcome:
        """Store `entries` in one transaction; if it fails, each half in its own (bisection: a
        lone poison entry among n costs about 2 log2(n) transactions, not n). The entries that
        fail alone go to `failed`, in order."""
        process = functools.partial(self.pipeline.process, look_first=self.settings.look_first)
        try:
            return await anyio.to_thread.run_sync(process, stream, entries, now, limiter=self.limiter)
        except TransientError:
            raise
        except Exception as exc:
            if len(entries) == 1:
                log.error(
                    "entry.failed",
                    stream=stream,
                    entry_id=entries[0].entry_id,
                    deliveries=entries[0].deliveries,
                    exc_info=exc,
                )
                failed += entries
                return Outcome()
            log.error("batch.failed_splitting", stream=stream, count=len(entries), exc_info=exc)
            half = len(entries) // 2
            done = await self._split(stream, entries[:half], now, failed)
            done += await self._split(stream, entries[half:], now, failed)
            return done

    async def _give_up(self, stream: str, entries: list[Entry], reason: str) -> Outcome:
        """Dead-letter entries (`BatchPipeline.give_up`). Only a transient failure is raised:
        anything else is logged and the entries stay pending for the next round."""
        try:
            return await anyio.to_thread.run_sync(
                self.pipeline.give_up, stream, entries, datetime.now(UTC), reason, limiter=self.limiter
            )
        except TransientError:
            raise
        except Exception as exc:  # a bug in the dead-letter step itself: logged, retried next round
            log.error("give_up.failed", stream=stream, count=len(entries), reason=reason, exc_info=exc)
            if len(entries) == 1:
                return Outcome()
            done = Outcome()  # each alone, so that only the entry at fault waits
            for entry in entries:
                done += await self._give_up(stream, [entry], reason)
            return done

    async def _give_back(self, stream: str, entries: list[Entry]) -> None:
        """Undo the delivery a transient failure used: the entry was not at fault.

        XCLAIM to this consumer with RETRYCOUNT one lower (JUSTID: do not count this claim).
        The idle time restarts, so the reclaimer retries after `reclaim_idle_ms`."""
        by_count: dict[int, list[Any]] = defaultdict(list)  # redis-py's stub wants a list of a union
        for e in entries:
            by_count[max(e.deliveries - 1, 0)].append(e.entry_id)
        try:
            for count, ids in by_count.items():
                await self.client.xclaim(
                    stream,
                    self.group,
                    self.consumer,
                    min_idle_time=0,
                    message_ids=ids,
                    retrycount=count,
                    justid=True,
                )
        except RedisError as exc:
            log.warning("give_back.failed", stream=stream, count=len(entries), exc_info=exc)

    async def _ack(self, stream: str, ids: list[str]) -> None:
        if not ids or self.settings.noack:
            return
        try:
            await self.client.xack(stream, self.group, *ids)
        except RedisError as exc:
            # The effect is stored with a tracking row: a redelivery will only be acked.
            log.warning("ack.failed", stream=stream, count=len(ids), exc_info=exc)
