"""The stream catalogue against a running hub: every stream the hub really writes is in it, the
groups it names are created at start-up, and entries deleted before the hub read them are logged."""

from __future__ import annotations

import asyncio
import time

import pytest
import redis.asyncio as aredis
from structlog.testing import capture_logs

from hub.bootstrap import running
from hub.schemas import catalogue, streams
from hub.schemas.catalogue import HubGroup, StreamRow
from hub.schemas.report import CONCERN_REPORTED, ConcernReport
from tests.deploy.redis_server import REQUIRE_ALL
from tests.factories import cloudevent, decision, entry, planned_crime_data, report_data
from tests.integration.wire import read_events

SCHOOL = "herstedlund-skole"


async def _stream_keys(client: aredis.Redis) -> set[str]:
    keys = set()
    async for key in client.scan_iter(match="*", _type="stream"):
        keys.add(key.decode())
    return keys


async def test_every_stream_the_hub_writes_is_in_the_catalogue(hub) -> None:
    client = aredis.Redis.from_url(hub.redis_url)
    await client.xadd(streams.intake(SCHOOL), entry(cloudevent(SCHOOL, report_data())))
    await client.xadd(streams.intake(SCHOOL), entry(cloudevent(SCHOOL, planned_crime_data())))
    await client.xadd(streams.intake(SCHOOL), {"not_event": "x"})  # rejected and dead-lettered
    first, *_ = await read_events(client, streams.receipts(SCHOOL), 3)
    ref = first["data"]["report_ref"]
    await client.xadd(streams.DECISIONS, entry(decision(ref, [("ssp", "bkv"), ("ksp", "skoler")])))
    await client.xadd(streams.DECISIONS, entry(decision("no-such-report", [])))  # refused: dke-triage receipt
    await read_events(client, streams.referrals("ssp", "bkv"), 1)
    await read_events(client, streams.receipts("dke-triage"), 1)
    await hub.relay.drain()

    written = await _stream_keys(client)
    listed = set(hub.registry.catalogue().names())
    assert written <= listed, f"streams on Redis that `hub streams` does not list: {sorted(written - listed)}"
    # The scenario reached the streams this test is about, not only the intake ones.
    assert {
        "hub.receipts.dke-triage.v1",
        streams.POLICE_ALERTS,
        streams.DEADLETTER,
        streams.REFERRALS_WITHHELD,
        streams.referrals("ssp", "bkv"),
    } <= written
    await client.aclose()


async def test_the_groups_of_a_new_row_are_created_at_start(settings, monkeypatch: pytest.MonkeyPatch) -> None:
    row = StreamRow(
        pattern="hub.audit.{source}.v1",
        writer=catalogue.SOURCE,
        readers=(catalogue.HUB,),
        events=((CONCERN_REPORTED, ConcernReport),),
        summary="a made-up stream",
        groups=(HubGroup("hub-audit"),),
    )
    monkeypatch.setattr(catalogue, "STREAMS", (*catalogue.STREAMS, row))
    async with running(settings) as hub:
        for stream, group in hub.registry.catalogue().hub_groups():
            names = [g["name"].decode() for g in await hub.client.xinfo_groups(stream)]
            assert group.name in names, (stream, group.name)
        assert [g["name"] for g in await hub.client.xinfo_groups("hub.audit.kongsholm-skole.v1")] == [b"hub-audit"]


async def _require_redis7(url: str) -> None:
    """The check needs Redis 7's stream counters; the embedded Redis 6.2 has none."""
    client = aredis.Redis.from_url(url)
    version = (await client.info("server"))["redis_version"]
    await client.aclose()
    if int(str(version).split(".")[0]) < 7:
        reason = f"Redis {version}: stream counters (entries-added, entries-read) need Redis 7"
        if REQUIRE_ALL:
            pytest.fail(reason + " and HUB_TEST_REQUIRE_ALL=1")
        pytest.skip(reason)


async def _logged(logs: list[dict[str, object]], event: str, timeout_s: float = 10.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = [line for line in logs if line["event"] == event]
        if found:
            return found[0]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {event} logged in {timeout_s}s")


async def test_the_hub_logs_reports_a_source_trimmed_before_the_hub_read_them(settings) -> None:
    """XADD ... MAXLEN 1 cannot be refused to a source (see tests/deploy/test_acl.py): it is noticed."""
    await _require_redis7(settings.redis_url)
    async with running(settings):
        pass  # the hub's groups exist; then it is down while a source sends and trims
    client = aredis.Redis.from_url(settings.redis_url)
    stream = streams.intake(SCHOOL)
    for _ in range(5):
        await client.xadd(stream, entry(cloudevent(SCHOOL, report_data())))
    await client.xadd(stream, entry(cloudevent(SCHOOL, report_data())), maxlen=1, approximate=False)
    with capture_logs() as logs:
        async with running(settings):
            await read_events(client, streams.receipts(SCHOOL), 1)  # the one entry left is stored
            line = await _logged(logs, "stream.entries_deleted_unprocessed")
            await asyncio.sleep(0.5)  # a few more rounds of the check: logged once, not every round
    assert line["log_level"] == "error"
    assert (line["stream"], line["group"], line["unread"], line["pending"]) == (stream, streams.INTAKE_GROUP, 5, 0)
    assert len([x for x in logs if x["event"] == "stream.entries_deleted_unprocessed"]) == 1
    await client.aclose()
