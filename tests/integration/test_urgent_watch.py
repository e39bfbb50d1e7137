"""The urgent watch: a second consumer group on every intake stream that stores planned-crime
reports (Straffeloven § 141) as they arrive, whatever waits ahead of them. `hub serve` runs it
in a process of its own when it runs more than one (here: a hub of its own in the test).

Real Redis and both databases: the watch alone stores the urgent report and leaves the others
(it reads with NOACK: nothing waits in its pending list); the intake group then stores every
report once, the urgent one not again (one receipt, one alert); an urgent report written
behind a backlog in its own stream reaches the police before the backlog is stored; and one
the watch read but never stored (its process died) is stored by the intake group.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import pytest
import redis.asyncio as aredis
from sqlmodel import Session, func, select

from hub.bootstrap import running
from hub.config.settings import Settings, UrgentWatch
from hub.logs import configure
from hub.schemas import streams
from hub.store.db import make_engine
from hub.store.models import ProcessedEntry, Report
from tests.factories import cloudevent, entry, planned_crime_data, report_data
from tests.integration.wire import pending_count, read_events, stream_events
from tests.logcapture import LogCapture

POLICE = "politi-vestegn"
INTAKE = streams.intake(POLICE)


def planned_crime() -> dict[str, Any]:
    return cloudevent(POLICE, planned_crime_data())


def ordinary() -> dict[str, Any]:
    return cloudevent(POLICE, report_data())


def _count(database_url: str, model: type[Any]) -> int:
    engine = make_engine(database_url)
    with Session(engine) as s:
        n = int(s.exec(select(func.count()).select_from(model)).one())
    engine.dispose()
    return n


async def test_the_watch_stores_only_urgent_reports_and_intake_stores_each_report_once(settings: Settings) -> None:
    client = aredis.Redis.from_url(settings.redis_url or "")
    urgent = planned_crime()
    async with running(settings.model_copy(update={"urgent_watch": UrgentWatch.ONLY})) as hub:
        assert not hub.relay.looks  # it publishes all it writes; the others' relays look
        for event in (ordinary(), urgent, ordinary()):
            await client.xadd(INTAKE, entry(event))  # type: ignore[arg-type]
        [alert] = await read_events(client, streams.POLICE_ALERTS, 1)
        [receipt] = await read_events(client, streams.receipts(POLICE), 1)
        assert await pending_count(client, INTAKE, streams.URGENT_GROUP) == 0  # NOACK: none pending
    assert receipt["data"]["report_event_id"] == urgent["id"]
    assert alert["data"]["report_ref"] == receipt["data"]["report_ref"]
    assert _count(settings.effective_database_url, Report) == 1  # the others are left to intake
    groups = {g["name"].decode(): g for g in await client.xinfo_groups(INTAKE)}
    assert groups[streams.INTAKE_GROUP]["last-delivered-id"] == b"0-0"  # nobody has read them yet

    async with running(settings.model_copy(update={"urgent_watch": UrgentWatch.OFF})) as hub:
        assert hub.relay.looks
        await read_events(client, streams.receipts(POLICE), 3)
        assert await pending_count(client, INTAKE, streams.INTAKE_GROUP) == 0
        await asyncio.sleep(0.3)  # a second receipt or alert would be published by now
    receipts = await stream_events(client, streams.receipts(POLICE))
    assert len(receipts) == 3 and len({r["data"]["report_event_id"] for r in receipts}) == 3
    assert len(await stream_events(client, streams.POLICE_ALERTS)) == 1
    assert _count(settings.effective_database_url, Report) == 3
    assert _count(settings.effective_database_url, ProcessedEntry) == 3
    await client.aclose()


@pytest.mark.parametrize("apart", [False, True], ids=["one_hub", "watch_apart"])
async def test_an_urgent_report_behind_a_backlog_in_its_own_stream_goes_first(settings: Settings, apart: bool) -> None:
    backlog = 2_000
    client = aredis.Redis.from_url(settings.redis_url or "")
    # One hub with the watch inside, or as `hub serve` runs more: the hubs, and the watch alone.
    roles = [UrgentWatch.ONLY, UrgentWatch.OFF] if apart else [UrgentWatch.INLINE]
    async with contextlib.AsyncExitStack() as hubs:
        for role in roles:
            await hubs.enter_async_context(running(settings.model_copy(update={"urgent_watch": role})))
        pipe = client.pipeline(transaction=False)
        for _ in range(backlog):
            pipe.xadd(INTAKE, entry(ordinary()))  # type: ignore[arg-type]
        pipe.xadd(INTAKE, entry(planned_crime()))  # type: ignore[arg-type]
        await pipe.execute()
        written = time.monotonic()
        await read_events(client, streams.POLICE_ALERTS, 1, timeout_s=30)
        alerted = time.monotonic() - written
        receipts_then = await client.xlen(streams.receipts(POLICE))
        await read_events(client, streams.receipts(POLICE), backlog + 1, timeout_s=120)
        stored_all = time.monotonic() - written
    # Read in the intake group's order, the alert would come after the backlog's receipts.
    assert receipts_then < backlog / 2, (receipts_then, alerted, stored_all)
    assert alerted < stored_all / 2, (alerted, stored_all)
    await client.aclose()


async def test_an_urgent_report_the_watch_read_but_never_stored_is_stored_by_intake(settings: Settings) -> None:
    """The watch only speeds urgent reports up: entries a dead watch had read are not pending
    anywhere in its group, and the intake group, which reads every entry, stores them."""
    client = aredis.Redis.from_url(settings.redis_url or "")
    await client.xgroup_create(INTAKE, streams.INTAKE_GROUP, id="0", mkstream=True)
    await client.xgroup_create(INTAKE, streams.URGENT_GROUP, id="0")
    urgent = planned_crime()
    for event in (ordinary(), urgent):
        await client.xadd(INTAKE, entry(event))  # type: ignore[arg-type]
    await client.xreadgroup(streams.URGENT_GROUP, "died", {INTAKE: ">"}, noack=True)
    async with running(settings.model_copy(update={"urgent_watch": UrgentWatch.INLINE})):
        receipts = await read_events(client, streams.receipts(POLICE), 2)
        [alert] = await read_events(client, streams.POLICE_ALERTS, 1)
        assert await pending_count(client, INTAKE, streams.INTAKE_GROUP, timeout_s=10) == 0
        await asyncio.sleep(0.3)  # a second alert would be published by now
    assert await pending_count(client, INTAKE, streams.URGENT_GROUP) == 0
    urgent_receipt = next(r for r in receipts if r["data"]["report_event_id"] == urgent["id"])
    assert alert["data"]["report_ref"] == urgent_receipt["data"]["report_ref"]
    assert len(await stream_events(client, streams.POLICE_ALERTS)) == 1
    assert _count(settings.effective_database_url, Report) == 2
    await client.aclose()


async def test_the_watch_does_not_store_again_what_the_intake_group_stored_first(settings: Settings) -> None:
    """The watch does not look before it writes (it is usually first): when the intake group was
    first, the watch's transaction fails on the tracking row and its retry, looking, stores
    nothing: one report, one receipt, one alert."""
    client = aredis.Redis.from_url(settings.redis_url or "")
    async with running(settings.model_copy(update={"urgent_watch": UrgentWatch.OFF})):
        entry_id = await client.xadd(INTAKE, entry(planned_crime()))  # type: ignore[arg-type]
        await read_events(client, streams.POLICE_ALERTS, 1)
    assert await pending_count(client, INTAKE, streams.INTAKE_GROUP) == 0
    logs = LogCapture()
    logs.attach()
    try:
        async with running(settings.model_copy(update={"urgent_watch": UrgentWatch.ONLY})):
            await asyncio.sleep(1.0)  # the watch reads the entry the intake group stored
            groups = {g["name"].decode(): g for g in await client.xinfo_groups(INTAKE)}
            assert groups[streams.URGENT_GROUP]["last-delivered-id"] == entry_id  # it did read it
    finally:
        configure(json=False, level="WARNING")
    # The retry looked and found it stored: no failed transaction, nothing set aside.
    assert '"level": "error"' not in logs.text, logs.text
    assert len(await stream_events(client, streams.POLICE_ALERTS)) == 1
    assert len(await stream_events(client, streams.receipts(POLICE))) == 1
    assert _count(settings.effective_database_url, Report) == 1
    await client.aclose()
