"""Batches of several streams stored in one transaction, and kept apart when it fails."""

from __future__ import annotations

import asyncio
from datetime import datetime

from hub.schemas.entry import Entry
from hub.services.pipeline import Outcome
from tests.fakes import FakeRedis, Store, entries, worker


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
    assert ("a", 1) in store.alone  # a's batch split until the bad entry was alone
    # The bad entry, alone, is answered at once: set aside (dead-lettered) and acked with the rest.
    assert store.given_up == [("a", "1-1", "processing_failed")]
    assert sorted(client.acked) == [("a", "1-0"), ("a", "1-1"), ("b", "1-0"), ("b", "1-1")]


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

    def many(batches: list[tuple[str, list[Entry]]], now: datetime) -> Outcome:
        threads.append(threading.get_ident())
        return Outcome([e.entry_id for _, es in batches for e in es])

    for on_loop in (True, False):
        lane = Coalescer(many, None, concurrency=1, max_entries=10, on_loop=on_loop)
        done = await lane.submit("a", entries("a", b"ok"))
        assert done.ack == ["1-0"]
    assert threads[0] == threading.get_ident()  # on the loop
    assert threads[1] != threading.get_ident()  # in a worker thread
