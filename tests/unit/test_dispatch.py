"""Intake reads ahead: a stream's next batches are admitted while earlier ones are stored (a
bounded number); the urgent watch stores an urgent entry while intake batches wait; triage
decisions go before waiting intake."""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime
from typing import Any

from hub.runtime.worker import Gate
from hub.schemas.entry import Entry
from hub.services.pipeline import Outcome
from tests.fakes import FakeRedis, Store, entries, lone_worker, worker


class SlowStore(Store):
    """Transactions wait until `go` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.go = threading.Event()
        self.waiting = threading.Event()
        self.started: list[list[str]] = []  # the streams of each transaction, as it starts

    def process_many(self, batches: list[tuple[str, list[Entry]]], now: datetime, **_: Any) -> Outcome:
        self.started.append([stream for stream, _ in batches])
        self.waiting.set()
        assert self.go.wait(10), "never released"
        return super().process_many(batches, now)


def is_urgent(entry: Entry) -> bool:
    return entry.fields.get(b"event") == b"urgent"


async def until(condition: Any, timeout_s: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


class GroupRedis(FakeRedis):
    """Records each ack with its consumer group."""

    def __init__(self) -> None:
        super().__init__()
        self.by_group: list[tuple[str, str, str]] = []

    async def xack(self, stream: str, group: str, *ids: str) -> int:
        self.by_group += [(group, stream, i) for i in ids]
        return await super().xack(stream, group, *ids)

    def pipeline(self, transaction: bool = True) -> GroupRedis.Pipeline:
        return GroupRedis.Pipeline(self)

    class Pipeline:
        def __init__(self, client: GroupRedis) -> None:
            self.client, self.calls = client, []  # type: ignore[var-annotated]

        def xack(self, stream: str, group: str, *ids: str) -> None:
            self.calls.append((stream, group, ids))

        async def execute(self) -> list[int]:
            return [await self.client.xack(s, g, *ids) for s, g, ids in self.calls]


async def test_the_urgent_watch_stores_an_urgent_entry_while_intake_waits_and_leaves_the_rest() -> None:
    store, client = SlowStore(), GroupRedis()
    intake = worker(store, client, [], batches_in_flight=4, coalesce_concurrency=1)
    await intake.dispatch("school", entries("school", b"ok"))  # its transaction waits
    await until(store.waiting.is_set)
    stored: list[list[str]] = []
    priority_held: list[bool] = []

    def store_urgent(stream: str, batch: list[Entry], now: datetime) -> Outcome:
        stored.append([e.entry_id for e in batch])
        priority_held.append(not gate._clear.is_set())
        return Outcome([e.entry_id for e in batch])

    gate = Gate()
    watch = lone_worker("urgent_watch", "urgent", client, store_urgent, urgent=is_urgent, gate=gate, noack=True)
    await asyncio.wait_for(watch.watch([("police", entries("police", b"ok", b"urgent"))]), 5)
    await asyncio.wait_for(watch.finish(), 5)  # stored in the background, ahead of the waiting batch
    assert stored == [["1-1"]]  # only the urgent entry, though the intake group's batch waits
    assert priority_held == [True]  # bulk transactions of the process waited meanwhile
    # The watch reads with NOACK: the ordinary entry is not stored by it, and it acks nothing
    # (an ack would find nothing pending: a round trip for nothing).
    assert [a for a in client.by_group if a[0] == "urgent"] == []
    assert [a for a in client.by_group if a[0] == "g"] == []
    store.go.set()
    await intake.finish()
    assert [a for a in client.by_group if a[0] == "g"] == [("g", "school", "1-0")]


async def test_a_stream_has_at_most_batches_in_flight_admitted_others_are_not_held_up() -> None:
    store, client = SlowStore(), FakeRedis()
    w = worker(store, client, [], batches_in_flight=2, coalesce_concurrency=1)
    for n in range(2):
        await asyncio.wait_for(w.dispatch("a", [Entry("a", f"{n}-0", {b"event": b"ok"})]), 1)
    third = asyncio.create_task(w.dispatch("a", [Entry("a", "2-0", {b"event": b"ok"})]))
    await asyncio.sleep(0.2)
    assert not third.done()  # the subscriber does not read on: the entries wait in Redis
    await asyncio.wait_for(w.dispatch("b", entries("b", b"ok")), 1)  # another stream is admitted
    store.go.set()
    await asyncio.wait_for(third, 5)
    await w.finish()
    assert sorted(client.acked) == [("a", "0-0"), ("a", "1-0"), ("a", "2-0"), ("b", "1-0")]


async def test_a_streams_batches_are_committed_in_the_order_they_were_read() -> None:
    store, client = SlowStore(), FakeRedis()
    # max_entries=2: a one-entry batch is backlog enough for a transaction beside the first
    w = worker(store, client, [], batches_in_flight=4, coalesce_concurrency=2, coalesce_max_entries=2)
    await w.dispatch("a", [Entry("a", "1-0", {b"event": b"ok"})])
    await until(store.waiting.is_set)  # a's first batch is in a transaction, which waits
    await w.dispatch("a", [Entry("a", "2-0", {b"event": b"ok"})])
    await w.dispatch("b", [Entry("b", "1-0", {b"event": b"ok"})])
    await until(lambda: len(store.started) == 2)
    assert store.started == [["a"], ["b"]]  # the second transaction left a's next batch waiting
    store.go.set()
    await w.finish()
    assert store.started == [["a"], ["b"], ["a"]]
    assert sorted(client.acked) == [("a", "1-0"), ("a", "2-0"), ("b", "1-0")]


async def test_a_second_transaction_starts_beside_the_first_only_for_a_backlog() -> None:
    """Under a steady trickle what arrives while a transaction runs waits for the next one,
    with everything else that arrives meanwhile; a backlog (half a transaction's worth) gets
    a transaction of its own at once, so a burst keeps the database and the core both busy."""
    store, client = SlowStore(), FakeRedis()
    w = worker(store, client, [], batches_in_flight=4, coalesce_concurrency=2, coalesce_max_entries=20)
    await w.dispatch("a", [Entry("a", "1-0", {b"event": b"ok"})])
    await until(store.waiting.is_set)
    await w.dispatch("b", [Entry("b", f"{n}-0", {b"event": b"ok"}) for n in range(3)])
    await w.dispatch("c", [Entry("c", "1-0", {b"event": b"ok"})])
    await asyncio.sleep(0.1)
    assert store.started == [["a"]]  # b and c wait for the running drain's next transaction
    await w.dispatch("d", [Entry("d", f"{n}-0", {b"event": b"ok"}) for n in range(6)])  # 10 waiting
    await until(lambda: len(store.started) == 2)
    assert store.started == [["a"], ["b", "c", "d"]]  # a backlog: a transaction beside the first
    store.go.set()
    await w.finish()
    assert len(client.acked) == 11


async def test_bulk_transactions_wait_while_priority_work_runs_but_not_for_ever() -> None:
    loop = asyncio.get_running_loop()
    gate = Gate(max_wait_s=0.3)
    started = loop.time()
    await gate.bulk_turn()
    assert loop.time() - started < 0.1  # nothing has priority: at once
    async with gate.priority():
        started = loop.time()
        await gate.bulk_turn()
        assert 0.25 <= loop.time() - started < 2  # waited, up to the bound
    done = asyncio.Event()

    async def priority_work() -> None:
        async with gate.priority():
            await done.wait()

    task = asyncio.create_task(priority_work())
    await asyncio.sleep(0.01)
    turn = asyncio.create_task(gate.bulk_turn())
    await asyncio.sleep(0.1)
    assert not turn.done()
    done.set()
    await asyncio.wait_for(turn, 0.1)  # goes as soon as the priority work ends
    await task


async def test_a_triage_decision_is_stored_before_the_intake_batches_waiting() -> None:
    gate = Gate(max_wait_s=10)
    order: list[str] = []
    decision_started, decision_go = threading.Event(), threading.Event()

    def decide(stream: str, batch: list[Entry], now: datetime) -> Outcome:
        order.append("decision")
        decision_started.set()
        assert decision_go.wait(10)
        return Outcome([e.entry_id for e in batch])

    def intake(batches: list[tuple[str, list[Entry]]], now: datetime) -> Outcome:
        order.append("intake")
        return Outcome([e.entry_id for _, es in batches for e in es])

    client = FakeRedis()
    store = Store()
    store.process_many = lambda batches, now, **_: intake(batches, now)  # type: ignore[method-assign]
    bulk = worker(store, client, [], gate=gate)
    decisions = lone_worker("decisions", "g", client, decide, gate=gate, priority=True)
    deciding = asyncio.create_task(decisions.handle("decisions", entries("decisions", b"d")))
    await until(decision_started.is_set)
    storing = asyncio.create_task(bulk.handle("school", entries("school", b"ok")))
    await asyncio.sleep(0.2)
    assert order == ["decision"]  # the intake transaction has not started
    decision_go.set()
    await asyncio.wait_for(asyncio.gather(deciding, storing), 5)
    assert order == ["decision", "intake"]


async def test_the_urgent_watch_reads_all_streams_at_once_and_outlives_failures() -> None:
    """One XREADGROUP over every stream, without acks; a Redis error or a failing batch does not
    end the loop."""
    from redis.exceptions import ConnectionError as RedisConnectionError

    from hub.runtime.worker import Reading, read_forever

    replies: list[Any] = [
        RedisConnectionError("gone for a moment"),
        [(b"a", [(b"1-0", {b"event": b"urgent"})]), (b"b", [(b"1-0", {b"event": b"ok"}), (b"2-0", None)])],
        [(b"a", [(b"2-0", {b"event": b"urgent"})])],  # its transaction fails: left to intake
        [(b"b", [(b"3-0", {b"event": b"urgent"})])],
    ]
    read_from: list[dict[str, str]] = []
    options: list[dict[str, Any]] = []

    class ReadRedis(GroupRedis):
        async def xreadgroup(self, group: str, consumer: str, streams: dict[str, str], **kw: Any) -> Any:
            read_from.append(streams)
            options.append(kw)
            if not replies:
                await asyncio.sleep(3600)
            reply = replies.pop(0)
            if isinstance(reply, Exception):
                raise reply
            return reply

    client = ReadRedis()
    stored: list[tuple[str, str]] = []

    def store(stream: str, batch: list[Entry], now: datetime) -> Outcome:
        if any(e.entry_id == "2-0" for e in batch):
            raise RuntimeError("cannot store this one")
        stored.extend((stream, e.entry_id) for e in batch)
        return Outcome([e.entry_id for e in batch])

    watch = lone_worker("urgent_watch", "urgent", client, store, urgent=is_urgent, noack=True)
    reading = Reading("urgent_watch", watch.group, watch.consumer, count=10, block_ms=5, noack=True)
    task = asyncio.create_task(read_forever(client, ["a", "b"], reading, watch.watch))
    try:
        await until(lambda: ("b", "3-0") in stored)
        await asyncio.wait_for(watch.finish(), 5)
    finally:
        task.cancel()
    assert read_from[0] == {"a": ">", "b": ">"}  # every stream in one read
    assert all(kw.get("noack") is True for kw in options)  # nothing waits in the watch's pending list
    assert stored == [("a", "1-0"), ("b", "3-0")]
    # No acks (nothing is pending under NOACK); the ordinary entry, the deleted one and
    # ("a", "2-0"), which failed to store, are left to the intake group.
    assert client.by_group == []
