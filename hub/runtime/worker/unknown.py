"""Intake streams no configured source writes to (a mistyped source id, a homoglyph): their
entries are answered too, not left unread for good.

In the reclaimer's rhythm the hub SCANs for `hub.intake.*` streams, and for each one that is
not a configured source's it creates the intake group at id 0 (nothing written before is
missed; never MKSTREAM: the hub creates no stream under a name someone else chose), reads
every entry, dead-letters it with reason `unknown_source` (no receipt: an unknown source has
no receipts stream, and the hub must not create one under that name), and acks it. Each such
stream is logged as `intake.unknown_stream`, by name only if its source part is a well-formed
source id, else by a short hash (never the key's bytes), and counted in `UnknownStreams.counts`
(entries per logged name) for the metrics to export.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import cast

import anyio
from redis.exceptions import ResponseError

from hub import metrics
from hub.logs import get_logger
from hub.runtime.transport import delivery_counts
from hub.runtime.worker.stream import StreamWorker
from hub.schemas.entry import Entry
from hub.services.pipeline import UNKNOWN_SOURCE

log = get_logger("hub.runtime.worker")

SOURCE_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
_PREFIX, _SUFFIX = b"hub.intake.", b".v1"

Reply = list[tuple[bytes, list[tuple[bytes, dict[bytes, bytes] | None]]]]


def stream_label(key: bytes) -> str:
    """How the log names an unknown intake stream: as it is if its source part is a well-formed
    source id, else `sha256:<12 hex digits>` (a name someone chose may hold any bytes)."""
    source = key[len(_PREFIX) : -len(_SUFFIX)] if key.endswith(_SUFFIX) else b""
    if key.startswith(_PREFIX) and SOURCE_ID.fullmatch(source.decode("ascii", "replace")):
        return key.decode("ascii")
    return "sha256:" + hashlib.sha256(key).hexdigest()[:12]


def stream_text(key: bytes) -> str:
    """The stream's name as the dead-letter record keeps it: printable text, any other byte or
    character escaped (the database refuses NUL, and a reader should see what was there)."""
    text = key.decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)


class UnknownStreams:
    """Finds and answers the entries of unknown intake streams, with the intake worker's group,
    consumer and pipeline."""

    def __init__(self, worker: StreamWorker, known: Iterable[str], *, min_idle_ms: int, count: int) -> None:
        self.worker = worker
        self.known = {s.encode() for s in known}
        self.min_idle_ms = min_idle_ms
        self.count = count
        self.counts: Counter[str] = Counter()  # entries dead-lettered, by `stream_label`

    async def sweep(self) -> int:
        """One pass over every unknown intake stream; the number of entries answered."""
        client = self.worker.client
        found = [key async for key in client.scan_iter(match=b"hub.intake.*", count=500, _type="STREAM")]
        total = 0
        for key in found:
            if key not in self.known:
                total += await self._answer(key)
        return total

    async def _answer(self, key: bytes) -> int:
        w = self.worker
        try:
            await w.client.xgroup_create(key, w.group, id="0")  # no MKSTREAM: it must exist
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                return 0  # gone meanwhile (or not a stream): nothing to answer
        answered = 0
        # First what a consumer of the group left pending (one that died), then what is new.
        start = "0-0"
        while True:
            next_id, claimed, *_ = await w.client.xautoclaim(
                key, w.group, w.consumer, min_idle_time=self.min_idle_ms, start_id=start, count=self.count
            )
            answered += await self._dead_letter(key, [m for m in claimed if m is not None])
            start = next_id.decode() if isinstance(next_id, bytes) else next_id
            if start == "0-0":
                break
        while True:
            reply = cast("Reply | None", await w.client.xreadgroup(w.group, w.consumer, {key: ">"}, count=self.count))
            messages = [m for _, ms in reply or [] for m in ms]
            if not messages:
                break
            answered += await self._dead_letter(key, messages)
        if answered:
            label = stream_label(key)
            self.counts[label] += answered
            metrics.UNKNOWN_INTAKE_ENTRIES.inc(answered)
            log.warning("intake.unknown_stream", stream=label, count=answered, reason=UNKNOWN_SOURCE)
        return answered

    async def _dead_letter(self, key: bytes, messages: list[tuple[bytes, dict[bytes, bytes] | None]]) -> int:
        w = self.worker
        if not messages:
            return 0
        name = stream_text(key)
        ids = [i.decode() for i, _ in messages]
        counts = await delivery_counts(w.client, cast("str", key), w.group, ids)  # redis-py takes bytes keys
        entries = [Entry(name, i, dict(f or {}), counts.get(i, 1)) for i, (_, f) in zip(ids, messages, strict=True)]
        done = await anyio.to_thread.run_sync(
            w.pipeline.give_up, name, entries, datetime.now(UTC), UNKNOWN_SOURCE, limiter=w.limiter
        )
        if done.publish and w.output.publish is not None:
            await w.output.publish(done.publish)
        w.output.wake_relay()
        if done.ack:
            await w.client.xack(key, w.group, *done.ack)
        return len(done.ack)
