"""Subscriber for `hub.decisions.v1`: triage decisions from DKE staff (or any client)."""

from __future__ import annotations

from faststream.redis import RedisRouter

from hub.runtime.subscribers import batch_subscription
from hub.runtime.worker import StreamWorker
from hub.schemas import streams
from hub.schemas.entry import Entry


def decisions_router(worker: StreamWorker, *, batch_size: int, poll_ms: int) -> RedisRouter:
    async def on_decision_made(entries: list[Entry]) -> None:
        await worker.handle(streams.DECISIONS, entries)

    router = RedisRouter()
    router.subscriber(
        **batch_subscription(
            streams.DECISIONS, group=worker.group, consumer=worker.consumer, batch_size=batch_size, poll_ms=poll_ms
        ),
        title=f"{streams.DECISIONS}:on_decision_made",
        description="Triage decisions (CloudEvent `dk.albertslund.hub.decision.made.v1`).",
    )(on_decision_made)
    return router
