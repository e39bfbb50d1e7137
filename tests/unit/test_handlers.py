"""The subscribers are thin: with FastStream's in-memory broker, check each stream reaches its worker."""

from __future__ import annotations

from faststream.redis import RedisBroker, TestRedisBroker

from hub.config.registry import default_registry_path, load_registry
from hub.runtime.subscribers.decisions import decisions_router
from hub.runtime.subscribers.intake import intake_router
from hub.schemas import streams
from hub.schemas.entry import Entry


class RecordingWorker:
    """Stands in for StreamWorker: the real one needs a real Redis for XACK (tested in integration)."""

    group = "g"
    consumer = "c"

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[Entry]]] = []

    async def handle(self, stream: str, entries: list[Entry]) -> None:
        self.calls.append((stream, entries))

    async def dispatch(self, stream: str, entries: list[Entry]) -> None:  # intake reads ahead
        self.calls.append((stream, entries))


async def test_each_source_stream_and_the_decisions_stream_reach_their_worker() -> None:
    registry = load_registry(default_registry_path())
    intake, decisions = RecordingWorker(), RecordingWorker()
    broker = RedisBroker()
    broker.include_router(intake_router(registry, intake, batch_size=10, poll_ms=10))  # type: ignore[arg-type]
    broker.include_router(decisions_router(decisions, batch_size=10, poll_ms=10))  # type: ignore[arg-type]
    async with TestRedisBroker(broker) as test_broker:
        for source in registry.sources:
            await test_broker.publish({"event": "{}"}, stream=streams.intake(source.id))
        await test_broker.publish({"event": "{}"}, stream=streams.DECISIONS)
    assert [stream for stream, _ in intake.calls] == [streams.intake(s.id) for s in registry.sources]
    assert [stream for stream, _ in decisions.calls] == [streams.DECISIONS]
    assert all(len(entries) == 1 and isinstance(entries[0], Entry) for _, entries in intake.calls)
