"""On a Redis Cluster, the commands that span several streams: the urgent watch's read (one per
hash slot) and the relay's script (one per hash slot). Each test uses streams that live in
different slots on different masters, where one command over all of them fails (CROSSSLOT)."""

from __future__ import annotations

import asyncio
import json
import random
from datetime import UTC, datetime

import pytest
from redis.crc import key_slot
from sqlmodel import Session, func, select

from hub.bootstrap import running
from hub.config.settings import Settings, UrgentWatch
from hub.runtime.relay import OutboxRelay
from hub.runtime.transport import ensure_group, redis_client
from hub.schemas import streams
from hub.store.db import UnitOfWork, make_engine, migrate
from hub.store.models import Outbox, Report
from tests.factories import cloudevent, entry, planned_crime_data
from tests.integration.wire import pending_count, read_events
from tests.redis_cluster import CLUSTER

pytestmark = pytest.mark.parametrize("redis_kind", [CLUSTER])

SOURCES = ("politi-vestegn", "kongsholm-skole")  # slots 7495 and 15293: two masters of three


async def _masters(client: object, keys: list[str]) -> set[str]:
    """The masters that hold `keys` (the cluster's slot map, learnt on first use)."""
    await client.initialize()  # type: ignore[attr-defined]
    nodes = client.nodes_manager  # type: ignore[attr-defined]
    return {nodes.get_node_from_slot(key_slot(k.encode())).name for k in keys}


async def test_the_urgent_watch_alone_stores_urgent_reports_from_streams_on_different_masters(
    settings: Settings,
) -> None:
    client = redis_client(settings.redis_url or "")
    intakes = [streams.intake(s) for s in SOURCES]
    urgent = [cloudevent(s, planned_crime_data()) for s in SOURCES]
    async with running(settings.model_copy(update={"urgent_watch": UrgentWatch.ONLY})):
        assert len(await _masters(client, intakes)) == 2  # the read cannot be one command
        for intake, event in zip(intakes, urgent, strict=True):
            await client.xadd(intake, entry(event))  # type: ignore[arg-type]
        alerts = await read_events(client, streams.POLICE_ALERTS, 2)
        for intake in intakes:
            assert await pending_count(client, intake, streams.URGENT_GROUP) == 0  # NOACK
            groups = {g["name"].decode(): g for g in await client.xinfo_groups(intake)}
            assert groups[streams.INTAKE_GROUP]["last-delivered-id"] == b"0-0"  # the watch alone stored it
    assert {a["data"]["report_ref"] for a in alerts} == {
        (await read_events(client, streams.receipts(s), 1))[0]["data"]["report_ref"] for s in SOURCES
    }
    engine = make_engine(settings.effective_database_url)
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Report)).one() == 2
    engine.dispose()
    await client.aclose()


async def test_one_relay_pass_sends_rows_for_streams_in_several_slots_each_stream_in_order(
    clean_redis: str, database_url: str
) -> None:
    targets = [streams.receipts(s) for s in SOURCES] + [streams.DEADLETTER]
    migrate(database_url)
    engine = make_engine(database_url)
    now = datetime.now(UTC)
    with UnitOfWork(engine) as uow:
        for i in range(60):  # interleaved: every pass holds rows of every stream
            stream = targets[i % len(targets)]
            uow.session.add(Outbox(stream=stream, event={"specversion": "1.0", "id": f"row-{i}"}, created_at=now))
        uow.commit()
    client = redis_client(clean_redis)
    assert len(await _masters(client, targets)) >= 2
    relay = OutboxRelay(engine, client, batch=100, interval_s=0.05)
    assert await relay.relay_once() == 60  # one pass, one script per slot
    for n, stream in enumerate(targets):
        ids = [json.loads(f[b"event"])["id"] for _, f in await client.xrange(stream)]
        assert ids == [f"row-{i}" for i in range(n, 60, len(targets))]
    await client.aclose()
    engine.dispose()


async def test_a_cancelled_blocking_read_on_the_cluster_ends(clean_redis: str) -> None:
    """The hub's readers (and FastStream's) end at shutdown by cancellation. With redis-py's
    default socket timeout on the cluster client, Python 3.11 loses some cancellations of a
    blocking read (they meet the timeout's own machinery) and the reader never ends."""
    client = redis_client(clean_redis)
    keys = [f"hub.test.cancel{n}.v1" for n in range(12)]  # several slots, several masters
    for key in keys:
        await ensure_group(client, key, "g")

    async def read_forever(key: str) -> None:
        while True:
            await client.xreadgroup("g", "c", {key: ">"}, count=10, block=20, noack=True)

    for _ in range(20):  # each round cancels 12 readers at random points of their reads
        readers = [asyncio.create_task(read_forever(k)) for k in keys]
        await asyncio.sleep(random.uniform(0.05, 0.3))
        for reader in readers:
            reader.cancel()
        _, still_reading = await asyncio.wait(readers, timeout=2)
        for reader in still_reading:
            reader.cancel()  # let the test end
        assert not still_reading, f"{len(still_reading)} of {len(readers)} readers ignored their cancellation"
    await client.aclose()
