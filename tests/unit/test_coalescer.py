"""Batches of several streams stored in one transaction, and kept apart when it fails."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from hub.runtime.worker import Processed, StreamWorker
from hub.schemas.entry import Entry
from hub.store.repository import OutboxRow


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


class Store:
    """Stands in for the intake service: a batch holding a b"bad" entry fails as a whole."""

    def __init__(self) -> None:
        self.together: list[list[str]] = []  # streams of each combined transaction
        self.alone: list[tuple[str, int]] = []  # (stream, entries) of each lone transaction

    def many(self, batches: list[tuple[str, list[Entry]]], now: datetime) -> Processed:
        self.together.append([stream for stream, _ in batches])
        self._check([e for _, es in batches for e in es])
        publish: list[OutboxRow] = [(n, "hub.out.v1", "{}") for n, _ in enumerate(batches)]
        return Processed([e.entry_id for _, es in batches for e in es], publish)

    def one(self, stream: str, batch: list[Entry], now: datetime) -> Processed:
        self.alone.append((stream, len(batch)))
        self._check(batch)
        return Processed([e.entry_id for e in batch])

    @staticmethod
    def _check(batch: list[Entry]) -> None:
        if any(e.fields[b"event"] == b"bad" for e in batch):
            raise ValueError("cannot store this entry")


def worker(store: Store, client: FakeRedis, published: list[list[OutboxRow]], **options: Any) -> StreamWorker:
    async def publish(rows: list[OutboxRow]) -> None:
        published.append(rows)

    return StreamWorker(
        name="intake",
        group="g",
        consumer="c",
        client=client,  # type: ignore[arg-type]
        engine=None,  # type: ignore[arg-type]
        process=store.one,
        process_many=store.many,
        max_deliveries=5,
        on_commit=lambda: None,
        publish=publish,
        **options,
    )


async def test_batches_that_arrive_together_are_stored_in_one_transaction() -> None:
    store, client, published = Store(), FakeRedis(), []
    w = worker(store, client, published)
    await asyncio.gather(*(w.handle(s, entries(s, b"ok", b"ok")) for s in ("a", "b", "c")))
    assert store.together == [["a", "b", "c"]] and store.alone == []
    assert sorted(client.acked) == [(s, f"1-{n}") for s in "abc" for n in range(2)]
    assert published == [[(0, "hub.out.v1", "{}"), (1, "hub.out.v1", "{}"), (2, "hub.out.v1", "{}")]]  # once


async def test_a_bad_entry_holds_up_no_other_streams_batch() -> None:
    store, client, published = Store(), FakeRedis(), []
    w = worker(store, client, published)
    await asyncio.gather(w.handle("a", entries("a", b"ok", b"bad")), w.handle("b", entries("b", b"ok", b"ok")))
    assert store.together == [["a", "b"]]  # failed together ...
    assert ("b", 2) in store.alone  # ... so each batch was retried alone: b's went through
    assert ("a", 1) in store.alone  # a's one entry at a time
    assert sorted(client.acked) == [("a", "1-0"), ("b", "1-0"), ("b", "1-1")]  # the bad one stays pending


async def test_a_transaction_takes_whole_batches_up_to_the_cap() -> None:
    store, client, published = Store(), FakeRedis(), []
    w = worker(store, client, published, coalesce_max_entries=4)
    await asyncio.gather(*(w.handle(s, entries(s, b"ok", b"ok")) for s in ("a", "b", "c")))
    assert store.together == [["a", "b"], ["c"]]
    assert len(client.acked) == 6


async def test_a_lane_on_the_loop_stores_on_the_event_loops_thread_others_in_a_worker_thread() -> None:
    """The urgent watch's own process stores on its event loop's thread (no hand-over to a worker
    thread and back); every other lane hands its transactions to a worker thread."""
    import threading

    from hub.runtime.worker import Coalescer

    threads: list[int] = []

    def many(batches: list[tuple[str, list[Entry]]], now: datetime) -> Processed:
        threads.append(threading.get_ident())
        return Processed([e.entry_id for _, es in batches for e in es])

    for on_loop in (True, False):
        lane = Coalescer(many, None, concurrency=1, max_entries=10, on_loop=on_loop)
        done = await lane.submit("a", entries("a", b"ok"))
        assert done.ack == ["1-0"]
    assert threads[0] == threading.get_ident()  # on the loop
    assert threads[1] != threading.get_ident()  # in a worker thread
