"""Subscriber for `hub.decisions.v1`: triage decisions from DKE staff (or any client)."""

from __future__ import annotations

from faststream import AckPolicy
from faststream.redis import RedisRouter, StreamSub

from hub.schemas import streams
from hub.transport import Entry, raw_batch_decoder, raw_batch_parser
from hub.worker import StreamWorker


def decisions_router(worker: StreamWorker, *, batch_size: int, poll_ms: int) -> RedisRouter:
    router = RedisRouter()

    @router.subscriber(
        stream=StreamSub(
            streams.DECISIONS,
            group=worker.group,
            consumer=worker.consumer,
            batch=True,
            max_records=batch_size,
            polling_interval=poll_ms,
        ),
        parser=raw_batch_parser,
        decoder=raw_batch_decoder,
        ack_policy=AckPolicy.MANUAL,
        title=f"{streams.DECISIONS}:on_decision_made",
        description="Triage decisions (CloudEvent `dk.albertslund.hub.decision.made.v1`).",
    )
    async def on_decision_made(entries: list[Entry]) -> None:
        await worker.handle(streams.DECISIONS, entries)

    return router
