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


async def test_a_second_transaction_starts_only_for_a_backlog() -> None:
    """Up to `concurrency` transactions at a time, but a second only once `spread_at` entries
    wait: under a steady load one transaction at a time stores what arrived meanwhile (a
    transaction's fixed cost paid once for them), in a burst two overlap."""
    import threading

    from hub.runtime.worker import Coalescer

    release = threading.Event()
    running, most = 0, 0
    lock = threading.Lock()
    sizes: list[int] = []

    def many(batches: list[tuple[str, list[Entry]]], now: datetime) -> Outcome:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        release.wait(5)
        with lock:
            running -= 1
        sizes.append(sum(len(es) for _, es in batches))
        return Outcome([e.entry_id for _, es in batches for e in es])

    lane = Coalescer(many, None, concurrency=2, max_entries=4, spread_at=4)
    first = asyncio.create_task(lane.submit("a", entries("a", b"ok")))
    await asyncio.sleep(0.05)  # in its transaction
    trickle = [asyncio.create_task(lane.submit(s, entries(s, b"ok"))) for s in ("b", "c")]
    await asyncio.sleep(0.05)
    assert most == 1  # two entries waiting: no second transaction beside the first
    backlog = [asyncio.create_task(lane.submit(s, entries(s, b"ok", b"ok"))) for s in ("d", "e")]
    await asyncio.sleep(0.05)
    assert most == 2  # six waiting: a second transaction started
    release.set()
    await asyncio.gather(first, *trickle, *backlog)
    assert sorted(sizes) == [1, 2, 4]  # a; then the six waiting in two (at most four each)


async def test_without_a_backlog_a_transaction_starts_at_most_once_a_linger() -> None:
    """A steady trickle is stored in transactions at most `linger_s` apart, each holding what
    arrived meanwhile, however fast each one is; a backlog does not wait."""
    from hub.runtime.worker import Coalescer

    taken: list[tuple[float, list[str]]] = []
    loop = asyncio.get_running_loop()

    def many(batches: list[tuple[str, list[Entry]]], now: datetime) -> Outcome:
        taken.append((loop.time(), [s for s, _ in batches]))
        return Outcome([e.entry_id for _, es in batches for e in es])

    lane = Coalescer(many, None, concurrency=1, max_entries=100, spread_at=4, linger_s=0.3)
    await lane.submit("a", entries("a", b"ok"))  # the first at once
    trickle = []
    for s in ("b", "c", "d"):  # one entry every 50 ms
        trickle.append(asyncio.create_task(lane.submit(s, entries(s, b"ok"))))
        await asyncio.sleep(0.05)
    await asyncio.gather(*trickle)
    assert [streams for _, streams in taken] == [["a"], ["b", "c", "d"]]
    assert taken[1][0] - taken[0][0] >= 0.29  # not before the linger was over
    started = loop.time()
    await asyncio.gather(*(lane.submit(s, entries(s, b"ok", b"ok")) for s in ("e", "f")))  # a backlog
    assert taken[2][0] - started < 0.2 and taken[2][1] == ["e", "f"]  # at once
