"""Subscribers for `hub.referral-updates.<partner_id>.v1`, one per configured partner."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from faststream.redis import RedisRouter

from hub.config.registry import Registry
from hub.runtime.subscribers import batch_subscription
from hub.runtime.worker import StreamWorker
from hub.schemas import streams
from hub.schemas.entry import Entry


def referral_updates_router(registry: Registry, worker: StreamWorker, *, batch_size: int, poll_ms: int) -> RedisRouter:
    router = RedisRouter()
    for partner in registry.partners:
        stream = streams.referral_updates(partner.id)
        router.subscriber(
            **batch_subscription(
                stream, group=worker.group, consumer=worker.consumer, batch_size=batch_size, poll_ms=poll_ms
            ),
            title=f"{stream}:on_referral_update",
            description=f"Updates on referrals and alerts (received, accepted, declined, completed, "
            f"acknowledged) from {partner.name}.",
        )(_on_update(worker, stream))
    return router


def _on_update(worker: StreamWorker, stream: str) -> Callable[[list[Entry]], Awaitable[None]]:
    async def on_referral_update(entries: list[Entry]) -> None:
        await worker.handle(stream, entries)

    return on_referral_update
