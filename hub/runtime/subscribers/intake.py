"""Subscribers for `hub.intake.<source_id>.v1`, one per configured source."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from faststream.redis import RedisRouter

from hub.config.registry import Registry
from hub.runtime.subscribers import batch_subscription
from hub.runtime.worker import StreamWorker
from hub.schemas import streams
from hub.schemas.entry import Entry


def intake_router(registry: Registry, worker: StreamWorker, *, batch_size: int, poll_ms: int) -> RedisRouter:
    router = RedisRouter()
    for source in registry.sources:
        stream = streams.intake(source.id)
        router.subscriber(
            **batch_subscription(
                stream, group=worker.group, consumer=worker.consumer, batch_size=batch_size, poll_ms=poll_ms
            ),
            title=f"{stream}:on_concern_reported",
            description=f"Concern reports (CloudEvent `dk.albertslund.hub.concern.reported.v1`) from {source.name}.",
        )(_on_concern_reported(worker, stream))
    return router


def _on_concern_reported(worker: StreamWorker, stream: str) -> Callable[[list[Entry]], Awaitable[None]]:
    async def on_concern_reported(entries: list[Entry]) -> None:
        await worker.dispatch(stream, entries)

    return on_concern_reported
