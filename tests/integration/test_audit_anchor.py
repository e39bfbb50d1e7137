"""The audit chain's head is published to `hub.audit.anchor.v1` by `hub serve` (regularly, only
when it moved) and by `hub audit anchor`; the event is the catalogue's `audit.anchored`."""

from __future__ import annotations

import asyncio

import orjson
import redis.asyncio as aredis
from typer.testing import CliRunner

from hub.bootstrap import running
from hub.config.settings import Settings
from hub.entrypoints.cli import app
from hub.runtime import periodic
from hub.schemas import streams
from hub.schemas.catalogue import json_schema
from hub.schemas.events import AUDIT_ANCHORED
from hub.services.audit import chain_head, last_anchor
from tests.factories import cloudevent, entry, planned_crime_data
from tests.integration.wire import read_events

SCHOOL = "herstedlund-skole"


async def _anchors(client: aredis.Redis) -> list[dict[str, object]]:
    return [orjson.loads(f[b"event"]) for _, f in await client.xrange(streams.AUDIT_ANCHOR)]


async def test_serve_publishes_the_head_when_it_moved(settings: Settings) -> None:
    settings = settings.model_copy(update={"audit_anchor_interval_s": 0.1})
    async with running(settings) as hub:
        client = aredis.Redis.from_url(hub.redis_url)
        await client.xadd(streams.intake(SCHOOL), entry(cloudevent(SCHOOL, planned_crime_data())))
        await read_events(client, streams.POLICE_ALERTS, 1)  # a disclosure: the chain has a head
        head = chain_head(hub.engine)
        assert head is not None
        for _ in range(100):
            if await last_anchor(client) == head:
                break
            await asyncio.sleep(0.05)
        anchors = await _anchors(client)
        assert anchors[-1]["type"] == AUDIT_ANCHORED
        assert anchors[-1]["data"] == {"seq": head.seq, "hash": head.hash}
        assert set(anchors[-1]) <= set(json_schema(AUDIT_ANCHORED)["properties"])
        await asyncio.sleep(0.3)  # rounds go by, the head did not move: nothing new
        assert len(await _anchors(client)) == len(anchors) == 1
        await periodic.anchor_once(client, hub.engine)
        assert len(await _anchors(client)) == 1
        env = {"HUB_REDIS_URL": settings.redis_url or "", "HUB_DATABASE_URL": settings.database_url or "",
               "HUB_DATA_DIR": str(settings.data_dir), "HUB_LOG_LEVEL": "WARNING"}  # fmt: skip
        result = await asyncio.to_thread(CliRunner().invoke, app, ["audit", "anchor"], env=env)
        assert result.exit_code == 0, result.output
        assert "var allerede det nyeste anker" in result.output
        await client.aclose()
