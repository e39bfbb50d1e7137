"""A worker publishes its committed batch's events itself; the relay is the safety net.

On both databases: the ids `RowBatch` hands back are the stored rows' ids, in order, with the
exact stored text; the relay leaves such rows alone for the grace period and marks them sent
once published; rows whose worker never published them are relayed once the grace is over.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
import redis.asyncio as aredis
from sqlalchemy import Text, cast
from sqlmodel import Session, col, select

from hub.runtime.relay import OutboxRelay
from hub.services.deadlines import DeadlineScheduler
from hub.store.bulk import OutboxRow
from hub.store.db import JsonText, UnitOfWork, make_engine, migrate
from hub.store.models import Outbox
from hub.store.rows import RowBatch

STREAMS = ("hub.test.publish.a.v1", "hub.test.publish.b.v1")


def _write_batch(database_url: str, now: datetime, grace: timedelta, n: int) -> list[OutboxRow]:
    engine = make_engine(database_url)
    with UnitOfWork(engine) as uow:
        rows = RowBatch(now, grace)
        for i in range(n):
            event = {"specversion": "1.0", "id": f"ev-{i}", "data": {"navn": "Åse Ærø", "i": i}}
            rows.outbox(STREAMS[i % 2], event if i % 3 else JsonText(json.dumps(event, ensure_ascii=False)))
        rows.write(uow.session)
        uow.commit()
    engine.dispose()
    return rows.published


def _stored(database_url: str) -> list[tuple[int, str, str]]:
    engine = make_engine(database_url)
    with Session(engine) as s:
        query = select(Outbox.id, Outbox.stream, cast(Outbox.event, Text)).order_by(col(Outbox.id))
        stored = [(i, st, ev) for i, st, ev in s.exec(query) if i is not None]
    engine.dispose()
    return stored


def _unsent(database_url: str) -> int:
    engine = make_engine(database_url)
    with Session(engine) as s:
        n = len(list(s.exec(select(Outbox.id).where(col(Outbox.sent_at).is_(None)))))
    engine.dispose()
    return n


async def _lengths(client: aredis.Redis) -> list[int]:
    return [await client.xlen(s) for s in STREAMS]


async def test_a_batch_publishes_its_own_rows_and_the_relay_only_marks_them(
    clean_redis: str, database_url: str
) -> None:
    migrate(database_url)
    published = _write_batch(database_url, datetime.now(UTC), timedelta(seconds=60), 7)
    assert published == _stored(database_url)  # ids, streams and the exact stored text, in order

    engine, client = make_engine(database_url), aredis.Redis.from_url(clean_redis)
    relay = OutboxRelay(engine, client, batch=100, interval_s=0.05)
    assert await relay.relay_once() == 0  # within the grace: the worker's, not the relay's
    assert await _lengths(client) == [0, 0]

    await relay.publish(published)
    assert await _lengths(client) == [4, 3]
    first = (await client.xrange(STREAMS[0], count=1))[0][1][b"event"].decode()
    assert first == published[0][2]
    assert await relay.relay_once() == 0 and _unsent(database_url) == 0  # marked, not sent again
    assert (relay.sent_total, relay.published_total) == (0, 7)
    await client.aclose()
    engine.dispose()


async def test_rows_a_worker_never_published_are_relayed_after_the_grace(clean_redis: str, database_url: str) -> None:
    migrate(database_url)
    grace = timedelta(seconds=2)
    _write_batch(database_url, datetime.now(UTC) - timedelta(seconds=5), grace, 5)  # grace over
    _write_batch(database_url, datetime.now(UTC), timedelta(seconds=60), 4)  # grace running

    engine, client = make_engine(database_url), aredis.Redis.from_url(clean_redis)
    relay = OutboxRelay(engine, client, batch=100, interval_s=0.05)
    await relay.drain(timeout_s=10)
    assert relay.sent_total == 5 and await _lengths(client) == [3, 2]
    assert _unsent(database_url) == 4  # left to their worker until their grace is over
    await client.aclose()
    engine.dispose()


async def test_publishes_are_marked_together_and_rows_nobody_publishes_are_relayed(
    clean_redis: str, database_url: str
) -> None:
    """A worker's publish does not wake the relay at once: a pass within `MARK_WITHIN_S` marks its
    rows sent together with every other publish since (a pass per publish was a transaction
    per batch, per decision, per urgent report). Rows that nobody publishes (another
    process's, a grace that ran out) are looked for every `interval_s`, and at once when a
    transaction says it left some (`rows_left`)."""
    migrate(database_url)
    engine, client = make_engine(database_url), aredis.Redis.from_url(clean_redis)

    async def write(at: datetime, grace: timedelta, count: int) -> list[OutboxRow]:
        # In a thread, as a worker writes: on the loop, a write waiting for SQLite's lock would
        # stop the loop the relay sends on while it holds that lock.
        return await asyncio.to_thread(_write_batch, database_url, at, grace, count)

    relay = OutboxRelay(engine, client, batch=100, interval_s=0.5)
    passes = 0
    mark_and_look = relay._mark_and_look

    def counted(published: list[int], look: bool) -> bool:
        nonlocal passes
        passes += 1
        return mark_and_look(published, look)

    relay._mark_and_look = counted  # type: ignore[method-assign]
    runner = asyncio.create_task(relay.run())
    try:
        await asyncio.sleep(0.2)  # the first pass (a look) is over
        await write(datetime.now(UTC) - timedelta(seconds=5), timedelta(seconds=1), 3)  # unpublished
        batches = [await write(datetime.now(UTC), timedelta(seconds=60), 1) for _ in range(10)]
        waking, before = time.monotonic(), passes
        for batch in batches:  # ten publishes within about 100 ms
            await relay.publish(batch)
            await asyncio.sleep(0.01)
        while (relay.sent_total < 3 or _unsent(database_url)) and time.monotonic() - waking < 3:
            await asyncio.sleep(0.05)
        assert relay.sent_total == 3, "rows nobody publishes were not relayed"
        assert _unsent(database_url) == 0 and relay.published_total == 10
        assert time.monotonic() - waking < 1.5
        assert passes - before <= 3, f"{passes - before} passes for 10 publishes: one each?"
    finally:
        await _stop(runner)

    relay = OutboxRelay(engine, client, batch=100, interval_s=30)  # no look falls due in this test
    runner = asyncio.create_task(relay.run())
    try:
        await asyncio.sleep(0.2)
        await write(datetime.now(UTC) - timedelta(seconds=5), timedelta(seconds=1), 2)
        relay.rows_left()
        asked = time.monotonic()
        while relay.sent_total < 2 and time.monotonic() - asked < 3:
            await asyncio.sleep(0.01)
        assert relay.sent_total == 2 and time.monotonic() - asked < 1
    finally:
        await _stop(runner)
        await client.aclose()
        engine.dispose()


async def test_a_relay_that_does_not_look_marks_what_it_published_and_sends_only_when_told(
    clean_redis: str, database_url: str
) -> None:
    """The urgent watch's own process (`looks=False`): its passes mark the rows it published,
    and rows nobody publishes wait for the relays that look, unless a transaction says it
    left some (`rows_left`)."""
    migrate(database_url)
    engine, client = make_engine(database_url), aredis.Redis.from_url(clean_redis)
    relay = OutboxRelay(engine, client, batch=100, interval_s=30, looks=False)  # marked within MARK_WITHIN_S
    runner = asyncio.create_task(relay.run())
    try:
        await asyncio.sleep(0.2)  # its first pass (a look, as at every start) is over
        await asyncio.to_thread(
            _write_batch, database_url, datetime.now(UTC) - timedelta(seconds=5), timedelta(seconds=1), 3
        )
        published = await asyncio.to_thread(_write_batch, database_url, datetime.now(UTC), timedelta(seconds=60), 2)
        await relay.publish(published)
        await asyncio.sleep(0.5)
        assert relay.sent_total == 0 and _unsent(database_url) == 3, "it looked, or did not mark"
        relay.rows_left()
        asked = time.monotonic()
        while relay.sent_total < 3 and time.monotonic() - asked < 3:
            await asyncio.sleep(0.01)
        assert relay.sent_total == 3 and _unsent(database_url) == 0
    finally:
        await _stop(runner)
        await client.aclose()
        engine.dispose()


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # psycopg's prepared statements
async def test_looks_that_find_nothing_keep_the_connections_prepared_statements(
    clean_redis: str, database_url: str
) -> None:
    """The relay looks for unsent rows every interval and the deadline scheduler for due clocks,
    in every process, usually finding nothing. They end with a COMMIT: psycopg answers a
    ROLLBACK with DEALLOCATE ALL, and the pooled connection's next bulk transactions would then
    prepare their INSERTs again."""
    migrate(database_url)
    engine, client = make_engine(database_url), aredis.Redis.from_url(clean_redis)

    def prepared() -> tuple[int, int]:
        """The pooled connection's backend and how many statements it has prepared."""
        with engine.connect() as conn:
            pid, n = conn.exec_driver_sql(
                "SELECT pg_backend_pid(), (SELECT count(*) FROM pg_prepared_statements)"
            ).one()
            conn.commit()
            return pid, n

    with engine.connect() as conn:  # prepared as the bulk inserts are: after a few executions
        for i in range(8):
            conn.exec_driver_sql("SELECT %(i)s::int", {"i": i})
        conn.commit()
    backend, before = prepared()
    assert before >= 1

    relay = OutboxRelay(engine, client, batch=100, interval_s=0.05)
    assert await relay.relay_once(look=True) == 0  # nothing unsent
    DeadlineScheduler(engine).tick(datetime.now(UTC))  # nothing due
    assert prepared() == (backend, before)  # the same connection, its statements kept
    await client.aclose()
    engine.dispose()
