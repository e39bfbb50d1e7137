"""The composition root: the one place that reads settings and wires the hub together.

Nothing here runs at import time. `Container` holds what every command and process shares
(settings, logging, registry, agreement, a migrated engine, Redis on demand); `build()` makes
the running hub's parts from it, `Hub.start()` connects them.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from types import TracebackType

import anyio
import redis
import redis.asyncio as aredis
from faststream.redis import RedisBroker, RedisClusterBroker
from pydantic import ValidationError
from pydantic_settings import SettingsError
from sqlalchemy.engine import Engine

from hub.config.problems import read_config_file, settings_lines
from hub.config.redis_cluster import is_cluster_url, parse_cluster_url
from hub.config.registry import Registry, load_agreement, load_registry
from hub.config.settings import Settings, UrgentWatch
from hub.errors import ConfigurationError, mask_secrets
from hub.logs import configure, get_logger
from hub.policies import Agreement, PolicyEngine, WorkingDays
from hub.runtime import periodic
from hub.runtime.clocks import Clocks
from hub.runtime.embedded_redis import EmbeddedRedis
from hub.runtime.gauges import Gauges
from hub.runtime.relay import OutboxRelay
from hub.runtime.stream_guard import LossWatch, create_groups, guarded
from hub.runtime.subscribers.decisions import decisions_router
from hub.runtime.transport import CLUSTER_SOCKET_TIMEOUT, consumer_name, redis_client, sync_redis_client
from hub.runtime.worker import (
    Gate,
    Output,
    Reading,
    StreamWorker,
    UnknownStreams,
    WorkerSettings,
    read_forever,
    reclaim_forever,
)
from hub.runtime.worker.reader import HandleFn
from hub.schemas import streams
from hub.schemas.dates import danish_date
from hub.services.deadlines import DeadlineScheduler
from hub.services.decisions import DecisionService
from hub.services.envelope import StaffEvent
from hub.services.intake import IntakeService, flags_planned_crime
from hub.services.pipeline import BatchPipeline
from hub.services.referral_updates import ReferralUpdateService
from hub.store.db import make_engine, migrate
from hub.tracing import OFF, Tracing

log = get_logger("hub.bootstrap")


def load_settings(**overrides: object) -> Settings:
    """The settings from the `HUB_*` environment: read here, once per process (`Container.open`).

    Bad settings raise a `ConfigurationError` with one line per bad setting, never pydantic's
    own text (it quotes the values, and a URL may hold a password)."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigurationError(*settings_lines(exc, Settings)) from None
    except SettingsError as exc:  # a value pydantic-settings could not even decode
        raise ConfigurationError(f"HUB_* settings: {str(exc).splitlines()[0]}") from None


class Container:
    """What one process of the hub shares, made once from its settings.

    The registry, the agreement and the engine are made on first use (`hub sources` needs no
    database); the engine's schema is migrated before it is handed out, so an empty data
    directory works. A Redis URL (an embedded server if none is configured) and a client are
    made on demand too. `close()` lets go of whatever was made.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._embedded: EmbeddedRedis | None = None
        self._redis_url: str | None = None
        self._redis: redis.Redis | None = None
        self._engine: Engine | None = None
        self._migrated = False

    @classmethod
    def open(
        cls, settings: Settings | None = None, *, log_json: bool | None = None, log_level: str | None = None
    ) -> Container:
        """The container of this process: settings from the environment unless given, logging
        configured (once, here), the data directory made."""
        settings = settings if settings is not None else load_settings()
        json = log_json if log_json is not None else settings.log_json
        configure(json=json, level=log_level or settings.log_level)
        try:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigurationError(
                f"HUB_DATA_DIR: cannot create {settings.data_dir}: {exc.strerror or type(exc).__name__}; "
                "set it to a directory this user may write"
            ) from None
        return cls(settings)

    @functools.cached_property
    def registry(self) -> Registry:
        return read_config_file("HUB_REGISTRY_FILE", self.settings.registry_file, load_registry)

    @functools.cached_property
    def agreement(self) -> Agreement:
        path = self.settings.agreement_file
        return read_config_file("HUB_AGREEMENT_FILE", path, load_agreement, check=f" (`hub policy check {path}`)")

    @functools.cached_property
    def policy(self) -> PolicyEngine:
        """The law and the agreement as one engine, which holds the memo tables; this year's
        and next year's holidays loaded up front (the first deadline does not pay for them)."""
        return PolicyEngine(self.agreement, WorkingDays.around(danish_date(datetime.now(UTC))))

    @property
    def engine(self) -> Engine:
        """The database, at the newest schema."""
        return self.database()

    def database(self, *, migrate_first: bool = True) -> Engine:
        """The one engine of this container; with `migrate_first` the schema is brought to the
        newest migration first (once)."""
        url = self.settings.effective_database_url
        if migrate_first and not self._migrated:
            self.settings.data_dir.mkdir(parents=True, exist_ok=True)
            migrate(url)
            self._migrated = True
        if self._engine is None:
            self._engine = make_engine(url)
        return self._engine

    def redis_url(self) -> str:
        """The configured Redis, or an embedded server started now (stopped by `close()`)."""
        if self._redis_url is None:
            self._redis_url, self._embedded = resolve_redis(self.settings)
        return self._redis_url

    def redis(self) -> redis.Redis:
        """A (synchronous) Redis client, made on first use."""
        if self._redis is None:
            self._redis = sync_redis_client(self.redis_url())
        return self._redis

    def derive(self, settings: Settings) -> Container:
        """A container for other settings of the same hub (a process role): the registry and
        agreement already loaded are shared, the engine and Redis are its own."""
        other = Container(settings)
        for name, file in (("registry", "registry"), ("agreement", "agreement"), ("policy", "agreement")):
            if name in self.__dict__ and getattr(settings, f"{file}_file") == getattr(self.settings, f"{file}_file"):
                other.__dict__[name] = self.__dict__[name]
        return other

    def close(self) -> None:
        if self._redis is not None:
            self._redis.close()
            self._redis = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
        if self._embedded is not None:
            self._embedded.stop()
            self._embedded = None
        self._redis_url = None

    def __enter__(self) -> Container:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


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
    unknown_streams: UnknownStreams | None = None  # intake streams of unknown sources, answered
    tracing: Tracing = OFF
    clocks: Clocks | None = None  # the statutory deadlines' scheduler
    updates: StreamWorker | None = None  # partners' updates on referrals and alerts
    _readers: list[asyncio.Task[None]] = field(default_factory=list)  # the urgent watch's loop
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def _reading(self) -> list[tuple[StreamWorker, str]]:
        """The workers whose groups this process reads, with their streams."""
        intake = self.registry.intake_streams()
        watch = self.settings.urgent_watch
        reading = [] if watch is UrgentWatch.ONLY else [(self.intake, s) for s in intake]
        if watch is not UrgentWatch.ONLY:
            reading.append((self.decisions, streams.DECISIONS))
            if self.updates is not None:
                reading += [(self.updates, streams.referral_updates(p.id)) for p in self.registry.partners]
        if watch is not UrgentWatch.OFF:
            reading += [(self.urgent_watch, s) for s in intake]
        return reading

    def _read(self, worker: StreamWorker) -> tuple[Reading, HandleFn]:
        """How a worker's streams are read (`read_forever`), and what takes each reply."""
        settings, watch = self.settings, worker is self.urgent_watch
        reading = Reading(
            worker.name,
            worker.group,
            worker.consumer,
            count=settings.batch_size,
            block_ms=settings.poll_ms,
            linger_ms=settings.urgent_linger_ms if watch else settings.read_linger_ms,
            noack=worker.settings.noack,
            start=next(g.start for _, g in self.registry.catalogue().hub_groups() if g.name == worker.group),
        )
        return reading, worker.watch if watch else worker.take

    async def start(self) -> None:
        await anyio.to_thread.run_sync(migrate, self.settings.effective_database_url)
        catalogue = self.registry.catalogue()
        await create_groups(self.client, catalogue)  # every group of the stream catalogue
        if self.settings.urgent_watch is not UrgentWatch.ONLY:  # where reports are stored: notice trims
            watch = LossWatch(self.client, guarded(catalogue))
            self._readers.append(asyncio.create_task(watch.run(self.settings.reclaim_interval_s), name="loss-watch"))
            gauges = Gauges(self.client, self.engine, [(s, g.name) for s, g in catalogue.hub_groups()])
            self._readers.append(asyncio.create_task(gauges.run(self.settings.reclaim_interval_s), name="gauges"))
            if self.clocks is not None:  # every process that stores reports; the claim fires each once
                self._readers.append(asyncio.create_task(self.clocks.run(), name="deadline-clocks"))
            anchor = functools.partial(periodic.anchor_once, self.client, self.engine)
            self._readers.append(
                asyncio.create_task(
                    periodic.every(self.settings.audit_anchor_interval_s, anchor, "audit-anchor"), name="audit-anchor"
                )
            )
            if (interval := self.settings.retention_interval_s) > 0:
                retention = functools.partial(
                    periodic.retention_once, self.client, self.engine, self.registry, self.agreement, interval
                )
                check = min(interval, periodic.RETENTION_CHECK_S)
                self._readers.append(
                    asyncio.create_task(periodic.every(check, retention, "retention"), name="retention")
                )
        await self.broker.start()  # the decisions stream's subscriber
        reading = self._reading()
        for worker in (self.intake, self.updates, self.urgent_watch):
            if worker is not None and (read := [s for w, s in reading if w is worker]):
                reader = read_forever(self.client, read, *self._read(worker))
                self._readers.append(asyncio.create_task(reader, name=f"{worker.name}-reader"))
        reclaimable = [(w, s) for w, s in reading if w is not self.urgent_watch]  # the watch acks nothing
        self._tasks = [
            asyncio.create_task(self.relay.run(), name="outbox-relay"),
            asyncio.create_task(
                reclaim_forever(
                    reclaimable,
                    self.settings.reclaim_idle_ms,
                    self.settings.reclaim_interval_s,
                    self.settings.batch_size,
                    # Where this process reads the intake group, it also answers unknown intake streams.
                    also=self.unknown_streams.sweep
                    if self.unknown_streams is not None and self.settings.urgent_watch is not UrgentWatch.ONLY
                    else None,
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
        await stop_broker(self.broker)
        await cancel_all(self._readers)  # like the subscribers: nothing new is read from here on
        for worker in (self.urgent_watch, self.intake, self.decisions, self.updates):
            if worker is not None:
                await worker.finish()  # before the engine is disposed
        await cancel_all(self._tasks)
        with contextlib.suppress(Exception):
            await self.relay.drain(timeout_s=5)
        await self.client.aclose()
        self.engine.dispose()
        if self.embedded is not None:
            self.embedded.stop()
        await anyio.to_thread.run_sync(self.tracing.close)  # the last spans go to the collector
        log.info("hub.stopped")


async def cancel_all(tasks: list[asyncio.Task[None]]) -> None:
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


async def stop_broker(broker: RedisBroker) -> None:
    """Stop FastStream's broker once its subscribers' reads have ended.

    `broker.stop()` cancels each subscriber's read task without waiting for it and then closes
    the connection. A cancellation can be lost (Python 3.11's `asyncio.timeout` may swallow one
    that arrives as its deadline passes), and the read then fails on the closed connection and
    is logged as an error: about 1 stop in 140 of an idle broker. So the subscribers stop first,
    their tasks are cancelled until they have ended, and only then is the connection closed."""
    tasks = [task for sub in broker.subscribers for task in getattr(sub, "tasks", ())]
    for sub in broker.subscribers:
        await sub.stop()  # no new read; cancels the tasks (then cancelled again until done)
    await cancel_all(tasks)
    await broker.stop()


def make_broker(redis_url: str, logger: logging.Logger) -> RedisBroker:
    """FastStream's broker for the hub's subscribers: its cluster broker for a cluster URL
    (each stream subscriber reads its one stream with XREADGROUP, a single-key command that
    the cluster client sends to the stream's master)."""
    if not is_cluster_url(redis_url):
        return RedisBroker(redis_url, logger=logger)
    cluster = parse_cluster_url(redis_url)
    return RedisClusterBroker(
        cluster.single_node_url(),
        startup_nodes=cluster.nodes[1:],
        socket_timeout=CLUSTER_SOCKET_TIMEOUT,  # as the hub's own client (`hub.runtime.transport`)
        logger=logger,
    )


def resolve_redis(settings: Settings) -> tuple[str, EmbeddedRedis | None]:
    """The configured Redis URL, or an embedded server in the data directory."""
    if settings.redis_url:
        return settings.redis_url, None
    embedded = EmbeddedRedis(settings.data_dir)
    return embedded.start(), embedded


_TRUE = ("true", "1", "yes")


def tracing_for(settings: Settings, environ: Mapping[str, str] = os.environ) -> Tracing:
    """Traces are off unless configured: `HUB_TRACES_ENDPOINT`, or the standard
    `OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (the exporter then reads
    the `OTEL_EXPORTER_OTLP_*` variables itself). `OTEL_SDK_DISABLED=true` or
    `OTEL_TRACES_EXPORTER=none` turns them off whatever else is set. Off, the SDK is not loaded."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() in _TRUE:
        return OFF
    if environ.get("OTEL_TRACES_EXPORTER", "").strip().lower() == "none":
        return OFF
    standard = environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    if settings.traces_endpoint is None and not standard:
        return OFF
    from hub.tracing_export import otlp_exporter, sdk_tracing  # only a hub with traces loads the SDK

    tracing = sdk_tracing(otlp_exporter(settings.traces_endpoint))
    log.info("traces.on", endpoint=mask_secrets(settings.traces_endpoint or standard or ""))
    return tracing


def build(settings: Settings | Container, *, tracing: Tracing | None = None) -> Hub:
    """The hub's parts. `tracing`: the spans' way out (default: `tracing_for(settings)`)."""
    container = settings if isinstance(settings, Container) else Container(settings)
    settings, registry, agreement = container.settings, container.registry, container.agreement
    policy = container.policy
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    tracing = tracing if tracing is not None else tracing_for(settings)
    engine = container.database(migrate_first=False)  # `Hub.start` migrates, off the event loop
    redis_url, embedded = resolve_redis(settings)
    client = redis_client(redis_url)
    # FastStream logs through the same redaction chain as the hub (hub.logs.configure). Not its
    # own "faststream" logger: FastStream gives that one a handler of its own at import (stderr,
    # not propagated), which would print exception messages and tracebacks unredacted.
    faststream_log = logging.getLogger("hub.faststream")
    faststream_log.setLevel(logging.WARNING)  # its INFO lines are one per batch ("Received", "Processed")
    broker = make_broker(redis_url, faststream_log)
    relay = OutboxRelay(
        engine,
        client,
        batch=settings.relay_batch,
        interval_s=settings.relay_interval_s,
        looks=settings.urgent_watch is not UrgentWatch.ONLY,
    )
    grace = timedelta(seconds=settings.publish_grace_s)
    intake_pipeline = BatchPipeline(
        engine,
        IntakeService(registry, policy, settings.max_body_bytes, limits=settings.limits, tracing=tracing),
        publish_grace=grace,
        tracing=tracing,
        name="intake",
    )
    decision_pipeline = BatchPipeline[StaffEvent](
        engine,
        DecisionService(registry, policy, limits=settings.limits, tracing=tracing),
        publish_grace=grace,
        tracing=tracing,
        name="decisions",
    )
    update_pipeline = BatchPipeline(
        engine,
        ReferralUpdateService(registry, limits=settings.limits),
        publish_grace=grace,
        tracing=tracing,
        name="referral_updates",
    )
    consumer = consumer_name()
    output = Output(publish=relay.publish, wake_relay=relay.rows_left)
    limiter = anyio.CapacityLimiter(settings.worker_threads)  # few threads: more only contend for the GIL
    gate = Gate()  # urgent reports and triage decisions go before bulk intake
    lanes = WorkerSettings(
        name="intake",
        group=streams.INTAKE_GROUP,
        consumer=consumer,
        max_deliveries=settings.max_deliveries,
        batches_in_flight=settings.batches_in_flight,
        coalesce=True,
        coalesce_concurrency=settings.worker_threads,
        coalesce_max_entries=settings.batch_size * 4,
    )
    intake = StreamWorker(
        replace(lanes, watch_head_start_ms=settings.urgent_head_start_ms),
        intake_pipeline,
        client,
        output=output,
        limiter=limiter,
        gate=gate,
        watched=flags_planned_crime,  # the urgent watch's: it has a head start on them
    )
    decisions = StreamWorker(
        WorkerSettings(
            name="decisions",
            group=streams.DECISIONS_GROUP,
            consumer=consumer,
            max_deliveries=settings.max_deliveries,
            priority=True,
        ),
        decision_pipeline,
        client,
        output=output,
        limiter=limiter,
        gate=gate,
    )
    updates = StreamWorker(
        WorkerSettings(
            name="referral_updates",
            group=streams.REFERRAL_UPDATES_GROUP,
            consumer=consumer,
            # Not a priority lane: a partner's burst of updates must not hold intake back.
            max_deliveries=settings.max_deliveries,
        ),
        update_pipeline,
        client,
        output=output,
        limiter=limiter,
        gate=gate,
    )
    # Planned-crime reports (Straffeloven § 141) must not wait behind other reports, not even
    # behind a backlog in their own stream: a second consumer group reads every intake entry
    # as it arrives, stores the urgent ones at once in a lane of their own (their tracking rows
    # tell the intake group they are done) and leaves the rest alone. Urgent entries that
    # arrive while its transaction runs (or waits for SQLite's one writer) share the next one.
    # With more than one process it runs in a process of its own, idle but for them, so no
    # bulk work holds up its thread. Only urgent entries reach its pipeline (`StreamWorker.watch`
    # picks them; its group, read with NOACK, is never reclaimed).
    urgent_watch = StreamWorker(
        replace(
            lanes,
            name="urgent_watch",
            group=streams.URGENT_GROUP,
            coalesce_concurrency=1,  # one transaction at a time, shared by what waits for it
            look_first=False,  # usually first: no look-up of tracking rows on the first attempt
            # A process that runs the watch alone stores on its event loop's thread: nothing else
            # waits for that loop meanwhile, and each hand-over to a worker thread and back would
            # wait for a core on a busy machine (urgent alerts p50 about a third faster).
            urgent_on_loop=settings.urgent_watch is UrgentWatch.ONLY,
            noack=True,  # it reads every entry, and the intake group acks each one
        ),
        intake_pipeline,
        client,
        output=output,
        limiter=limiter,
        gate=gate,
        urgent=flags_planned_crime,
    )
    if settings.urgent_watch is not UrgentWatch.ONLY:
        # One stream, and someone waits for each decision: a FastStream subscriber of its own.
        # Intake and partner updates are many streams each: one reader per group (`Hub.start`).
        broker.include_router(decisions_router(decisions, batch_size=settings.batch_size, poll_ms=settings.poll_ms))
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
        unknown_streams=UnknownStreams(
            intake, registry.intake_streams(), min_idle_ms=settings.reclaim_idle_ms, count=settings.batch_size
        ),
        tracing=tracing,
        clocks=Clocks(DeadlineScheduler(engine), settings.deadline_interval_s, relay.rows_left),
        updates=updates,
    )


@contextlib.asynccontextmanager
async def running(settings: Settings | Container, *, tracing: Tracing | None = None) -> AsyncIterator[Hub]:
    hub = build(settings, tracing=tracing)
    try:
        await hub.start()
        yield hub
    finally:
        await hub.stop()
