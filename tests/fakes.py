"""Shared fakes for the unit tests of the stream worker (no Redis, no database)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from hub.runtime.worker import Output, StreamWorker, WorkerSettings
from hub.schemas.entry import Entry
from hub.services.pipeline import Outcome
from hub.store.bulk import OutboxRow


class FakeRedis:
    """The two calls a worker makes after processing: XACK, and XCLAIM to give entries back."""

    def __init__(self) -> None:
        self.acked: list[tuple[str, str]] = []

    async def xack(self, stream: str, group: str, *ids: str) -> int:
        self.acked += [(stream, i) for i in ids]
        return len(ids)

    async def xclaim(self, *args: Any, **kwargs: Any) -> list[Any]:
        return []


def entries(stream: str, *bodies: bytes) -> list[Entry]:
    return [Entry(stream, f"1-{n}", {b"event": body}) for n, body in enumerate(bodies)]


class GivingUp:
    """`BatchPipeline.give_up` as the worker sees it: the entries set aside are acked."""

    def __init__(self) -> None:
        self.given_up: list[tuple[str, str, str]] = []  # (stream, entry id, reason)

    def give_up(self, stream: str, batch: list[Entry], now: datetime, reason: str) -> Outcome:
        self.given_up += [(stream, e.entry_id, reason) for e in batch]
        return Outcome([e.entry_id for e in batch], relay=True, dead=len(batch))


class Store(GivingUp):
    """Stands in for the batch pipeline: a batch holding a b"bad" entry fails as a whole."""

    def __init__(self) -> None:
        super().__init__()
        self.together: list[list[str]] = []  # streams of each combined transaction
        self.alone: list[tuple[str, int]] = []  # (stream, entries) of each lone transaction

    def process_many(self, batches: list[tuple[str, list[Entry]]], now: datetime, **_: Any) -> Outcome:
        self.together.append([stream for stream, _ in batches])
        self._check([e for _, es in batches for e in es])
        publish: list[OutboxRow] = [(n, "hub.out.v1", "{}") for n, _ in enumerate(batches)]
        return Outcome([e.entry_id for _, es in batches for e in es], publish)

    def process(self, stream: str, batch: list[Entry], now: datetime, **_: Any) -> Outcome:
        self.alone.append((stream, len(batch)))
        self._check(batch)
        return Outcome([e.entry_id for e in batch])

    @staticmethod
    def _check(batch: list[Entry]) -> None:
        if any(e.fields[b"event"] == b"bad" for e in batch):
            raise ValueError("cannot store this entry")


ProcessFn = Callable[[str, list[Entry], datetime], Outcome]


class LonePipeline(GivingUp):
    """A pipeline that stores each batch with `store` alone (no coalescing)."""

    def __init__(self, store: ProcessFn) -> None:
        super().__init__()
        self.store = store

    def process(self, stream: str, batch: list[Entry], now: datetime, **_: Any) -> Outcome:
        return self.store(stream, batch, now)

    def process_many(self, batches: list[tuple[str, list[Entry]]], now: datetime, **_: Any) -> Outcome:
        done = Outcome()
        for stream, batch in batches:
            done += self.store(stream, batch, now)
        return done


def worker(
    store: Store,
    client: FakeRedis,
    published: list[list[OutboxRow]],
    *,
    coalesce_max_entries: int = 500,
    **options: Any,
) -> StreamWorker:
    """An intake worker that coalesces, on `store`."""

    async def publish(rows: list[OutboxRow]) -> None:
        published.append(rows)

    lanes = {k: options.pop(k) for k in ("batches_in_flight", "coalesce_concurrency") if k in options}
    settings = WorkerSettings(
        name="intake",
        group="g",
        consumer="c",
        max_deliveries=5,
        coalesce=True,
        coalesce_max_entries=coalesce_max_entries,
        **lanes,
    )
    return StreamWorker(settings, store, client, output=Output(publish=publish), **options)  # type: ignore[arg-type]


def lone_worker(name: str, group: str, client: FakeRedis, process: ProcessFn, **options: Any) -> StreamWorker:
    """A worker that stores each batch with `process` alone (no coalescing)."""
    priority = options.pop("priority", False)
    settings = WorkerSettings(name=name, group=group, consumer="c", max_deliveries=5, priority=priority)
    return StreamWorker(settings, LonePipeline(process), client, **options)  # type: ignore[arg-type]
