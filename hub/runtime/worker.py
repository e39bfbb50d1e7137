"""The consumer side of every hub stream: process, ack, retry, dead-letter.

A batch is processed in one transaction (intake: together with other streams' batches that
are waiting, see `Coalescer`), its events are published, and it is acked with one XACK.
Intake reads ahead (`StreamWorker.dispatch`); the urgent watch (`StreamWorker.watch`) stores
urgent entries in a lane of their own; bulk transactions wait briefly while urgent entries or
triage decisions are stored (`Gate`).
Failures are sorted:
- `TransientError` (database down): nothing is acked; the entries stay pending and are
  reclaimed later, by this process or another. The delivery is given back (the count is
  set back with XCLAIM RETRYCOUNT), so an outage, however long, never dead-letters an entry.
- anything unexpected: a batch stored together with others is retried alone, and then one
  entry at a time, so one poison entry cannot hold up the others; it stays pending until it
  has been delivered `max_deliveries` times and is then dead-lettered and acked.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import anyio
import redis.asyncio as aredis
from redis.exceptions import RedisError
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from hub.errors import TransientError
from hub.logs import get_logger
from hub.runtime.transport import delivery_counts
from hub.schemas import streams
from hub.schemas.cloudevents import EVENT_FIELD, new_event
from hub.schemas.entry import Entry
from hub.schemas.events import REPORT_REJECTED, ReceiptData
from hub.store import repository as repo
from hub.store.db import UnitOfWork, transient_on_driver_errors

log = get_logger("hub.runtime.worker")

@dataclass
class Processed:
    """What a committed batch leaves to do: entries to ack, outbox rows to publish now, and
    whether it also stored outbox rows for the relay to send (then the relay is woken)."""

    ack: list[str] = field(default_factory=list)
    publish: list[repo.OutboxRow] = field(default_factory=list)
    relay: bool = False

    def __iadd__(self, other: Processed) -> Processed:
        self.ack += other.ack
        self.publish += other.publish
        self.relay |= other.relay
        return self


ProcessFn = Callable[[str, list[Entry], datetime], Processed]
ProcessManyFn = Callable[[list[tuple[str, list[Entry]]], datetime], Processed]
PublishFn = Callable[[list[repo.OutboxRow]], Awaitable[None]]


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


class Coalescer:
    """Batches of several streams that arrive while a transaction runs go into the next one
    together.

    Under a steady load each intake stream delivers small batches. One transaction each would
    cost a dozen database round trips per batch, and the batches would queue for the worker
    threads behind each other; stored together, a batch waits at most for the transactions in
    progress. Up to `concurrency` transactions run at a time (one computes while another waits
    for the database), each of at most `max_entries` entries (whole batches; at least one).
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
    ) -> None:
        self.process_many = process_many
        self.gate = gate
        # On the event loop's own thread, not a worker thread: for a process that has nothing
        # else to do meanwhile (the urgent watch's own), where handing each transaction to a
        # thread and back only adds two waits for a core on a busy machine.
        self.on_loop = on_loop
        self.limiter = limiter
        self.concurrency = concurrency
        self.max_entries = max_entries
        self._waiting: list[tuple[str, list[Entry], asyncio.Future[Processed]]] = []
        self._busy: set[str] = set()  # streams with a batch in a transaction in progress
        self._draining: set[asyncio.Task[None]] = set()

    async def submit(self, stream: str, entries: list[Entry]) -> Processed:
        """Store `entries` (with whatever else is waiting); what to ack and publish, or the
        transaction's exception."""
        future: asyncio.Future[Processed] = asyncio.get_running_loop().create_future()
        self._waiting.append((stream, entries, future))
        self._draining = {task for task in self._draining if not task.done()}
        if len(self._draining) < self.concurrency:
            self._draining.add(asyncio.create_task(self._drain(), name="coalesced-batches"))
        return await future

    async def finish(self) -> None:
        """Wait for the transactions in progress (at shutdown, whose callers may be gone: their
        entries stay pending and their events unsent, for the next start to finish)."""
        if self._draining:
            await asyncio.gather(*self._draining, return_exceptions=True)

    def _take(self) -> list[tuple[str, list[Entry], asyncio.Future[Processed]]]:
        """The waiting batches, oldest first, up to `max_entries` entries (at least one batch),
        skipping streams that have a batch in a transaction in progress: a stream's batches are
        committed in the order they were read (a subject's reports meet their case in order)."""
        size = 0
        taken: list[tuple[str, list[Entry], asyncio.Future[Processed]]] = []
        left: list[tuple[str, list[Entry], asyncio.Future[Processed]]] = []
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
            acked, publish = set(done.ack), done.publish
            for _, entries, future in items:
                if not future.done():  # the first caller still waiting publishes the events
                    future.set_result(
                        Processed([e.entry_id for e in entries if e.entry_id in acked], publish, done.relay)
                    )
                    publish = []


class StreamWorker:
    """Handles batches for one consumer group, whichever way they arrive (read or reclaimed)."""

    def __init__(
        self,
        *,
        name: str,
        group: str,
        consumer: str,
        client: aredis.Redis,
        engine: Engine,
        process: ProcessFn,
        max_deliveries: int,
        on_commit: Callable[[], None],
        publish: PublishFn | None = None,
        limiter: anyio.CapacityLimiter | None = None,
        process_many: ProcessManyFn | None = None,
        coalesce_concurrency: int = 1,
        coalesce_max_entries: int = 500,
        urgent: Callable[[Entry], bool] | None = None,
        urgent_on_loop: bool = False,
        batches_in_flight: int = 1,
        gate: Gate | None = None,
        priority: bool = False,
    ) -> None:
        self.name = name
        self.group = group
        self.consumer = consumer
        self.client = client
        self.engine = engine
        self.process = process
        self.max_deliveries = max_deliveries
        self.on_commit = on_commit
        self.publish = publish
        # Batches are processed in worker threads. Few of them: more threads than cores only
        # fight over the GIL, and each database round trip then waits for its turn.
        self.limiter = limiter
        self.coalescer = (
            Coalescer(
                process_many, limiter, concurrency=coalesce_concurrency, max_entries=coalesce_max_entries, gate=gate
            )
            if process_many is not None
            else None
        )
        # Bulk transactions wait to start while a `priority` worker's batches (urgent reports,
        # triage decisions: someone waits for each) are being stored.
        self.gate = gate
        self.priority = priority
        # The urgent watch (`watch`) stores the entries `urgent` picks apart, on a thread of their
        # own (the urgent lane), or with `urgent_on_loop` on the event loop's thread (a process
        # that runs the watch alone); those that arrive while one such transaction runs share
        # the next. `urgent` is only a scheduling hint; the policy decides from the validated report.
        self.urgent = urgent
        self.urgent_lane = (
            Coalescer(
                process_many,
                anyio.CapacityLimiter(1),
                concurrency=1,
                max_entries=coalesce_max_entries,
                on_loop=urgent_on_loop,
            )
            if process_many is not None and urgent is not None
            else None
        )
        # `dispatch` reads a stream's next batch while earlier ones are still being stored (so
        # transactions fill up), at most `batches_in_flight` per stream: memory stays bounded
        # and the rest waits in Redis.
        self.batches_in_flight = batches_in_flight
        self._slots: dict[tuple[str, bool], asyncio.Semaphore] = {}
        self._in_flight: set[asyncio.Task[None]] = set()

    async def dispatch(self, stream: str, entries: list[Entry], *, urgent: bool = False) -> None:
        """Hand a batch over and return once it is admitted: when fewer than `batches_in_flight`
        of the stream's batches of that kind (urgent or not) are being stored. Entries are acked
        after their commit, as with `handle`."""
        slots = self._slots.setdefault((stream, urgent), asyncio.Semaphore(self.batches_in_flight))
        await slots.acquire()
        task = asyncio.create_task(self.handle(stream, entries, urgent=urgent))
        self._in_flight.add(task)
        task.add_done_callback(functools.partial(self._done, slots))

    async def watch(self, batches: list[tuple[str, list[Entry]]]) -> None:
        """The urgent watch's group: hand the urgent entries over to be stored at once (as
        `dispatch`: urgent entries that arrive while a transaction waits share the next one).
        The others are left alone: the watch reads without acks (`watch_forever`), and the
        intake group reads and stores every entry, these included."""
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
        while self._in_flight:
            await asyncio.gather(*self._in_flight, return_exceptions=True)
        for lane in (self.coalescer, self.urgent_lane):
            if lane is not None:
                await lane.finish()

    async def handle(self, stream: str, entries: list[Entry], *, urgent: bool = False) -> None:
        # Urgent entries and a `priority` worker's batches hold bulk transactions back meanwhile.
        held_back = self.gate.priority() if self.gate is not None and (urgent or self.priority) else None
        async with held_back or contextlib.nullcontext():
            await self._handle(stream, entries, urgent=urgent)

    async def _handle(self, stream: str, entries: list[Entry], *, urgent: bool) -> None:
        started = time.perf_counter()
        now = datetime.now(UTC)
        poison = [e for e in entries if e.deliveries > self.max_deliveries]
        live = [e for e in entries if e.deliveries <= self.max_deliveries]
        done = Processed()
        try:
            if poison:
                done += await anyio.to_thread.run_sync(self._give_up, stream, poison, now, limiter=self.limiter)
            if live:
                done += await self._process(stream, live, now, urgent=urgent)
        except TransientError as exc:
            log.warning("batch.deferred", stream=stream, count=len(entries), exc_info=exc)
            acked = set(done.ack)
            await self._give_back(stream, [e for e in entries if e.entry_id not in acked])
            await self._finish(stream, done)
            return
        await self._finish(stream, done)
        log.info(
            f"{self.name}.urgent_batch" if urgent else f"{self.name}.batch",
            stream=stream,
            count=len(entries),
            dead=len(poison),
            duration_ms=round((time.perf_counter() - started) * 1000, 2),
        )

    async def _finish(self, stream: str, done: Processed) -> None:
        """After the commit: publish the batch's events (or leave them to the relay), then ack."""
        if done.publish and self.publish is not None:
            await self.publish(done.publish)
        if done.relay or (done.publish and self.publish is None):
            self.on_commit()
        await self._ack(stream, done.ack)

    async def _process(self, stream: str, entries: list[Entry], now: datetime, *, urgent: bool = False) -> Processed:
        """Store the batch: first together with other streams' batches (if coalescing), and if
        that transaction fails, alone; if that fails too, one entry at a time."""
        lane = self.urgent_lane if urgent else self.coalescer
        if lane is not None:
            try:
                return await lane.submit(stream, entries)
            except TransientError:
                raise
            except Exception as exc:
                log.warning("batch.retrying_alone", stream=stream, count=len(entries), exc_info=exc)
        return await self._process_alone(stream, entries, now)

    async def _process_alone(self, stream: str, entries: list[Entry], now: datetime) -> Processed:
        try:
            return await anyio.to_thread.run_sync(self.process, stream, entries, now, limiter=self.limiter)
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
                return Processed()
            log.error("batch.failed_retrying_singly", stream=stream, count=len(entries), exc_info=exc)
            done = Processed()
            for entry in entries:
                done += await self._process_alone(stream, [entry], now)
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

    def _give_up(self, stream: str, entries: list[Entry], now: datetime) -> Processed:
        """Dead-letter entries that failed every time; the reporter gets a rejection receipt."""
        with transient_on_driver_errors():
            try:
                return Processed(self._dead_letter(stream, entries, now), relay=True)
            except IntegrityError:
                # Another consumer finished one of them meanwhile: the retry sees its tracking row.
                return Processed(self._dead_letter(stream, entries, now), relay=True)

    def _dead_letter(self, stream: str, entries: list[Entry], now: datetime) -> list[str]:
        with UnitOfWork(self.engine) as uow:
            s = uow.session
            done = repo.processed_ids(s, stream, [e.entry_id for e in entries])
            source_id = streams.source_of_intake(stream)
            for e in entries:
                if e.entry_id in done:
                    continue
                detail = f"Processing failed {e.deliveries} times; the entry was set aside for inspection."
                repo.add_deadletter(s, e, "max_deliveries", detail, now)
                if source_id is not None:
                    receipt = ReceiptData(
                        status="rejected", report_event_id=_event_id(e), code="processing_failed", message=detail
                    )
                    repo.add_outbox(
                        s,
                        streams.receipts(source_id),
                        new_event(REPORT_REJECTED, receipt, now=now, subject="processing_failed"),
                        now,
                    )
                repo.mark_processed(s, stream, e.entry_id, now)
            uow.commit()
        return [e.entry_id for e in entries]

    async def _ack(self, stream: str, ids: list[str]) -> None:
        if not ids:
            return
        try:
            await self.client.xack(stream, self.group, *ids)
        except RedisError as exc:
            # The effect is stored with a tracking row: a redelivery will only be acked.
            log.warning("ack.failed", stream=stream, count=len(ids), exc_info=exc)

    async def reclaim(self, stream: str, min_idle_ms: int, count: int) -> int:
        """Claim entries another consumer (or this one) left pending too long, and handle them."""
        claimed_total = 0
        start = "0-0"
        while True:
            next_id, messages, *_ = await self.client.xautoclaim(
                stream, self.group, self.consumer, min_idle_time=min_idle_ms, start_id=start, count=count
            )
            messages = [m for m in messages if m is not None and m[1] is not None]
            if messages:
                ids = [m[0].decode() for m in messages]
                counts = await delivery_counts(self.client, stream, self.group, ids)
                entries = [
                    Entry(stream, i, dict(fields), counts.get(i, 1))
                    for i, (_, fields) in zip(ids, messages, strict=True)
                ]
                await self.handle(stream, entries)
                claimed_total += len(entries)
            start = next_id.decode() if isinstance(next_id, bytes) else next_id
            if start == "0-0":
                return claimed_total


def _event_id(entry: Entry) -> str | None:
    """The CloudEvent id of an entry, if it has a readable one: the sender matches receipts by it."""
    try:
        doc = json.loads(entry.fields.get(EVENT_FIELD.encode(), b""))
    except (ValueError, UnicodeDecodeError):
        return None
    event_id = doc.get("id") if isinstance(doc, dict) else None
    return event_id if isinstance(event_id, str) and 0 < len(event_id) <= 200 else None


async def watch_forever(worker: StreamWorker, streams: list[str], batch_size: int, poll_ms: int) -> None:
    """The urgent watch's reader: one XREADGROUP over every intake stream at once, each batch
    handed to `worker.watch`. A plain redis-py loop, not a FastStream subscriber per stream: it
    reads every entry the hub receives and stores almost none, so its cost per entry is what
    counts (a substring test).

    It reads with NOACK: nothing waits in its pending list, and the ordinary entries are never
    acked (an urgent one's ack after its commit finds nothing to do). The watch only
    speeds urgent reports up; the intake group is what keeps every entry. If the watch fails
    to store an urgent report (or its process dies), the intake group stores it in its turn.

    The loop must outlive any one failure: if it stopped, urgent reports would wait their turn."""
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


async def reclaim_forever(
    workers: list[tuple[StreamWorker, str]], min_idle_ms: int, interval_s: float, count: int
) -> None:
    """Every `interval_s`, claim and handle entries pending longer than `min_idle_ms` in any
    consumer of the group (a crashed process's, or this one's after a transient failure).

    The loop must outlive any one failure: if it stopped, a crashed consumer's entries would
    stay pending for good."""
    while True:
        await asyncio.sleep(interval_s)
        for worker, stream in workers:
            try:
                claimed = await worker.reclaim(stream, min_idle_ms, count)
                if claimed:
                    log.info("reclaim.done", stream=stream, claimed=claimed)
            except (RedisError, OSError) as exc:
                log.warning("reclaim.retry", stream=stream, exc_info=exc)
            except Exception as exc:  # logged; the entries stay pending for the next round
                log.error("reclaim.failed", stream=stream, exc_info=exc)
