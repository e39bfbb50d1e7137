"""The hub's metrics (`hub.metrics`) count what real traffic did, with labels free of personal data."""

from __future__ import annotations

import redis.asyncio as aredis
from prometheus_client import REGISTRY, generate_latest

from hub.schemas import streams
from tests.factories import CHILD_NAME, cloudevent, entry, report_data
from tests.integration.wire import read_events

SCHOOL = "herstedlund-skole"


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_accepted_and_refused_entries_are_counted_by_kind_outcome_and_code(hub) -> None:
    accepted = sample("hub_entries_total", kind="intake", outcome="accepted")
    rejected = sample("hub_entries_total", kind="intake", outcome="rejected")
    bad_json = sample("hub_rejections_total", kind="intake", code="invalid_json")
    school = aredis.Redis.from_url(hub.redis_url)
    good = report_data()
    await school.xadd(streams.intake(SCHOOL), entry(cloudevent(SCHOOL, good)))
    await school.xadd(streams.intake(SCHOOL), {"event": '{"specversion": "1.0", "id": '})
    await read_events(school, streams.receipts(SCHOOL), 2)
    await school.aclose()

    assert sample("hub_entries_total", kind="intake", outcome="accepted") == accepted + 1
    assert sample("hub_entries_total", kind="intake", outcome="rejected") == rejected + 1
    assert sample("hub_rejections_total", kind="intake", code="invalid_json") == bad_json + 1
    exported = generate_latest(REGISTRY).decode()
    assert "hub_entries_total" in exported
    assert good["subject"]["cpr"] not in exported and CHILD_NAME not in exported
