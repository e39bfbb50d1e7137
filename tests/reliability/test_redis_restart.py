"""Redis crashes mid-stream and comes back (append-only file on): nothing accepted is lost.

A worker process reads a batch; Redis is killed (SIGKILL) while the worker is inside its
database transaction; the worker commits anyway, so its outbox rows (receipts, triage
entries) are written while Redis is down and its XACK fails. Redis restarts on the same
socket and directory and reloads its AOF. Without being restarted, the worker reconnects
(FastStream's subscriber, the relay, the reclaimer), relays the rows written during the
outage, acks the batch (its tracking rows say it is done), and reads new reports.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import redis.asyncio as aredis
from sqlmodel import col

from hub.schemas import streams
from hub.store.models import Outbox, ProcessedEntry, Report
from tests.factories import cloudevent, entry
from tests.reliability.helpers import (
    SCHOOL,
    RedisServer,
    assert_no_personal_data,
    count_rows,
    events,
    eventually,
    log_events,
    once_each,
    pending,
    personal_report,
    worker_env,
)

N = 5  # reports per phase: before the crash, in flight during it, after the restart
INTAKE = streams.intake(SCHOOL)


async def test_redis_killed_and_restarted_mid_stream_loses_nothing_and_the_worker_reconnects(
    workers: Any, database_url: str, tmp_path: Path, signal_dir: Path
) -> None:
    # As deploy/redis/redis.conf: AOF on, fsync every second. A killed Redis *process* loses
    # nothing acknowledged (the AOF is written before the reply; only the fsync is deferred).
    server = RedisServer(tmp_path / "redis", appendfsync="everysec").start()
    try:
        await _scenario(server, workers, database_url, tmp_path, signal_dir)
    finally:
        server.stop()


async def _scenario(server: RedisServer, workers: Any, database_url: str, tmp_path: Path, signal_dir: Path) -> None:
    env = worker_env(server.url, database_url, tmp_path / "data", reclaim_idle_ms=500)
    env.update({"HUB_TEST_STALL": "before_commit", "HUB_TEST_FETCH_BACKOFF_S": "0.5"})
    worker = await workers("worker", env).ready()
    client = aredis.Redis.from_url(server.url)
    cprs: list[str] = []

    def reports(first_serial: int) -> list[dict[str, Any]]:
        out = []
        for serial in range(first_serial, first_serial + N):
            data, cpr = personal_report(serial)
            cprs.append(cpr)
            out.append(cloudevent(SCHOOL, data))
        return out

    async def receipts(n: int) -> bool:
        return len(await events(client, streams.receipts(SCHOOL))) >= n

    before, during, after = reports(400), reports(500), reports(600)
    for event in before:
        await client.xadd(INTAKE, entry(event))
    await eventually(lambda: receipts(N), timeout=20, what="receipts before the crash")

    # A batch in flight: read by the worker, which stalls inside its transaction.
    (signal_dir / "arm").touch()
    pipe = client.pipeline(transaction=True)
    for event in during:
        pipe.xadd(INTAKE, entry(event))
    await pipe.execute()

    async def in_flight() -> bool:
        return await pending(client, INTAKE, streams.INTAKE_GROUP, worker.consumer) == N and worker.stalled() >= 1

    await eventually(in_flight, timeout=20, what="the worker holding the batch in an open transaction")
    await client.aclose()

    server.kill()  # SIGKILL: a crash, no shutdown save
    (signal_dir / "arm").unlink()
    (signal_dir / "release").touch()

    # The transaction commits while Redis is down: its outbox rows wait for Redis to return.
    async def committed() -> bool:
        return count_rows(database_url, Report) == 2 * N

    await eventually(committed, timeout=30, what="the batch committed while Redis is down")
    assert count_rows(database_url, Outbox, col(Outbox.sent_at).is_(None)) > 0

    # Redis stays down until each part of the worker has given up at least once (redis-py's
    # own retries are over): the reader, the XACK of the batch, the relay of its outbox rows.
    async def every_part_failed() -> bool:
        logged = log_events(worker.log())
        kinds = {e.get("event") for e in logged}
        reader = any(e.get("logger") == "hub.faststream" and e.get("exc_type") == "ConnectionError" for e in logged)
        return reader and "ack.failed" in kinds and "relay.retry" in kinds

    await eventually(every_part_failed, timeout=30, what="reader, ack and relay failing while Redis is down")

    server.start()  # same socket, same directory: the AOF is reloaded
    client = aredis.Redis.from_url(server.url)
    survived = {r["data"]["report_event_id"] for r in await events(client, streams.receipts(SCHOOL))}
    assert {e["id"] for e in before} <= survived, "receipts written before the crash were lost"
    assert await client.xlen(INTAKE) == 2 * N, "reports accepted before the crash were lost"
    for event in after:  # new reports: the subscriber must have reconnected to read them
        await client.xadd(INTAKE, entry(event))

    async def done() -> bool:
        return (
            await receipts(3 * N)
            and await pending(client, INTAKE, streams.INTAKE_GROUP) == 0
            and count_rows(database_url, Outbox, col(Outbox.sent_at).is_(None)) == 0
        )

    async def state() -> dict[str, Any]:
        return {
            "receipts": len(await events(client, streams.receipts(SCHOOL))),
            "pending": await pending(client, INTAKE, streams.INTAKE_GROUP),
            "unsent": count_rows(database_url, Outbox, col(Outbox.sent_at).is_(None)),
        }

    await eventually(done, timeout=40, what="everything processed after the restart", describe=state)

    every = before + during + after
    out = await events(client, streams.receipts(SCHOOL))
    assert len(out) == 3 * N and once_each(r["id"] for r in out)
    assert sorted(r["data"]["report_event_id"] for r in out) == sorted(e["id"] for e in every)
    triage = [t for q in streams.Queue for t in await events(client, streams.triage(q))]
    assert len(triage) == 3 * N and once_each(t["data"]["report_ref"] for t in triage)
    assert count_rows(database_url, Report) == 3 * N
    assert count_rows(database_url, ProcessedEntry) == 3 * N
    assert await events(client, streams.DEADLETTER) == []

    # The worker came back from all of that without a restart; its own reclaimer acked the batch.
    assert "reclaim.done" in {e.get("event") for e in log_events(worker.log())}
    assert worker.proc is not None and worker.proc.poll() is None
    assert_no_personal_data(worker.log(), cprs, must_contain=["hub.started", "intake.batch"])
    await client.aclose()
