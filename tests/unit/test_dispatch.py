"""Intake reads ahead: a stream's next batches are admitted while earlier ones are stored (a
bounded number), and an entry flagged as urgent is stored ahead of the batches waiting."""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime
from typing import Any

from hub.transport import Entry
from hub.worker import Gate, Processed, StreamWorker
from tests.unit.test_coalescer import FakeRedis, Store, entries, worker


class SlowStore(Store):
    """Ordinary transactions wait until `go` is set; those holding an urgent entry do not."""

    def __init__(self) -> None:
        super().__init__()
        self.go = threading.Event()
        self.waiting = threading.Event()
        self.started: list[list[str]] = []  # the streams of each transaction, as it starts

    def many(self, batches: list[tuple[str, list[Entry]]], now: datetime) -> Processed:
        self.started.append([stream for stream, _ in batches])
        if not any(is_urgent(e) for _, es in batches for e in es):
            self.waiting.set()
            assert self.go.wait(10), "never released"
        return super().many(batches, now)


def is_urgent(entry: Entry) -> bool:
    return entry.fields[b"event"] == b"urgent"


async def until(condition: Any, timeout_s: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def test_an_urgent_entry_is_stored_and_acked_ahead_of_the_batches_waiting() -> None:
    store, client = SlowStore(), FakeRedis()
    w = worker(store, client, [], urgent=is_urgent, batches_in_flight=4, coalesce_concurrency=1)
    await w.dispatch("school", entries("school", b"ok", b"ok"))  # admitted; its transaction waits
    await until(store.waiting.is_set)
    await w.dispatch("police", entries("police", b"ok", b"urgent"))
    await until(lambda: ("police", "1-1") in client.acked)
    assert ("school", "1-0") not in client.acked and ("police", "1-0") not in client.acked
    store.go.set()
    await w.finish()  # the batches in progress end before the hub stops
    assert sorted(client.acked) == [("police", "1-0"), ("police", "1-1"), ("school", "1-0"), ("school", "1-1")]


async def test_a_stream_has_at_most_batches_in_flight_admitted_others_are_not_held_up() -> None:
    store, client = SlowStore(), FakeRedis()
    w = worker(store, client, [], urgent=is_urgent, batches_in_flight=2, coalesce_concurrency=1)
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
    w = worker(store, client, [], batches_in_flight=4, coalesce_concurrency=2)
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

    def decide(stream: str, batch: list[Entry], now: datetime) -> Processed:
        order.append("decision")
        decision_started.set()
        assert decision_go.wait(10)
        return Processed([e.entry_id for e in batch])

    def intake(batches: list[tuple[str, list[Entry]]], now: datetime) -> Processed:
        order.append("intake")
        return Processed([e.entry_id for _, es in batches for e in es])

    client = FakeRedis()
    store = Store()
    store.many = intake  # type: ignore[method-assign]
    bulk = worker(store, client, [], gate=gate)
    decisions = StreamWorker(
        name="decisions",
        group="g",
        consumer="c",
        client=client,  # type: ignore[arg-type]
        engine=None,  # type: ignore[arg-type]
        process=decide,
        max_deliveries=5,
        on_commit=lambda: None,
        gate=gate,
        priority=True,
    )
    deciding = asyncio.create_task(decisions.handle("decisions", entries("decisions", b"d")))
    await until(decision_started.is_set)
    storing = asyncio.create_task(bulk.handle("school", entries("school", b"ok")))
    await asyncio.sleep(0.2)
    assert order == ["decision"]  # the intake transaction has not started
    decision_go.set()
    await asyncio.wait_for(asyncio.gather(deciding, storing), 5)
    assert order == ["decision", "intake"]
