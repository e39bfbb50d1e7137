"""The composition root: the one place that reads settings and wires the hub together.

Nothing here runs at import time; `build()` makes the parts, `Hub.start()` connects them.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import anyio
import redis.asyncio as aredis
from faststream.redis import RedisBroker
from sqlalchemy.engine import Engine

from hub.config.registry import Registry, load_agreement, load_registry
from hub.config.settings import Settings, UrgentWatch
from hub.logs import get_logger
from hub.policies import Agreement, PolicyEngine, WorkingDays
from hub.runtime.embedded_redis import EmbeddedRedis
from hub.runtime.relay import OutboxRelay
from hub.runtime.subscribers.decisions import decisions_router
from hub.runtime.subscribers.intake import intake_router
from hub.runtime.transport import consumer_name, ensure_group
from hub.runtime.worker import Gate, Processed, StreamWorker, reclaim_forever, watch_forever
from hub.schemas import streams
from hub.schemas.entry import Entry
from hub.services.decisions import DecisionService
from hub.services.intake import IntakeService, flags_planned_crime
from hub.store.db import make_engine, migrate

log = get_logger("hub.bootstrap")


@dataclass
class Hub:
    settings: Settings
    registry: Registry
    agreement: Agreement
    policy: PolicyEngine
    engine: Engine
    redis_url: str
    client: aredis.Redis
    broker: RedisBroker
    relay: OutboxRelay
    intake: StreamWorker
    decisions: StreamWorker
    urgent_watch: StreamWorker
    embedded: EmbeddedRedis | None = None
    _readers: list[asyncio.Task[None]] = field(default_factory=list)  # the urgent watch's loop
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def _reading(self) -> list[tuple[StreamWorker, str]]:
        """The workers whose groups this process reads, with their streams."""
        intake = self.registry.intake_streams()
        watch = self.settings.urgent_watch
        reading = [] if watch is UrgentWatch.ONLY else [(self.intake, s) for s in intake]
        if watch is not UrgentWatch.ONLY:
            reading.append((self.decisions, streams.DECISIONS))
        if watch is not UrgentWatch.OFF:
            reading += [(self.urgent_watch, s) for s in intake]
        return reading

    async def start(self) -> None:
        await anyio.to_thread.run_sync(migrate, self.settings.effective_database_url)
        for stream in self.registry.intake_streams():
            await ensure_group(self.client, stream, streams.INTAKE_GROUP)
            # From now on only: every entry before it is the intake group's anyway.
            await ensure_group(self.client, stream, streams.URGENT_GROUP, start="$")
        await ensure_group(self.client, streams.DECISIONS, streams.DECISIONS_GROUP)
        await self.broker.start()
        reading = self._reading()
        watched = [s for w, s in reading if w is self.urgent_watch]
        reclaimable = [(w, s) for w, s in reading if w is not self.urgent_watch]  # the watch acks nothing
        if watched:
            self._readers.append(
                asyncio.create_task(
                    watch_forever(self.urgent_watch, watched, self.settings.batch_size, self.settings.poll_ms),
                    name="urgent-watch",
                )
            )
        self._tasks = [
            asyncio.create_task(self.relay.run(), name="outbox-relay"),
            asyncio.create_task(
                reclaim_forever(
                    reclaimable,
                    self.settings.reclaim_idle_ms,
                    self.settings.reclaim_interval_s,
                    self.settings.batch_size,
                ),
                name="reclaimer",
            ),
        ]
        log.info(
            "hub.started",
            consumer=self.intake.consumer,
            role=self.settings.role,
            embedded=self.embedded is not None,
            database=self.engine.dialect.name,
        )

    async def stop(self) -> None:
        await self.broker.stop()
        await _cancel_all(self._readers)  # like the subscribers: nothing new is read from here on
        for worker in (self.urgent_watch, self.intake, self.decisions):
            await worker.finish()  # before the engine is disposed
        await _cancel_all(self._tasks)
        with contextlib.suppress(Exception):
            await self.relay.drain(timeout_s=5)
        await self.client.aclose()
        self.engine.dispose()
        if self.embedded is not None:
            self.embedded.stop()
        log.info("hub.stopped")


async def _cancel_all(tasks: list[asyncio.Task[None]]) -> None:
    """Cancel the background tasks and wait until they have ended.

    A cancellation that arrives while a task waits for a worker thread is absorbed by anyio's
    shielded scope around the thread, and the task carries on to its next sleep: so cancel
    again until every task is done, instead of waiting for it forever."""
    pending = {t for t in tasks if not t.done()}
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=0.5)
    for task in tasks:
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.warning("task.failed", exc_info=exc)


def resolve_redis(settings: Settings) -> tuple[str, EmbeddedRedis | None]:
    """The configured Redis URL, or an embedded server in the data directory."""
    if settings.redis_url:
        return settings.redis_url, None
    embedded = EmbeddedRedis(settings.data_dir)
    return embedded.start(), embedded


def build(settings: Settings) -> Hub:
    registry = load_registry(settings.registry_file)
    agreement = load_agreement(settings.agreement_file)
    # The policy engine, with this year's and next year's holidays loaded up front (the first
    # report with a deadline then does not pay for the calendar).
    policy = PolicyEngine(agreement, WorkingDays.around(date.today()))
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.effective_database_url)
    redis_url, embedded = resolve_redis(settings)
    client = aredis.Redis.from_url(redis_url)
    # FastStream logs through the same redaction chain as the hub (hub.logs.configure). Not its
    # own "faststream" logger: FastStream gives that one a handler of its own at import (stderr,
    # not propagated), which would print exception messages and tracebacks unredacted.
    faststream_log = logging.getLogger("hub.faststream")
    faststream_log.setLevel(logging.WARNING)  # its INFO lines are one per batch ("Received", "Processed")
    broker = RedisBroker(redis_url, logger=faststream_log)
    relay = OutboxRelay(engine, client, batch=settings.relay_batch, interval_s=settings.relay_interval_s)
    worker = functools.partial(
        StreamWorker,
        consumer=consumer_name(),
        client=client,
        engine=engine,
        max_deliveries=settings.max_deliveries,
        on_commit=relay.rows_left,
        publish=relay.publish,
        limiter=anyio.CapacityLimiter(settings.worker_threads),  # few: more only contend for the GIL
        gate=Gate(),  # urgent reports and triage decisions go before bulk intake
    )
    grace = timedelta(seconds=settings.publish_grace_s)
    intake_svc = IntakeService(engine, registry, policy, settings.max_body_bytes, publish_grace=grace)
    decision_svc = DecisionService(engine, registry, policy, publish_grace=grace)

    def intake_batch(stream: str, entries: list[Entry], now: datetime) -> Processed:
        return intake_batches([(stream, entries)], now)

    def intake_batches(batches: list[tuple[str, list[Entry]]], now: datetime) -> Processed:
        outcome = intake_svc.process_many(batches, now)
        return Processed(outcome.ack, outcome.publish)  # every row is published (`publish_grace`)

    def decision_batch(stream: str, entries: list[Entry], now: datetime) -> Processed:
        # Rejections and withheld referrals are left to the relay.
        return Processed(*decision_svc.process(stream, entries, now), relay=True)

    intake = worker(
        name="intake",
        group=streams.INTAKE_GROUP,
        process=intake_batch,
        process_many=intake_batches,
        coalesce_concurrency=settings.worker_threads,
        coalesce_max_entries=settings.batch_size * 4,
        batches_in_flight=settings.batches_in_flight,
    )
    decisions = worker(name="decisions", group=streams.DECISIONS_GROUP, process=decision_batch, priority=True)

    def urgent_batches(batches: list[tuple[str, list[Entry]]], now: datetime) -> Processed:
        # Only urgent entries come here (`StreamWorker.watch` picks them; the watch's group,
        # read with NOACK, is never reclaimed).
        outcome = intake_svc.process_many(batches, now, urgent_watch=True)
        return Processed(outcome.ack, outcome.publish)

    def urgent_batch(stream: str, entries: list[Entry], now: datetime) -> Processed:
        return urgent_batches([(stream, entries)], now)

    # Planned-crime reports (Straffeloven § 141) must not wait behind other reports, not even
    # behind a backlog in their own stream: a second consumer group reads every intake entry
    # as it arrives, stores the urgent ones at once in a lane of their own (their tracking rows
    # tell the intake group they are done) and leaves the rest alone. Urgent entries that
    # arrive while its transaction runs (or waits for SQLite's one writer) share the next one.
    # With more than one process it runs in a process of its own, idle but for them, so no
    # bulk work holds up its thread.
    urgent_watch = worker(
        name="urgent_watch",
        group=streams.URGENT_GROUP,
        process=urgent_batch,
        process_many=urgent_batches,  # one transaction at a time, shared by what waits for it
        batches_in_flight=settings.batches_in_flight,
        urgent=flags_planned_crime,
        # A process that runs the watch alone stores on its event loop's thread: nothing else
        # waits for that loop meanwhile, and each hand-over to a worker thread and back would
        # wait for a core on a busy machine (urgent alerts p50 about a third faster).
        urgent_on_loop=settings.urgent_watch is UrgentWatch.ONLY,
    )
    sizes = {"batch_size": settings.batch_size, "poll_ms": settings.poll_ms}
    if settings.urgent_watch is not UrgentWatch.ONLY:
        broker.include_router(intake_router(registry, intake, **sizes))
        broker.include_router(decisions_router(decisions, **sizes))
    return Hub(
        settings,
        registry,
        agreement,
        policy,
        engine,
        redis_url,
        client,
        broker,
        relay,
        intake,
        decisions,
        urgent_watch,
        embedded,
    )


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Hub]:
    hub = build(settings)
    try:
        await hub.start()
        yield hub
    finally:
        await hub.stop()
