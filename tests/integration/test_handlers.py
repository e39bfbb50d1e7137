"""The readers are thin: each stream reaches its worker, every entry as it was written (the
intake streams through one reader, `read_forever`; the decisions stream through its FastStream
subscriber).

On a real Redis (FastStream's in-memory broker writes its own `__data__` envelope, which the hub
no longer hands to FastStream's parser: on a hub stream it is just an entry with wrong fields)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import redis.asyncio as aredis
from faststream.redis import RedisBroker

from hub.bootstrap import cancel_all, stop_broker
from hub.config.registry import default_registry_path, load_registry
from hub.runtime.subscribers.decisions import decisions_router
from hub.runtime.transport import ensure_group
from hub.runtime.worker import Reading, read_forever
from hub.schemas import streams
from hub.schemas.entry import Entry


class RecordingWorker:
    """Stands in for StreamWorker: the subscribers only hand batches over."""

    group = "g"
    consumer = "c"

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[Entry]]] = []

    async def handle(self, stream: str, entries: list[Entry]) -> None:
        self.calls.append((stream, entries))

    async def take(self, batches: list[tuple[str, list[Entry]]]) -> None:  # a reader's batches
        self.calls += batches


async def until(check: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def _with_broker(
    redis_url: str, run: Callable[[aredis.Redis, RecordingWorker, RecordingWorker], Awaitable[None]]
) -> None:
    registry = load_registry(default_registry_path())
    intake, decisions = RecordingWorker(), RecordingWorker()
    client = aredis.Redis.from_url(redis_url)
    for stream in [*registry.intake_streams(), streams.DECISIONS]:
        await ensure_group(client, stream, "g")
    broker = RedisBroker(redis_url)
    broker.include_router(decisions_router(decisions, batch_size=10, poll_ms=10))  # type: ignore[arg-type]
    await broker.start()
    reading = Reading("intake", "g", "c", count=10, block_ms=10)
    reader = asyncio.create_task(read_forever(client, registry.intake_streams(), reading, intake.take))
    try:
        await run(client, intake, decisions)
    finally:
        await cancel_all([reader])  # as the hub stops it: a cancellation can be lost
        await stop_broker(broker)
        await client.aclose()


async def test_each_source_stream_and_the_decisions_stream_reach_their_worker(clean_redis: str) -> None:
    registry = load_registry(default_registry_path())

    async def run(client: aredis.Redis, intake: RecordingWorker, decisions: RecordingWorker) -> None:
        for n, source in enumerate(registry.sources):  # one at a time: the calls come in this order
            await client.xadd(streams.intake(source.id), {"event": "{}"})
            await until(lambda n=n: len(intake.calls) == n + 1)  # type: ignore[misc]
        await client.xadd(streams.DECISIONS, {"event": "{}"})
        await until(lambda: len(decisions.calls) == 1)
        assert [stream for stream, _ in intake.calls] == [streams.intake(s.id) for s in registry.sources]
        assert [stream for stream, _ in decisions.calls] == [streams.DECISIONS]
        assert all(len(entries) == 1 and isinstance(entries[0], Entry) for _, entries in intake.calls)

    await _with_broker(clean_redis, run)


async def test_an_entry_in_faststreams_own_envelope_reaches_the_worker_as_it_was_written(clean_redis: str) -> None:
    """Garbage in FastStream's `__data__` key does not fail the batch (FastStream's parser would):
    the worker gets every entry raw, for the envelope parser to refuse with a code."""
    stream = streams.intake(load_registry(default_registry_path()).sources[0].id)

    async def run(client: aredis.Redis, intake: RecordingWorker, decisions: RecordingWorker) -> None:
        pipe = client.pipeline(transaction=True)  # one batch
        pipe.xadd(stream, {"__data__": b"\x89garbage\x00\xff"})
        pipe.xadd(stream, {"event": "{}", "__data__": b"\xff"})
        pipe.xadd(stream, {"event": "{}"})
        await pipe.execute()
        await until(lambda: sum(len(es) for _, es in intake.calls) == 3)
        fields = [e.fields for _, es in intake.calls for e in es]
        assert fields == [
            {b"__data__": b"\x89garbage\x00\xff"},
            {b"event": b"{}", b"__data__": b"\xff"},
            {b"event": b"{}"},
        ]

    await _with_broker(clean_redis, run)


async def test_a_stream_deleted_meanwhile_does_not_stop_the_others(clean_redis: str) -> None:
    """One read covers every intake stream, so a lost group (an operator deleted a stream's key,
    a Redis that lost its data) would fail every read: the reader creates the group again and
    reads on, the deleted stream included."""
    registry = load_registry(default_registry_path())
    first, second = registry.intake_streams()[:2]

    async def run(client: aredis.Redis, intake: RecordingWorker, decisions: RecordingWorker) -> None:
        await client.xadd(first, {"event": "{}"})
        await until(lambda: len(intake.calls) == 1)
        await client.delete(first)  # the key and its consumer group are gone
        await client.xadd(second, {"event": "{}"})
        await until(lambda: [s for s, _ in intake.calls] == [first, second])
        await client.xadd(first, {"event": "{}"})  # the deleted stream is read again too
        await until(lambda: [s for s, _ in intake.calls] == [first, second, first])

    await _with_broker(clean_redis, run)


async def test_the_broker_closes_its_connection_only_once_its_reads_have_ended(clean_redis: str) -> None:
    """At shutdown a read whose cancellation was lost (Python 3.11's `asyncio.timeout` may swallow
    one) must not find its connection closed under it: FastStream's own `stop` cancels the read
    tasks without waiting, and such a read then logs `ConnectionError` at level error."""
    await ensure_group(aredis.Redis.from_url(clean_redis), streams.DECISIONS, "g")
    broker = RedisBroker(clean_redis)
    broker.include_router(decisions_router(RecordingWorker(), batch_size=10, poll_ms=10))  # type: ignore[arg-type]
    await broker.start()
    connected_when_done: list[bool] = []

    async def read_that_loses_one_cancellation() -> None:
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(30)
        await asyncio.sleep(0.05)  # still reading
        connected_when_done.append(broker._connection is not None)  # FastStream drops it on disconnect

    (subscriber,) = broker.subscribers
    read = asyncio.create_task(read_that_loses_one_cancellation())
    subscriber.tasks.append(read)  # type: ignore[attr-defined]
    await asyncio.sleep(0)
    await stop_broker(broker)
    assert read.done() and connected_when_done == [True]
    assert broker._connection is None  # and then it was closed
