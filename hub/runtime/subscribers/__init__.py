"""FastStream subscribers: thin. Typed entries in, a service call, an ack. No legal logic."""

from __future__ import annotations

from typing import Any

from faststream import AckPolicy
from faststream.redis import StreamSub

from hub.runtime.transport import raw_batch_decoder, raw_batch_parser


def batch_subscription(stream: str, *, group: str, consumer: str, batch_size: int, poll_ms: int) -> dict[str, Any]:
    """Subscriber options every hub stream shares: a consumer group (created at id 0 by the
    app before start-up), batches of at most `batch_size`, raw entries, ack after commit."""
    return {
        "stream": StreamSub(
            stream, group=group, consumer=consumer, batch=True, max_records=batch_size, polling_interval=poll_ms
        ),
        "parser": raw_batch_parser,
        "decoder": raw_batch_decoder,
        "ack_policy": AckPolicy.MANUAL,
    }
